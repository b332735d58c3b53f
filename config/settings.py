"""Settings for Escalation Manager: one module, every value from the environment, safe defaults.

Embedded default (no variables set): SQLite in WAL mode under ./var and Celery on kombu's
file-system broker, so `make run` needs no servers. Production: set DATABASE_URL and REDIS_URL.
"""

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _secret_key() -> str:
    """SECRET_KEY from the environment; otherwise one random key per installation, kept in var/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "incidents",
    "escalation",
    "escalation.changes",  # change events (nested app, label "changes")
    "escalation.maintenance",  # scheduled maintenance (nested app, label "maintenance")
    "escalation.problems",  # problem management (nested app, label "problems")
    "escalation.evidence",  # dossier, configuration history, handbook (nested app, "evidence")
    "simple_history",  # the configuration history's tables (escalation/evidence/models.py)
    "escalation.regulatory",  # regulatory reporting (nested app, label "regulatory")
    "escalation.continuity",  # business continuity (nested app, label "continuity")
    "escalation.reviews",  # post-incident reviews and CAPA (nested app, label "reviews")
    "notifications",
    "axes",
]

MIDDLEWARE = [
    # Counts and times every answer per surface for /metrics (also those answered early below).
    "config.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /status/ is answered from the stored bytes here, before sessions, auth and locale run.
    "incidents.statuspage.middleware.StatusPageMiddleware",
    # A repeated alert (Events API v2) is counted here, before sessions, auth and DRF run.
    "escalation.api.middleware.RepeatedEventMiddleware",
    # Content-Security-Policy, Permissions-Policy, and no caching of what a signed-in person sees
    # (the two above answer early with public or bodiless answers of their own).
    "incidents.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # /api/: English unless Accept-Language asks for German (not the site's default, no cookie).
    "escalation.api.middleware.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who changed the configuration (the history's user): escalation/evidence/models.py.
    "simple_history.middleware.HistoryRequestMiddleware",
    "incidents.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "db.sqlite3"
if not os.environ.get("DATABASE_URL"):
    # SQLite cannot create the folder of its file ("unable to open database file")
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # A database host that does not answer must not hold a request for minutes (the OS default).
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
        "DB_CONNECT_TIMEOUT", 5
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock at BEGIN, so
    # concurrent writers queue (up to `timeout` seconds) instead of "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "incidents.User"

# Brute-force protection (django-axes): after AXES_FAILURE_LIMIT failed logins for one username
# from one address, that pair is locked for AXES_COOLOFF_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "incidents.auth.CachedPermissionsBackend",  # Django's ModelBackend, permissions cached
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The client's address behind a reverse proxy (config/proxy.py): X-Forwarded-For is believed only
# from these addresses/networks, and only the TRUSTED_PROXY_COUNT right-most entries (the ones the
# proxies appended). Without it, behind nginx every client has nginx's address, and five wrong
# passwords for one user would lock that user out for everybody.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)
AXES_CLIENT_IP_CALLABLE = "config.proxy.client_ip"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/console/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "de")
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True
# One date and time format per language (config/formats/: 07.12.2026 07:36, 7 Dec 2026 07:36).
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Email ----------------------------------------------------------------------------------
# Django's SMTP backend plus SMTPUTF8 for addresses with letters such as "ü" before the @.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "notifications.mail.EmailBackend")
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (what `make run` uses).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "escalation@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_QUEUE_DIR = Path(os.environ.get("CELERY_QUEUE_DIR", VAR_DIR / "celery" / "queue"))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        "visibility_timeout": 3600,
        # A broker that does not answer must not hold a request: connect within this (s).
        "socket_connect_timeout": float(os.environ.get("BROKER_CONNECT_TIMEOUT", "2")),
    }
else:
    # A file-system broker: no server needed. `safefs` is kombu's file-system transport with
    # atomic writes and claims (config/safefs.py; kombu's own loses messages under load). In and
    # out must be one folder on one file system with `processed`; latency is bounded by polling.
    CELERY_BROKER_URL = "safefs://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR),
        "data_folder_out": str(CELERY_QUEUE_DIR),
        "processed_folder": str(CELERY_QUEUE_DIR.parent / "processed"),
        "control_folder": str(CELERY_QUEUE_DIR.parent / "control"),
        "bad_folder": str(CELERY_QUEUE_DIR.parent / "bad"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
# Sending a task retries once at once (a pooled connection to a restarted Redis fails once),
# then gives up: whatever is sent after a commit is also a row the sweep or tick finds
# (config/broker.py), so a request never waits for a broker that is down.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
# Pages (and the outbox sweep that re-sends them) travel on a queue of their own with a worker of
# its own, so no volume of subscriber mail or webhooks can delay a page.
CELERY_PAGES_QUEUE = os.environ.get("CELERY_PAGES_QUEUE", "pages")
# The clock tick (classifying new incidents, escalating, next levels: what starts paging) has a
# queue and worker of its own too: behind no mail, and never holding the pages worker. An alert
# storm's tick works for minutes; on the pages queue, the pages it made waited for it to finish
# (issue 17: none of 1,000 sent within 600 s; README "Benchmarks"). A worker started without -Q
# consumes all three (CELERY_TASK_QUEUES below).
CELERY_CLOCKS_QUEUE = os.environ.get("CELERY_CLOCKS_QUEUE", "clocks")
CELERY_TASK_QUEUES = {
    CELERY_TASK_DEFAULT_QUEUE: {},
    CELERY_PAGES_QUEUE: {},
    CELERY_CLOCKS_QUEUE: {},
}
CELERY_TASK_ROUTES = {
    "escalation.tasks.clock_tick": {"queue": CELERY_CLOCKS_QUEUE},
    "notifications.tasks.sweep": {"queue": CELERY_PAGES_QUEUE},
}
# Outbox messages with these templates are handed to the pages queue (the rest to the default).
NOTIFICATION_PAGE_TEMPLATES = env_list("NOTIFICATION_PAGE_TEMPLATES", "page,notification_dead")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_HEARTBEAT_SECONDS = float(os.environ.get("CELERY_HEARTBEAT_SECONDS", "60"))

# --- Product settings -----------------------------------------------------------------------
# Whether classifying an incident escalates it at once when an escalation rule says so.
# A rule can still opt out on its own (EscalationRule.auto_escalate).
ESCALATION_AUTO_ESCALATE = env_bool("ESCALATION_AUTO_ESCALATE", True)


# Where people reach this installation (links in pages, emails, feeds and summary.json). Unset, it
# follows HOST/PORT as `make run` passes them (a wildcard host such as 0.0.0.0 becomes 127.0.0.1).
def _default_base_url() -> str:
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    if host in {"0.0.0.0", "::", "[::]"}:  # noqa: S104 # nosec B104 (a listen address, not a bind)
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('PORT', '').strip() or '8000'}"


BASE_URL = (os.environ.get("BASE_URL", "").strip() or _default_base_url()).rstrip("/")
# How long a one-click acknowledgement link in a page stays valid.
ACK_LINK_HOURS = env_int("ACK_LINK_HOURS", 24)
# A clock claimed by a tick but not finished within this time is claimed again (crashed worker).
# The tick renews its claims while it works, so this only bounds how late a crash makes a clock.
CLOCK_CLAIM_TIMEOUT_SECONDS = env_int("CLOCK_CLAIM_TIMEOUT_SECONDS", 30)
CLOCK_TICK_SECONDS = float(os.environ.get("CLOCK_TICK_SECONDS", "2"))
# A commit that makes a clock due now (an alert's incident to classify) queues a tick at once.
CLOCK_TICK_KICK = env_bool("CLOCK_TICK_KICK", True)
# The public status page is rendered on change into this folder (one file per artefact and
# language plus manifest.json); the app serves the stored bytes, nginx serves the files directly.
STATUS_PAGE_DIR = Path(os.environ.get("STATUS_PAGE_DIR", VAR_DIR / "status"))
# Seconds browsers and shared caches may reuse a status page response (Cache-Control max-age).
STATUS_PAGE_MAX_AGE = env_int("STATUS_PAGE_MAX_AGE", 5)
# Render after a change in a Celery worker (true) or in the process that committed it (false).
# Over a large history a render takes seconds (uptime of 90 days), which no request should wait
# for; if the broker cannot take the task, the committing process renders itself.
STATUS_PAGE_RENDER_ASYNC = env_bool("STATUS_PAGE_RENDER_ASYNC", True)

# --- Notifications --------------------------------------------------------------------------
# Every webhook, subscription and contact method signs with its own random secret (stored on
# its row, rotatable). This is only a fallback for outbox rows without one; it is never derived
# from SECRET_KEY (a receiver could attack SECRET_KEY from it and forge links). Empty: such rows
# fail permanently instead of going out signed with a guessable secret.
WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET", "")
# After a secret is rotated, messages carry the old secret's signature too for this long
# (X-Escalation-Signature-Previous), so receivers can switch without losing a message.
WEBHOOK_SECRET_GRACE_HOURS = env_int("WEBHOOK_SECRET_GRACE_HOURS", 24)
# Subscription requests (public /subscribe/ and the portal) per hour, per address and per client
# address: each sends a confirmation to an address that may never have asked for it.
SUBSCRIBE_PER_ADDRESS_HOUR = env_int("SUBSCRIBE_PER_ADDRESS_HOUR", 3)
SUBSCRIBE_PER_CLIENT_HOUR = env_int("SUBSCRIBE_PER_CLIENT_HOUR", 10)
# Outbound URL policy (notifications/outbound.py): webhooks and Apprise URLs may reach only
# public addresses; these CIDR networks are allowed in addition (e.g. "10.20.0.0/16,fd00::/8"
# for an internal chat server). `make run` allows loopback; production allows nothing extra.
try:
    OUTBOUND_ALLOW_NETWORKS = [
        str(ipaddress.ip_network(net, strict=False))
        for net in env_list("OUTBOUND_ALLOW_NETWORKS", "")
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"OUTBOUND_ALLOW_NETWORKS: {exc}") from exc
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# Attempts before a message is dead (and the escalation manager is alerted); backoff between tries.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 8)
NOTIFICATION_BACKOFF_SECONDS = float(os.environ.get("NOTIFICATION_BACKOFF_SECONDS", "30"))
NOTIFICATION_BACKOFF_MAX_SECONDS = float(os.environ.get("NOTIFICATION_BACKOFF_MAX_SECONDS", "3600"))
# A message claimed for sending but not finished within this time is swept back (dead worker).
# The worker renews the lease of the rows it holds between sends; one send must take less than
# this (WEBHOOK_TIMEOUT_SECONDS, EMAIL_TIMEOUT), so it only bounds how late a crash makes a message.
NOTIFICATION_LEASE_SECONDS = env_int("NOTIFICATION_LEASE_SECONDS", 30)
# The sweep re-queues pending messages whose after-commit hand-off seems lost after this long.
NOTIFICATION_REQUEUE_AFTER_SECONDS = env_int("NOTIFICATION_REQUEUE_AFTER_SECONDS", 30)
NOTIFICATION_SWEEP_SECONDS = float(os.environ.get("NOTIFICATION_SWEEP_SECONDS", "15"))
# One executive digest of all open escalations every N minutes (0 = off).
EXECUTIVE_DIGEST_MINUTES = env_int("EXECUTIVE_DIGEST_MINUTES", 60)

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "escalation.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["escalation.api.auth.ApiAccess"],
    "DEFAULT_PARSER_CLASSES": ["escalation.api.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "escalation.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["escalation.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": os.environ.get("API_RATE", "1200/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Escalation Manager API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Incidents, their lifecycle, updates, on-call, and alert ingestion. "
    "Authenticate with `Authorization: Bearer <token>` (manage.py create_api_token).",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "incidents.models.Impact",  # impact and urgency
        "StateEnum": "incidents.models.State",  # an incident's lifecycle state, stable for clients
        "DisruptionLevelEnum": ["disruption", "emergency", "crisis"],  # continuity's levels
        "PublicStatusEnum": "incidents.models.PublicStatus",
        "OpenPublicStatusEnum": "escalation.api.serializers.OPEN_PUBLIC_STATUSES",
    },
    # The enum hook (drf-spectacular's default) and ours: the 503, rate-limit and replay headers
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "escalation.api.schema.declare_shared_answers",
    ],
}
# /metrics (Prometheus) answers this bearer token, or clients in these networks (config/metrics.py)
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOW_NETWORKS = env_list("METRICS_ALLOW_NETWORKS", "127.0.0.1/32,::1/128")
# /healthz answers 503 when the worker's or beat's heartbeat is older than this (0: not checked).
HEARTBEAT_STALE_SECONDS = float(
    os.environ.get("HEARTBEAT_STALE_SECONDS", str(3 * CELERY_HEARTBEAT_SECONDS))
)
# When the database or broker cannot be reached, every surface answers 503 with this Retry-After.
OUTAGE_RETRY_AFTER_SECONDS = env_int("OUTAGE_RETRY_AFTER_SECONDS", 5)
# Request bodies larger than this are refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)

# Rate limits and idempotency need one cache for all processes: Redis when there is one.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Counters every process must share (API rate limit, password-reset throttle): the Redis cache,
# else files under var/ (the embedded default runs web and workers as separate processes; a
# per-process counter would multiply every limit by their number).
CACHES["shared"] = (
    CACHES["default"]
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache" / "shared"),
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
)
# Password reset mails: at most this many per address and per client address an hour.
PASSWORD_RESET_PER_ADDRESS_PER_HOUR = env_int("PASSWORD_RESET_PER_ADDRESS_PER_HOUR", 3)
PASSWORD_RESET_PER_CLIENT_PER_HOUR = env_int("PASSWORD_RESET_PER_CLIENT_PER_HOUR", 10)

# The executive dashboard's KPIs (7/30/90 days) are recomputed at most this often per window.
DASHBOARD_KPI_SECONDS = int(os.environ.get("DASHBOARD_KPI_SECONDS", "30"))

# --- Security -------------------------------------------------------------------------------
# HTTPS=true (what docker-compose.yml sets): served over TLS only, by a TLS terminator in front of
# nginx; it turns on what `check --deploy` asks for. Each value can still be set on its own.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", HTTPS) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# The container health check asks web directly over HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading is the domain owner's decision (hstspreload.org, hard to undo), not the app's.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
X_FRAME_OPTIONS = "DENY"
# incidents/headers.py: scripts only from this site (no inline script); inline style attributes
# stay allowed (the templates use them; a style runs no code).
CONTENT_SECURITY_POLICY = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
PERMISSIONS_POLICY = os.environ.get(
    "PERMISSIONS_POLICY",
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Keys and tokens in URLs (Alertmanager keys, acknowledgement, subscription and iCal links)
    # never reach the log: config/logmask.py masks them in every record.
    "filters": {"mask_secrets": {"()": "config.logmask.MaskSecrets"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # runserver's request lines (the embedded default) through the same masking handler, instead
    # of Django's own unfiltered one.
    "loggers": {"django.server": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# Problem management (escalation/problems/): a service with this many incidents within this many
# days, none linked to a problem, is a recurring disruption (console and dashboard offer a problem).
PROBLEMS_RECURRENCE_COUNT = env_int("PROBLEMS_RECURRENCE_COUNT", 3)
PROBLEMS_RECURRENCE_DAYS = env_int("PROBLEMS_RECURRENCE_DAYS", 30)
