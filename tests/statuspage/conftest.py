"""Fixtures for the public status page: a folder of its own per test, and a small world of
services (grouped, ungrouped, private) with a customer organisation whose name must never show."""

from types import SimpleNamespace

import pytest

from escalation.services import incident_open
from incidents.statuspage.render import render_status_page
from tests.factories import ServiceFactory, ServiceGroupFactory

INTERNAL_TITLE = "Stadtwerke Nord meldet Totalausfall im Portal"
INTERNAL_DESCRIPTION = "Interne Analyse: Datenbank-Failover auf db-7 hängt"


@pytest.fixture(autouse=True)
def status_dir(settings, tmp_path):
    settings.STATUS_PAGE_DIR = tmp_path / "status"
    settings.BASE_URL = "https://status.example.org"
    return settings.STATUS_PAGE_DIR


@pytest.fixture
def world(db, customer, other_customer):
    portals = ServiceGroupFactory(slug="portale", name="Portals", position=1)
    payments_group = ServiceGroupFactory(slug="zahlung", name="Payments", position=2)
    portal = ServiceFactory(slug="portal", name="Customer portal", group=portals, position=1)
    shop = ServiceFactory(slug="shop", name="Web shop", group=portals, position=2)
    payments = ServiceFactory(slug="cards", name="Card payments", group=payments_group, position=3)
    api = ServiceFactory(slug="api", name="Public API", group=None, position=4)
    backup = ServiceFactory(
        slug="backup", name="Secret backup vault", group=None, position=5, is_private=True
    )
    portal.customers.add(customer)
    backup.customers.add(customer, other_customer)
    return SimpleNamespace(
        portal=portal, shop=shop, payments=payments, api=api, backup=backup, customer=customer
    )


def open_incident(actor, services, impact="high", urgency="high", publish=False, **fields):
    """An incident opened and classified through the workflow (P1 for high/high); with
    `publish` also given a public face (the services' standard texts, or `publish` as its
    text), without which it is no entry on the page."""
    fields.setdefault("title", INTERNAL_TITLE)
    fields.setdefault("description", INTERNAL_DESCRIPTION)
    incident = incident_open(
        actor=actor, services=services, impact=impact, urgency=urgency, **fields
    )
    if publish:
        from escalation.services.public import public_incident_publish

        text = publish if isinstance(publish, str) else ""
        public_incident_publish(actor=actor, incidents=[incident], body=text, body_en=text)
        incident.refresh_from_db()
    return incident


@pytest.fixture
def render():
    """Render every artefact now, returning the stored bytes by file name."""

    def _render(**kwargs):
        result = render_status_page(**kwargs)
        return {
            path.relative_to(result.directory).as_posix(): path.read_bytes()
            for path in result.directory.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        }

    return _render
