"""Load demo data: customers, services, one user per role and 20 incidents in every state.

Idempotent: reference data is looked up by slug/username/name and only created when missing, and an
incident whose title already exists is skipped, so a second run changes nothing (no new timeline
entries either). Everything is written in one transaction: a failure leaves nothing half-written.

Incidents are driven only through the services (incident_create, update_post and the workflow
services), so each has a complete, verifiable timeline. Detection times are spread over the past
60 days; later transitions are stamped with the time the command runs.
"""

from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

import time_machine
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from escalation import roles
from escalation.continuity.demo import continuity_demo_load
from escalation.models import (
    BusinessCalendar,
    CommunicationRule,
    Contract,
    EscalationLevel,
    EscalationPolicy,
    EscalationRule,
    Integration,
    LayerMember,
    OnCallSchedule,
    PenaltyClause,
    ScheduleLayer,
    SlaTarget,
)
from escalation.problems.demo import load_problems_demo
from escalation.services import (
    incident_acknowledge,
    incident_classify,
    incident_escalate,
    incident_provide_workaround,
    incident_reopen,
    incident_resolve,
)
from escalation.services.integrations import integration_create, integration_rules_set
from escalation.services.matrix import update_publish
from escalation.services.public import public_face_of, public_incident_publish
from incidents.models import (
    Audience,
    Customer,
    Incident,
    Priority,
    Service,
    ServiceGroup,
    Source,
    State,
    User,
)
from incidents.services import incident_create, update_post

# --- Reference data ------------------------------------------------------------------------------

# slug, name, language, time zone
CUSTOMERS = [
    ("stadtwerke-rheinaue", "Stadtwerke Rheinaue GmbH", "de", "Europe/Berlin"),
    ("alpenland-spedition", "Alpenland Spedition GmbH", "de", "Europe/Vienna"),
    ("meridian-assurance", "Meridian Assurance SE", "en", "Europe/Berlin"),
]

# slug, name, position
SERVICE_GROUPS = [
    ("kundenportale", "Kundenportale / Customer portals", 10),
    ("zahlungsverkehr", "Zahlungsverkehr / Payments", 20),
    ("interne-systeme", "Interne Systeme / Internal", 30),
]

STADTWERKE, ALPENLAND, MERIDIAN = (c[0] for c in CUSTOMERS)


@dataclass(frozen=True)
class DemoService:
    slug: str
    name: str
    group: str
    description: str
    customers: tuple[str, ...]
    is_private: bool = False


SERVICES = [
    DemoService(
        "kundenportal-rheinaue",
        "Kundenportal Mein Rheinaue",
        "kundenportale",
        "Self-Service-Portal der Stadtwerke: Zählerstände, Abschläge, Rechnungen, Umzüge.",
        (STADTWERKE,),
    ),
    DemoService(
        "sendungsverfolgung",
        "Sendungsverfolgung (Track & Trace)",
        "kundenportale",
        "Sendungsstatus für Alpenland-Kunden im Web und über die Track-&-Trace-API.",
        (ALPENLAND,),
    ),
    DemoService(
        "claims-portal",
        "Claims Portal",
        "kundenportale",
        "Online claims reporting for Meridian policyholders and brokers.",
        (MERIDIAN,),
    ),
    DemoService(
        "sepa-lastschrift",
        "SEPA-Lastschrifteinzug",
        "zahlungsverkehr",
        "Erzeugung und Einreichung der SEPA-Lastschriftdateien (pain.008) bei der Hausbank.",
        (STADTWERKE, MERIDIAN),
    ),
    DemoService(
        "card-payments",
        "Card Payment Gateway",
        "zahlungsverkehr",
        "Card and wallet payments (Visa, Mastercard, girocard) through the acquirer.",
        (STADTWERKE, ALPENLAND),
    ),
    DemoService(
        "e-rechnung",
        "E-Rechnung (XRechnung/ZUGFeRD)",
        "zahlungsverkehr",
        "Erzeugung, Validierung und Versand elektronischer Rechnungen.",
        (STADTWERKE, ALPENLAND, MERIDIAN),
    ),
    DemoService(
        "edi-gateway",
        "EDI Gateway",
        "interne-systeme",
        "EDIFACT message exchange over SFTP and AS2 (ORDERS, DESADV, INVOIC).",
        (ALPENLAND, MERIDIAN),
    ),
    DemoService(
        "backup-archiv",
        "Backup & Archivierung",
        "interne-systeme",
        "Nächtliche Sicherung und revisionssichere Archivierung (GoBD). Nicht auf der Statusseite.",
        (STADTWERKE, MERIDIAN),
        is_private=True,
    ),
]

# Standard customer texts ("Publish for customers" is prefilled with them; auto-publish uses them).
PUBLIC_TEXTS = {
    "card-payments": (
        "Kartenzahlungen können derzeit teilweise fehlschlagen. Lastschrift und Überweisung sind "
        "nicht betroffen. Wir arbeiten mit unserem Zahlungsdienstleister an der Behebung.",
        "Card payments may fail at the moment. Direct debit and bank transfer are not affected. "
        "We are working with our payment provider on a fix.",
    ),
    "e-rechnung": (
        "Der Versand und Empfang elektronischer Rechnungen ist gestört. Es gehen keine Rechnungen "
        "verloren; wir verarbeiten sie nach, sobald die Störung behoben ist.",
        "Sending and receiving electronic invoices is disrupted. No invoice is lost; we process "
        "them as soon as the disruption is resolved.",
    ),
}

PAYMENTS_RULE = "Zahlungsverkehr ist geschäftskritisch"
PAYMENTS_RULE_SERVICES = ("sepa-lastschrift", "card-payments")


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    role_label: str
    password: str
    first_name: str
    last_name: str
    email: str
    is_staff: bool
    may: str
    language: str = "de"
    time_zone: str = "Europe/Berlin"
    customer: str | None = None


CUSTOMER_PASSWORD = "demo-customer-2026"  # noqa: S105 (demo login, printed) # nosec B105

USERS = [
    DemoUser(
        "manager",
        roles.ESCALATION_MANAGER,
        "escalation manager",
        "demo-manager-2026",
        "Eva",
        "Hoffmann",
        "eva.hoffmann@escalation.example",
        True,
        "everything on incidents and configuration; admin",
    ),
    DemoUser(
        "responder",
        roles.RESPONDER,
        "responder",
        "demo-responder-2026",
        "Jonas",
        "Becker",
        "jonas.becker@escalation.example",
        True,
        "work on incidents (no escalate/close/reopen), post updates; admin",
    ),
    DemoUser(
        "executive",
        roles.EXECUTIVE,
        "executive",
        "demo-executive-2026",
        "Claudia",
        "Richter",
        "claudia.richter@escalation.example",
        False,
        "read-only dashboard; never writes",
    ),
    DemoUser(
        "kunde-rheinaue",
        roles.CUSTOMER_CONTACT,
        "customer contact",
        CUSTOMER_PASSWORD,
        "Markus",
        "Weber",
        "m.weber@stadtwerke-rheinaue.example",
        False,
        "see Stadtwerke Rheinaue's incidents and customer updates",
        customer=STADTWERKE,
    ),
    DemoUser(
        "kunde-alpenland",
        roles.CUSTOMER_CONTACT,
        "customer contact",
        CUSTOMER_PASSWORD,
        "Katharina",
        "Gruber",
        "k.gruber@alpenland-spedition.example",
        False,
        "see Alpenland Spedition's incidents and customer updates",
        time_zone="Europe/Vienna",
        customer=ALPENLAND,
    ),
    DemoUser(
        "customer-meridian",
        roles.CUSTOMER_CONTACT,
        "customer contact",
        CUSTOMER_PASSWORD,
        "Sarah",
        "Collins",
        "s.collins@meridian-assurance.example",
        False,
        "see Meridian Assurance's incidents and customer updates",
        language="en",
        customer=MERIDIAN,
    ),
]

# The communication matrix: (priority, audience, minutes between updates, template). The P1
# customer row publishes automatically (auto-publish: the services' standard text); below P1 a
# person publishes (the SEPA incident is escalated and not published yet).
MATRIX = [
    (Priority.P1, "executives", 30, "executive_update"),
    (Priority.P2, "executives", 60, "executive_update"),
    (Priority.P1, "customers", 60, "customer_update"),
    (Priority.P2, "customers", 120, "customer_update"),
    (Priority.P1, "manager", 30, "internal_update"),
]

# --- Incident scripts ----------------------------------------------------------------------------
# A step is (action, actor username, keyword arguments for the service).


def classify(impact, urgency, by="responder"):
    return ("classify", by, {"impact": impact, "urgency": urgency})


def escalate(reason, by="manager"):
    return ("escalate", by, {"reason": reason})


def acknowledge(by="responder"):
    return ("acknowledge", by, {})


def workaround(text, by="responder"):
    return ("workaround", by, {"workaround": text})


def resolve(text, by="responder"):
    return ("resolve", by, {"resolution": text})


def close(review="", by="manager"):
    return ("close", by, {"review": review})


def reopen(reason, by="manager"):
    return ("reopen", by, {"reason": reason})


def internal(body, by="responder"):
    return ("update", by, {"audience": Audience.INTERNAL, "body": body})


def executive(body, by="manager"):
    return ("update", by, {"audience": Audience.EXECUTIVE, "body": body})


def customer(body, by="manager"):
    """A customer update: through the incident's public face (published first, with its
    services' standard text, if it has none yet)."""
    return ("customer", by, {"body": body})


def customer_update(*, incident, actor, body):
    if public_face_of(incident) is None:
        public_incident_publish(actor=actor, incidents=[incident])
        incident.refresh_from_db()
    update_publish(incident=incident, actor=actor, audience=Audience.CUSTOMER, body=body)
    incident.refresh_from_db()


def close_reviewed(*, incident, actor, review=""):
    """Closing an escalated incident needs its approved review (escalation.reviews)."""
    from escalation.reviews.demo import demo_close

    return demo_close(incident=incident, actor=actor, review=review)


SERVICE_CALLS = {
    "classify": incident_classify,
    "escalate": incident_escalate,
    "acknowledge": incident_acknowledge,
    "workaround": incident_provide_workaround,
    "resolve": incident_resolve,
    "close": close_reviewed,
    "reopen": incident_reopen,
    "update": update_post,
    "customer": customer_update,
}


# How long after the step before each step of a past incident happens (minutes): acknowledged in
# minutes, a workaround within the hour, resolved within hours, closed after the review next day.
STEP_MINUTES = {
    "classify": 4,
    "acknowledge": 3,
    "escalate": 5,
    "update": 12,
    "customer": 8,
    "workaround": 40,
    "resolve": 95,
    "reopen": 300,
    "close": 26 * 60,
}


@dataclass(frozen=True)
class DemoIncident:
    title: str
    description: str
    services: tuple[str, ...]
    hours_ago: float
    expect: str  # the state the steps must end in
    steps: tuple = ()
    created_by: str | None = "manager"  # None: opened by monitoring
    commander: str | None = None
    source: str = Source.MANUAL
    dedup_key: str = ""


# Contracts: per priority (response, workaround, restore) minutes of service time; clauses in the
# forms of escalation/penalties.py.
CONTRACTS = [
    {
        "customer": "stadtwerke-rheinaue",
        "name": "Betriebsvertrag Leitstelle 24/7",
        "business_hours": False,
        "fee": "40000.00",
        "caps": {"cap_per_incident_percent": Decimal("25"), "cap_per_month_percent": Decimal("50")},
        "targets": [(1, 15, 60, 240), (2, 30, 240, 480), (3, 240, None, 1440)],
        "clauses": [
            {
                "target": "restore",
                "form": "fixed_per_period",
                "amount": Decimal("500"),
                "period_minutes": 60,
                "until_minutes": 240,
            },
            {
                "target": "restore",
                "form": "fixed_per_period",
                "amount": Decimal("1000"),
                "period_minutes": 60,
                "from_minutes": 240,
            },
            {
                "target": "response",
                "form": "fixed_per_breach",
                "amount": Decimal("250"),
                "priority": 1,
            },
        ],
    },
    {
        "customer": "alpenland-spedition",
        "name": "Servicevertrag Disposition (Servicezeiten)",
        "business_hours": True,
        "fee": "12000.00",
        "caps": {"cap_per_month_percent": Decimal("50")},
        "targets": [(1, 30, 120, 480), (2, 60, None, 960)],
        "clauses": [
            {
                "target": "restore",
                "form": "fee_percent_per_period",
                "fee_percent": Decimal("3.333333"),
                "period_minutes": 30,
            },
        ],
    },
    {
        "customer": "meridian-assurance",
        "name": "Managed Claims Platform",
        "business_hours": False,
        "fee": "25000.00",
        "caps": {"cap_per_incident_percent": Decimal("20")},
        "targets": [(1, 15, 120, 240), (2, 30, None, 480)],
        "clauses": [
            {
                "target": "restore",
                "form": "fee_percent_per_breach",
                "fee_percent": Decimal("5"),
                "until_minutes": 60,
            },
            {
                "target": "restore",
                "form": "fee_percent_per_breach",
                "fee_percent": Decimal("10"),
                "from_minutes": 60,
                "until_minutes": 240,
            },
            {
                "target": "restore",
                "form": "fee_percent_per_breach",
                "fee_percent": Decimal("20"),
                "from_minutes": 240,
            },
        ],
    },
]

DAY = 24.0

INCIDENTS = [
    # --- detected ------------------------------------------------------------------------------
    DemoIncident(
        "Kundenportal: Login-Antwortzeiten über 8 Sekunden",
        "Alertmanager: Das 95. Perzentil der Login-Antwortzeit im Kundenportal Mein Rheinaue liegt "
        "seit 10 Minuten über 8 s (Schwelle 3 s). Vermutlich sind alle Nutzer betroffen.",
        ("kundenportal-rheinaue",),
        0.4,
        State.DETECTED,
        (internal("Alert gesehen. Prüfe Datenbank-Verbindungspool und Antwortzeiten des SSO."),),
        created_by=None,
        source=Source.ALERTMANAGER,
        dedup_key="KundenportalLoginLatency/mein-rheinaue",
    ),
    DemoIncident(
        "Meridian reports e-invoices not arriving in their AP inbox",
        "Meridian's accounts payable team called the service desk: since this morning no "
        "e-invoices from us have reached their PEPPOL inbox. Not yet confirmed on our side.",
        ("e-rechnung",),
        0.2,
        State.DETECTED,
        created_by="responder",
    ),
    # --- classified ----------------------------------------------------------------------------
    DemoIncident(
        "Sendungsverfolgung zeigt veraltete Statusmeldungen",
        "Scan-Ereignisse aus den Umschlaglagern Linz und Salzburg erscheinen mit bis zu "
        "45 Minuten Verzögerung in der Sendungsverfolgung. Die Zustellung selbst läuft normal.",
        ("sendungsverfolgung",),
        3,
        State.CLASSIFIED,
        (
            classify("medium", "medium"),
            internal(
                "Consumer-Lag auf dem Scan-Event-Topic bei 40.000 Nachrichten; zusätzliche "
                "Consumer werden gestartet."
            ),
        ),
        created_by="responder",
    ),
    DemoIncident(
        "Claims portal: PDF uploads over 10 MB fail",
        "Policyholders attaching large PDFs (scanned invoices, photos) get 'upload failed'. "
        "Smaller files work; brokers can still submit by email.",
        ("claims-portal",),
        6,
        State.CLASSIFIED,
        (
            classify("low", "medium"),
            acknowledge(),
            internal(
                "Reproduced: since yesterday's config change the ingress limits request bodies "
                "to 10 MB. Fix scheduled for tonight's maintenance window."
            ),
        ),
        created_by="responder",
    ),
    # --- escalated -----------------------------------------------------------------------------
    DemoIncident(
        "Kartenzahlung: Autorisierungen schlagen fehl (HTTP 502 vom Acquirer)",
        "Seit 09:12 Uhr beantwortet der Acquirer rund 60 % der Autorisierungsanfragen mit "
        "HTTP 502. Kartenzahlungen im Stadtwerke-Portal und an den Alpenland-Kassen brechen ab.",
        ("card-payments",),
        0.75,
        State.ESCALATED,
        (
            classify("high", "high"),
            acknowledge(),
            internal(
                "Statusseite des Acquirers meldet eine Störung im Rechenzentrum Frankfurt. "
                "Ticket beim Acquirer eröffnet, Umschaltung auf den Zweit-Acquirer wird "
                "vorbereitet."
            ),
            executive(
                "P1: Kartenzahlungen für zwei Kunden gestört. Ursache liegt beim Acquirer, "
                "Umschaltung in Vorbereitung. Nächstes Update in 30 Minuten."
            ),
            customer(
                "Derzeit schlagen Kartenzahlungen teilweise fehl. Wir arbeiten mit unserem "
                "Zahlungsdienstleister an der Behebung. Lastschrift und Überweisung sind nicht "
                "betroffen."
            ),
        ),
        created_by=None,
        commander="manager",
        source=Source.EVENTS_V2,
        dedup_key="card-payments/acquirer-5xx",
    ),
    DemoIncident(
        "SEPA-Lastschriftdatei für den Abrechnungslauf nicht erzeugt",
        "Der nächtliche Abrechnungslauf hat keine pain.008-Datei erzeugt. Einreichungsfrist bei "
        "der Bank ist heute 14:00 Uhr, sonst verschiebt sich der Einzug um einen Bankarbeitstag.",
        ("sepa-lastschrift",),
        0.3,
        State.ESCALATED,
        (
            # P3, escalated by the rule for business-critical payment services.
            classify("medium", "medium", by="manager"),
            internal(
                "Rufbereitschaft Zahlungsverkehr angepiept, noch keine Bestätigung.",
                by="manager",
            ),
        ),
        commander="manager",
    ),
    DemoIncident(
        "EDI gateway: ORDERS messages from Alpenland stuck in the inbound queue",
        "About 300 EDIFACT ORDERS messages from Alpenland Spedition have been waiting in the "
        "inbound queue since 02:00. The SFTP transfer works; the translator rejects them with a "
        "mapping error.",
        ("edi-gateway",),
        20,
        State.ESCALATED,
        (
            classify("medium", "low"),
            escalate(
                "Alpenland is in peak season: orders not processed by 12:00 miss today's line "
                "haul, which triggers contract penalties."
            ),
            acknowledge(),
            internal(
                "The mapping error comes from a new segment in Alpenland's ORDERS D.96A. "
                "Adjusting the map; the queue will be reprocessed afterwards."
            ),
            customer(
                "Ihre Bestellnachrichten (EDI ORDERS) seit 02:00 Uhr werden derzeit verzögert "
                "verarbeitet. Es gehen keine Daten verloren; wir verarbeiten sie nach, sobald "
                "der Fehler behoben ist."
            ),
        ),
        created_by="responder",
        commander="manager",
    ),
    DemoIncident(
        "Kundenportal: Zählerstandserfassung speichert nicht",
        "Kundinnen und Kunden erhalten beim Speichern des Zählerstands die Meldung 'Vorgang "
        "konnte nicht abgeschlossen werden'. Die Jahresablesung läuft, viele Eingaben gehen "
        "verloren.",
        ("kundenportal-rheinaue",),
        30,
        State.ESCALATED,
        (
            classify("medium", "high"),
            acknowledge(),
            resolve(
                "Fehlerhafte Plausibilitätsprüfung für Zweitarifzähler korrigiert und ausgerollt "
                "(Release 2.31.1)."
            ),
            reopen(
                "Seit 08:00 Uhr wieder Fehlermeldungen beim Speichern, diesmal bei "
                "Eintarifzählern. Der Fix war unvollständig."
            ),
            internal("Zweiten Fehler in derselben Prüfung gefunden; Hotfix 2.31.2 im Test."),
            customer(
                "Die Erfassung von Zählerständen im Kundenportal ist erneut gestört. Bitte geben "
                "Sie Zählerstände vorübergehend telefonisch durch; wir arbeiten an der Behebung."
            ),
        ),
        commander="manager",
    ),
    # --- workaround ----------------------------------------------------------------------------
    DemoIncident(
        "Claims portal unavailable for policyholders",
        "The claims portal answers HTTP 503 for all users after the failed deployment of "
        "release 4.18. Brokers and policyholders cannot report claims online.",
        ("claims-portal",),
        26,
        State.WORKAROUND,
        (
            classify("high", "medium"),
            acknowledge(),
            internal(
                "Rollback to 4.17 is not possible: the release contains an irreversible "
                "database migration. Working on a forward fix."
            ),
            workaround(
                "Claims are taken by the Meridian claims hotline and by email to "
                "claims@meridian-assurance.example; the hotline has been staffed up and a banner "
                "on the website points there."
            ),
            executive(
                "Claims portal down since yesterday 10:30 (P2). Workaround in place: phone "
                "hotline and email. Forward fix expected today."
            ),
            customer(
                "The online claims portal is currently unavailable. Please report claims by "
                "phone or by email to claims@meridian-assurance.example. We will let you know as "
                "soon as the portal is back."
            ),
        ),
        commander="manager",
    ),
    DemoIncident(
        "Track & Trace API liefert Fehler 500 für Sendungen nach Österreich",
        "Die Track-&-Trace-API antwortet für alle Sendungen mit Zielland AT mit HTTP 500. "
        "Alpenland-Kunden sehen keinen Sendungsstatus, die Hotline ist überlastet.",
        ("sendungsverfolgung",),
        5,
        State.WORKAROUND,
        (
            classify("high", "high"),
            acknowledge(),
            workaround(
                "Die Disposition von Alpenland erhält stündlich einen CSV-Export aller "
                "AT-Sendungen mit aktuellem Status per SFTP; die Kundenhotline beantwortet "
                "Anfragen daraus."
            ),
            internal(
                "Ursache eingegrenzt: Die neue Postleitzahlen-Validierung lehnt vierstellige "
                "PLZ ab. Fix ist im Review."
            ),
            executive(
                "P1 Sendungsverfolgung AT: Workaround per stündlichem Statusexport läuft, "
                "Fix für heute Nachmittag erwartet."
            ),
            customer(
                "Die Sendungsverfolgung für Sendungen nach Österreich ist gestört. Als "
                "Workaround erhält Ihre Disposition stündlich eine Statusliste per SFTP. "
                "Wir melden uns, sobald die Störung behoben ist."
            ),
        ),
        commander="manager",
    ),
    # --- resolved ------------------------------------------------------------------------------
    DemoIncident(
        "Monitoring meldet Ausfall des Backup-Speichers",
        "Alertmanager: Ziel nas-archiv-02 seit 5 Minuten nicht erreichbar (BackupStorageDown).",
        ("backup-archiv",),
        2 * DAY,
        State.RESOLVED,
        (
            resolve(
                "Fehlalarm: Der Monitoring-Proxy wurde neu gestartet, der Speicher war "
                "durchgehend erreichbar. Alle Sicherungen der Nacht sind vollständig."
            ),
        ),
        created_by=None,
        source=Source.ALERTMANAGER,
        dedup_key="BackupStorageDown/nas-archiv-02",
    ),
    DemoIncident(
        "E-Rechnung: XRechnung-Validierung lehnt gültige Rechnungen ab",
        "Seit dem Update der KoSIT-Prüfregeln werden Rechnungen mit Skonto-Angaben fälschlich "
        "als ungültig abgewiesen und nicht versendet.",
        ("e-rechnung",),
        4 * DAY,
        State.RESOLVED,
        (
            classify("medium", "medium"),
            internal("212 Rechnungen zurückgehalten; Regelversion 1.3.13 behebt den Fehler."),
            resolve(
                "Validator auf die korrigierte Regelversion 1.3.13 aktualisiert; die 212 "
                "zurückgehaltenen Rechnungen wurden nachversendet."
            ),
        ),
        created_by="responder",
    ),
    DemoIncident(
        "Card payments: elevated decline rate for Maestro cards",
        "Since the acquirer's certificate change, about 15 % of Maestro transactions are "
        "declined with 'do not honour'. Other card schemes are unaffected.",
        ("card-payments",),
        28,
        State.RESOLVED,
        (
            classify("medium", "high"),
            acknowledge(),
            workaround(
                "When a Maestro card is declined, checkout now offers girocard or SEPA direct "
                "debit instead."
            ),
            resolve(
                "The acquirer corrected its BIN routing table for Maestro; the decline rate has "
                "been back at the 0.4 % baseline for two hours."
            ),
            customer(
                "Maestro card payments work normally again. We apologise for the inconvenience."
            ),
        ),
        commander="manager",
    ),
    # --- closed --------------------------------------------------------------------------------
    DemoIncident(
        "Großstörung Kundenportal nach Rechenzentrums-Failover",
        "Nach dem geplanten Failover in das Rechenzentrum Nord ist das Kundenportal Mein "
        "Rheinaue nicht erreichbar; der Load Balancer liefert abgelaufene Zertifikate aus.",
        ("kundenportal-rheinaue",),
        52 * DAY,
        State.CLOSED,
        (
            classify("high", "high", by="manager"),
            acknowledge(),
            executive(
                "P1: Kundenportal der Stadtwerke Rheinaue nach RZ-Failover nicht erreichbar. "
                "Ursache Zertifikate, Behebung läuft."
            ),
            customer(
                "Das Kundenportal ist derzeit nicht erreichbar. Zählerstände können Sie per "
                "E-Mail oder telefonisch melden. Wir arbeiten mit Hochdruck an der Behebung."
            ),
            workaround(
                "Statische Wartungsseite mit Hotline-Nummer und E-Mail-Formular für Zählerstände "
                "geschaltet."
            ),
            resolve(
                "Zertifikate im Load Balancer des RZ Nord erneuert; das Portal ist seit "
                "14:20 Uhr wieder vollständig erreichbar."
            ),
            close(
                "Ursache: Die Zertifikatsablage im RZ Nord war nicht Teil der Failover-"
                "Checkliste. Maßnahmen: Zertifikate zentral im Vault, automatischer Abgleich "
                "beider Rechenzentren, Failover-Checkliste ergänzt (Plattform-Team, 30 Tage)."
            ),
        ),
        commander="manager",
    ),
    DemoIncident(
        "SEPA direct debit batch rejected by the bank (invalid creditor ID)",
        "The bank rejected Meridian's monthly premium collection file (pain.008): the creditor "
        "identifier did not match the mandate data after the mandate database migration.",
        ("sepa-lastschrift",),
        41 * DAY,
        State.CLOSED,
        (
            classify("high", "medium", by="manager"),
            acknowledge(),
            internal("Creditor ID in the mandate database points to the test tenant."),
            resolve(
                "Creditor identifier corrected in the mandate database; file regenerated and "
                "accepted by the bank the same day, the due date was kept."
            ),
            close(
                "Root cause: the mandate migration script mapped the creditor ID from a test "
                "tenant. Corrective actions: validate against the bank's master data before "
                "every submission; migration scripts get a second reviewer. No premium was lost."
            ),
        ),
        commander="manager",
    ),
    DemoIncident(
        "Sendungsverfolgung: Zustellzeiten in UTC statt Ortszeit",
        "In der Sendungsverfolgung werden Zustellzeitpunkte in UTC angezeigt; Empfänger in "
        "Österreich sehen eine Stunde Abweichung.",
        ("sendungsverfolgung",),
        33 * DAY,
        State.CLOSED,
        (
            classify("low", "low"),
            resolve("Anzeige auf die Zeitzone des Empfängers umgestellt (Europe/Vienna)."),
            close(),
        ),
        created_by="responder",
    ),
    DemoIncident(
        "Claims portal slow during month-end peak",
        "Response times of the claims portal rose to 6-10 seconds during the month-end peak of "
        "broker submissions.",
        ("claims-portal",),
        27 * DAY,
        State.CLOSED,
        (
            classify("low", "medium"),
            internal("Slow query on the claims search; brokers are submitting in bulk."),
            # Reclassified to P2: now the P1-P2 rule escalates it.
            classify("high", "medium", by="manager"),
            acknowledge(),
            workaround(
                "Brokers were asked to submit bulk claims through the SFTP interface until the "
                "peak is over."
            ),
            resolve(
                "Connection pool enlarged and the claims search query indexed; p95 response "
                "time back under one second."
            ),
            close(
                "Root cause: the claims search ran a sequential scan once the claims table "
                "passed 5 million rows. Corrective actions: index added, load test with "
                "month-end volumes added to the release checklist."
            ),
        ),
        created_by="responder",
        commander="manager",
    ),
    DemoIncident(
        "Backup-Job für das Archivsystem abgebrochen",
        "Die nächtliche Sicherung des Archivsystems brach nach drei Stunden mit 'no space left "
        "on device' ab. Produktivsysteme sind nicht betroffen.",
        ("backup-archiv",),
        19 * DAY,
        State.CLOSED,
        (
            classify("medium", "low"),
            resolve(
                "Abgelaufene Snapshots gemäß Aufbewahrungsrichtlinie entfernt, Sicherung "
                "manuell nachgeholt und per Rücksicherungstest geprüft."
            ),
            close(),
        ),
        created_by=None,
        source=Source.ALERTMANAGER,
        dedup_key="BackupJobFailed/archiv",
    ),
    DemoIncident(
        "EDI gateway sent duplicate DESADV messages to Alpenland",
        "After a restart of the EDI gateway, about 1,200 despatch advice messages (DESADV) from "
        "the previous day were sent to Alpenland a second time.",
        ("edi-gateway",),
        12 * DAY,
        State.CLOSED,
        (
            classify("medium", "medium"),
            escalate(
                "Alpenland's warehouse system books the duplicates as deliveries; their goods "
                "receipt is blocked until the duplicates are removed."
            ),
            acknowledge(),
            customer(
                "Nach einem Neustart unseres EDI-Gateways wurden Lieferavise (DESADV) vom "
                "Vortag doppelt an Sie übertragen. Bitte buchen Sie diese nicht; wir stornieren "
                "sie gemeinsam mit Ihrem EDI-Team."
            ),
            resolve(
                "Duplicates identified by message reference and cancelled with Alpenland's EDI "
                "team; the gateway now persists its send state before acknowledging."
            ),
            close(
                "Root cause: the gateway acknowledged messages before persisting the send "
                "state, so a restart re-sent them. Corrective action: persist first, then "
                "acknowledge; receivers deduplicate by message reference."
            ),
        ),
        created_by="responder",
        commander="manager",
    ),
    DemoIncident(
        "Rechnungsversand per E-Mail verzögert",
        "Rechnungs-E-Mails stauen sich im Mail-Relay und werden mit bis zu vier Stunden "
        "Verzögerung zugestellt.",
        ("e-rechnung",),
        6 * DAY,
        State.CLOSED,
        (
            classify("low", "high"),
            resolve(
                "Sperre durch den Spamfilter eines Empfängers aufgehoben, Warteschlange "
                "abgearbeitet; Rate-Limit je Empfängerdomäne eingeführt."
            ),
            close(),
        ),
        created_by="responder",
    ),
]


# Monitoring integrations (name, kind, service, grouping rules: group by, group window, flapping
# window in minutes), so that the console's Integrations page and /api/v1/integrations/ show how
# alert storms become a few incidents. Their keys are random: the admin shows them.
INTEGRATIONS = [
    ("Zabbix Rechenzentrum", Integration.Kind.EVENTS_V2, "sendungsverfolgung", ["source"], 30, 10),
    (
        "Prometheus Alertmanager",
        Integration.Kind.ALERTMANAGER,
        "kundenportal-rheinaue",
        ["alertname", "cluster"],
        0,
        5,
    ),
]


class Command(BaseCommand):
    help = (
        "Load demo customers, services, users (one per role) and incidents in every state. "
        "Idempotent: running it again changes nothing."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            customers = self._customers()
            services = self._services(customers)
            self._payments_rule(services)
            users = self._users(customers)
            self._escalation_setup(services, users)
            self._integrations(services)
            self._contracts(customers)
            created = 0
            for spec in INCIDENTS:
                if Incident.objects.filter(title=spec.title).exists():
                    continue
                self._incident(spec, services, users)
                created += 1
            load_problems_demo()  # escalation/problems/: a known error with three incidents
            from escalation.regulatory.demo import regulatory_demo  # a nested app's demo data

            regulatory_demo()
            continuity_demo_load()  # business processes and runbooks (escalation/continuity)
            from escalation.reviews.demo import load as load_reviews

            load_reviews(users)
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Demo data: {len(CUSTOMERS)} customers, {len(SERVICES)} services, "
                f"{len(INCIDENTS)} incidents ({created} created now, "
                f"{len(INCIDENTS) - created} already there)."
            )
            self.stdout.write("")
            self.stdout.write(self._login_table())

    # --- reference data --------------------------------------------------------------------------

    def _customers(self) -> dict[str, Customer]:
        result = {}
        for slug, name, language, time_zone in CUSTOMERS:
            result[slug], _ = Customer.objects.get_or_create(
                slug=slug, defaults={"name": name, "language": language, "time_zone": time_zone}
            )
        return result

    def _services(self, customers: dict[str, Customer]) -> dict[str, Service]:
        groups = {}
        for slug, name, position in SERVICE_GROUPS:
            groups[slug], _ = ServiceGroup.objects.get_or_create(
                slug=slug, defaults={"name": name, "position": position}
            )
        result = {}
        for position, spec in enumerate(SERVICES, start=1):
            service, created = Service.objects.get_or_create(
                slug=spec.slug,
                defaults={
                    "name": spec.name,
                    "group": groups[spec.group],
                    "description": spec.description,
                    "is_private": spec.is_private,
                    "position": position * 10,
                },
            )
            if created:  # later edits in the admin are kept
                service.customers.set([customers[slug] for slug in spec.customers])
                if spec.slug in PUBLIC_TEXTS:
                    service.public_text, service.public_text_en = PUBLIC_TEXTS[spec.slug]
                    service.save(update_fields=["public_text", "public_text_en"])
            result[spec.slug] = service
        return result

    def _payments_rule(self, services: dict[str, Service]) -> None:
        rule, created = EscalationRule.objects.get_or_create(
            name=PAYMENTS_RULE,
            defaults={
                "position": 20,
                "auto_escalate": True,
                # Listed payment services escalate from P3 up; P4/P5 stay with the team.
                "min_priority_for_lists": Priority.P3,
            },
        )
        if created:
            rule.services.set([services[slug] for slug in PAYMENTS_RULE_SERVICES])

    def _users(self, customers: dict[str, Customer]) -> dict[str, User]:
        result = {}
        for spec in USERS:
            try:
                group = Group.objects.get(name=spec.role)
            except Group.DoesNotExist:
                raise CommandError(
                    f"Role group '{spec.role}' is missing: run `manage.py migrate` first."
                ) from None
            user, created = User.objects.get_or_create(
                username=spec.username,
                defaults={
                    "first_name": spec.first_name,
                    "last_name": spec.last_name,
                    "email": spec.email,
                    "is_staff": spec.is_staff,
                    "language": spec.language,
                    "time_zone": spec.time_zone,
                    "customer": customers[spec.customer] if spec.customer else None,
                },
            )
            if created:
                user.set_password(spec.password)
                user.save(update_fields=["password"])
                user.groups.add(group)
            result[spec.username] = user
        return result

    def _escalation_setup(self, services: dict[str, Service], users: dict[str, User]) -> None:
        """On-call rotas, policies and the communication matrix, so escalations page someone."""
        hours, _ = BusinessCalendar.objects.get_or_create(
            name="Servicezeiten Mo-Fr 8-18 (NRW)", defaults={"subdivision": "NW"}
        )
        platform = self._rota(
            "Plattform-Bereitschaft", "weekly", [users["responder"], users["manager"]]
        )
        self._rota(
            "Eskalationsmanager vom Dienst", "daily", [users["manager"]], manager_on_duty=True
        )
        default, created = EscalationPolicy.objects.get_or_create(
            name="Standard", defaults={"is_default": True, "repeat": 1}
        )
        if created:
            level = EscalationLevel.objects.create(
                policy=default, position=0, timeout_minutes=10, schedule=platform
            )
            level = EscalationLevel.objects.create(policy=default, position=1, timeout_minutes=15)
            level.users.add(users["responder"])
        payments, created = EscalationPolicy.objects.get_or_create(
            name="Zahlungsverkehr 24/7", defaults={"repeat": 2}
        )
        if created:
            payments.services.set([services[slug] for slug in PAYMENTS_RULE_SERVICES])
            level = EscalationLevel.objects.create(policy=payments, position=0, timeout_minutes=5)
            level.users.add(users["responder"])
            EscalationLevel.objects.create(
                policy=payments, position=1, timeout_minutes=10, schedule=platform
            )
        internal, created = EscalationPolicy.objects.get_or_create(
            name="Interne Systeme (Servicezeiten)",
            defaults={"calendar": hours, "wait_for_business_hours": True},
        )
        if created:
            internal.services.set(Service.objects.filter(group__slug="interne-systeme"))
            EscalationLevel.objects.create(
                policy=internal, position=0, timeout_minutes=30, schedule=platform
            )
        if not CommunicationRule.objects.exists():
            for position, (priority, audience, cadence, template) in enumerate(MATRIX, start=1):
                CommunicationRule.objects.create(
                    position=position, priority=priority, audience=audience,
                    channels=["email"], cadence_minutes=cadence, template=template,
                    auto_publish=priority == Priority.P1 and audience == "customers",
                )  # fmt: skip

    def _integrations(self, services: dict[str, Service]) -> None:
        for name, kind, service, group_by, group_window, flap_window in INTEGRATIONS:
            if Integration.objects.filter(name=name, kind=kind).exists():
                continue  # later edits (console, admin, API) are kept
            integration_rules_set(
                integration=integration_create(kind=kind, service=services[service], name=name),
                actor=None,
                group_labels=group_by,
                group_window=group_window,
                flap_window=flap_window,
            )

    def _contracts(self, customers: dict[str, Customer]) -> None:
        """A contract per customer with SLA targets and the usual penalty clauses (before the
        incidents, so their SLA clocks start)."""
        hours = BusinessCalendar.objects.get(name="Servicezeiten Mo-Fr 8-18 (NRW)")
        for spec in CONTRACTS:
            contract, created = Contract.objects.get_or_create(
                customer=customers[spec["customer"]],
                name=spec["name"],
                defaults={
                    "calendar": hours if spec["business_hours"] else None,
                    "monthly_fee": Decimal(spec["fee"]),
                    "valid_from": date(2026, 1, 1),
                    **spec["caps"],
                },
            )
            if not created:
                continue
            for priority, response, workaround, restore in spec["targets"]:
                SlaTarget.objects.create(
                    contract=contract,
                    priority=priority,
                    response_minutes=response,
                    workaround_minutes=workaround,
                    restore_minutes=restore,
                )
            for position, clause in enumerate(spec["clauses"]):
                PenaltyClause.objects.create(contract=contract, position=position, **clause)

    def _rota(self, name, rotation, members, manager_on_duty=False) -> OnCallSchedule:
        schedule, created = OnCallSchedule.objects.get_or_create(
            name=name, defaults={"is_manager_on_duty": manager_on_duty}
        )
        if created:
            layer = ScheduleLayer.objects.create(
                schedule=schedule, rotation=rotation, start_date=date(2026, 1, 5),
                handoff_time=time(9),
            )  # fmt: skip
            for position, user in enumerate(members):
                LayerMember.objects.create(layer=layer, user=user, position=position)
        return schedule

    # --- incidents -------------------------------------------------------------------------------

    def _incident(self, spec: DemoIncident, services: dict[str, Service], users: dict[str, User]):
        """One incident through the services, each step at the time it happened (STEP_MINUTES after
        the one before, at the latest a minute ago), so timelines, MTTA, MTTR, SLA credits and the
        availability figures read as real history, not as "resolved today"."""
        now = timezone.now()
        at = now - timedelta(hours=spec.hours_ago)
        with time_machine.travel(at, tick=False):
            incident = self._incident_create(spec, services, users, at)
        for action, actor, kwargs in spec.steps:
            at = min(at + timedelta(minutes=STEP_MINUTES[action]), now - timedelta(minutes=1))
            with time_machine.travel(at, tick=False):
                SERVICE_CALLS[action](incident=incident, actor=users[actor], **kwargs)
        state = Incident.objects.values_list("state", flat=True).get(pk=incident.pk)
        if state != spec.expect:
            # The escalation rules in this database differ from the seeded ones.
            raise CommandError(
                f"Demo incident '{spec.title}' ended in state '{state}', expected "
                f"'{spec.expect}'. Check the escalation rules (nothing was written)."
            )

    def _incident_create(self, spec, services, users, detected_at):
        return incident_create(
            actor=users[spec.created_by] if spec.created_by else None,
            title=spec.title,
            description=spec.description,
            services=[services[slug] for slug in spec.services],
            source=spec.source,
            dedup_key=spec.dedup_key,
            commander=users[spec.commander] if spec.commander else None,
            detected_at=detected_at,
        )

    # --- output ----------------------------------------------------------------------------------

    def _login_table(self) -> str:
        header = ("Role", "Username", "Password", "May")
        rows = [(u.role_label, u.username, u.password, u.may) for u in USERS]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def line(cells):
            padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            return "  ".join(padded).rstrip()

        return "\n".join(
            [
                "Demo logins (passwords are set when a user is first created):",
                line(header),
                line(["-" * width for width in widths]),
                *(line(row) for row in rows),
            ]
        )
