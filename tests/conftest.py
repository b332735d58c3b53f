"""Shared fixtures: people named after their roles, and the rules for tests needing real components.

Tests marked `postgres` run only when DATABASE_URL points at PostgreSQL; on SQLite runs they are
deselected (reported in the summary). A test that needs a component that is missing calls
`require(...)`: it skips locally and fails under CI=true.
"""

import os

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from hypothesis import settings as hypothesis_settings

from escalation import roles

from .factories import CustomerFactory, UserFactory
from .servers import http_receiver, smtp_server, smtp_utf8_server  # noqa: F401 (fixtures)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Property tests check correctness, not speed: no per-example deadline (a loaded CI machine must
# not turn a slow example into a failure).
hypothesis_settings.register_profile("escalation", deadline=None, print_blob=True)
hypothesis_settings.load_profile("escalation")


def require(available: bool, reason: str) -> None:
    """Skip (locally) or fail (CI=true) when a real component the test needs is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true and a required component is missing: {reason}")
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    selected, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("postgres") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
        config._postgres_deselected = len(deselected)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    n = getattr(config, "_postgres_deselected", 0)
    if n:
        terminalreporter.write_line(
            f"{n} PostgreSQL-only tests deselected on {connection.vendor}; "
            "run with DATABASE_URL=postgres://... to include them (CI does)."
        )


def _person(username: str, role: str, **kwargs):
    user = UserFactory(username=username, **kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def manager(db):
    return _person("mara.manager", roles.ESCALATION_MANAGER, is_staff=True)


@pytest.fixture
def responder(db):
    return _person("rolf.responder", roles.RESPONDER, is_staff=True)


@pytest.fixture
def executive(db):
    return _person("erika.executive", roles.EXECUTIVE)


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Stadtwerke Nord", slug="stadtwerke-nord")


@pytest.fixture
def other_customer(db):
    return CustomerFactory(name="Logistik Süd", slug="logistik-sued")


@pytest.fixture
def customer_contact(customer):
    return _person("carl.contact", roles.CUSTOMER_CONTACT, customer=customer)


@pytest.fixture
def other_customer_contact(other_customer):
    return _person("olga.other", roles.CUSTOMER_CONTACT, customer=other_customer)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness protects real passwords; test users need none of it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _webhook_fallback_secret(settings):
    # Production has no installation-wide secret (every receiver has its own); here a fallback
    # lets the suite's receiver (tests/servers.py) verify messages made without a row's secret.
    settings.WEBHOOK_SECRET = "whsec_tests_fallback"


@pytest.fixture(autouse=True)
def _outbound_to_loopback(settings):
    """The suite's own receivers (webhooks, SMTP, chat) listen on 127.0.0.1: allow loopback, as
    `make run` does. Tests of the outbound URL policy set OUTBOUND_ALLOW_NETWORKS themselves."""
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8", "::1/128"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (dashboard KPIs, API throttling, ...)."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()
    caches["shared"].clear()  # counters shared by processes (files under var/ on SQLite)
    yield
    for cache in caches.all(initialized_only=True):
        cache.clear()


@pytest.fixture(autouse=True)
def _status_page_in_tmp(settings, tmp_path, monkeypatch):
    """The status page renders into the test's own folder, in the committing process (the
    asynchronous path has its own test in tests/statuspage), with no render queued before."""
    from incidents.coalesce import Coalesced

    settings.STATUS_PAGE_DIR = tmp_path / "status"
    settings.STATUS_PAGE_RENDER_ASYNC = False
    settings.CLOCK_TICK_KICK = False  # tests fire clocks themselves (clocks_tick)
    for queued in Coalesced.instances:
        monkeypatch.setattr(queued, "until", 0.0)


@pytest.fixture(autouse=True)
def _english(settings):
    """Tests read messages in English unless they switch language themselves (German is default)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True, scope="session")
def _in_memory_broker():
    """Tasks enqueued after commit in tests go to an in-memory broker, never to a dev worker's
    queue folder or a shared Redis; delivery tests call the services (or a test worker) directly."""
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "memory://"
    yield
    app.conf.broker_url = previous
