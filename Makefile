# The README's two commands: `make run` and `make test`. Everything else here serves them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint ci setup demo clean mutation

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

## make run: set up and start web, three Celery workers (default, pages and clocks queue) and beat on
## the embedded default (SQLite in WAL mode, file-system broker) at http://127.0.0.1:8000, under a
## supervisor that restarts a crashed one (config/embedded.py). Ctrl-C stops all.
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py load_demo
	@echo "Outgoing email of the embedded default is written to var/mail/ (set EMAIL_HOST and"
	@echo "EMAIL_BACKEND=notifications.mail.EmailBackend to send real mail)."
	@echo "Webhooks and chat URLs may reach loopback (OUTBOUND_ALLOW_NETWORKS=127.0.0.0/8,::1/128)"
	@echo "for trying things out locally; production allows public addresses only."
	EMAIL_BACKEND=$${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend} \
	OUTBOUND_ALLOW_NETWORKS=$${OUTBOUND_ALLOW_NETWORKS-127.0.0.0/8,::1/128} \
	HOST=$(HOST) PORT=$(PORT) $(PY) -m config.embedded

## make test: the whole suite (SQLite by default; PostgreSQL + Redis when DATABASE_URL/REDIS_URL are set)
test: $(STAMP)
	$(PY) -m pytest

## make mutation: the mutation check (.ci/mutation/): small changes to the functions that hold the
## rules that matter most must each fail a test; prints the score. Niced: it shares the cores.
mutation: $(STAMP)
	nice -n 10 $(PY) .ci/mutation/check.py

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var
