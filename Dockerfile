# Escalation Manager: the one production image. docker-compose.yml runs it as web (the default
# command below: gunicorn), migrate (one-shot), worker and beat (celery); see the comments there.
#
#   docker build -t escalation-manager .
#   docker run --rm -e SECRET_KEY=... -e DATABASE_URL=... -e REDIS_URL=... -p 8000:8000 escalation-manager

# --- source: the build context without what must never reach the image -----------------------
# The working tree holds a local .venv, the development database and secret key (var/) and .git.
# They are dropped here, in a stage that is not shipped, so the final image gets only the code,
# whether or not a .dockerignore exists.
FROM python:3.11-slim AS source
COPY . /src
RUN rm -rf /src/.venv /src/venv /src/var /src/.git /src/.pytest_cache \
        /src/.ruff_cache /src/.hypothesis /src/.mypy_cache /src/screenshots /src/node_modules \
    && find /src -name __pycache__ -type d -prune -exec rm -rf {} + \
    && find /src \( -name '*.pyc' -o -name '.env' -o -name '*.sqlite3' \) -delete

# --- the image ---------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# An unprivileged user runs every process; the code stays root-owned (read-only to the app).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

# WeasyPrint (PDF notice kits and SLA reports) renders with Pango; DejaVu gives it a font with
# German umlauts and the euro sign.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt /app/requirements.txt
RUN pip install -r /app/requirements.txt

COPY --from=source /src/ /app/

# Settings read everything from the environment (config/settings.py).
#   VAR_DIR      writable state (celery beat schedule); a volume in docker-compose.yml
#   STATIC_ROOT  collected static files, baked into the image below
#   WEB_CONCURRENCY  gunicorn reads it itself as its default --workers
ENV DJANGO_SETTINGS_MODULE=config.settings \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/static \
    WEB_CONCURRENCY=3

# collectstatic needs settings but no database and no secret: a throwaway SECRET_KEY keeps the
# settings from generating one into var/ (and so into the image). /srv/static is where
# docker-compose's `migrate` service publishes these files to the volume nginx serves.
RUN SECRET_KEY=collectstatic-at-build-time-only DATABASE_URL= REDIS_URL= \
        python manage.py collectstatic --noinput \
    && mkdir -p /app/var /srv/static \
    && chown app:app /app/var /srv/static

USER app

EXPOSE 8000

# No access log here: nginx in front logs every request (with the client's address); a second
# line per request from gunicorn cost about 10 % of the throughput of alert ingestion.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", "--error-logfile", "-"]
