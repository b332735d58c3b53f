"""An automated accessibility audit: axe-core (vendored, tests/browser/vendor/) runs in a real
Chromium on every browser surface, in both languages, as the person who uses that page, and
finds no WCAG 2.0/2.1 A/AA violation of impact "serious" or "critical" (nor a broken or doubled
id reference, which axe only reports as "needs review"; see BLOCKING_REVIEW). The assertion
message lists everything axe found, minor, moderate and "needs review" too, so a failure shows the
whole picture. Forms are also audited as they answer a mistake (the "-errors" pages).

One Chromium serves the whole module; the data is made anew for each test (transaction=True
empties the database after every test), and people are signed in by session cookie (the login
page itself is one of the audited pages)."""

from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone

from escalation.maintenance.services import maintenance_create
from escalation.models import (
    CommunicationRule,
    Contract,
    LayerMember,
    OnCallSchedule,
    PenaltyClause,
    ScheduleLayer,
    SlaTarget,
)
from escalation.services import incident_escalate, incident_open
from escalation.services.integrations import integration_create, integration_rules_set
from escalation.services.matrix import update_publish
from escalation.services.questions import question_ask
from incidents.models import State
from notifications.models import Subscription
from notifications.services import subscription_token
from tests.browser.chromium import chromium, screenshot_dir
from tests.factories import IncidentFactory, ServiceFactory, ServiceGroupFactory, drive

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
# axe asks for a review ("incomplete") when an ARIA attribute names an id that is not on the page,
# as a script might add it later. No script adds one on these server-rendered pages: there, a
# missing id is a broken reference (an error message or help text a screen reader never reads).
# Likewise for an id that two elements carry while a label or ARIA attribute names it: on a static
# page, one of the two fields has the wrong name (or none).
BLOCKING_REVIEW = {"aria-valid-attr-value", "duplicate-id-aria"}

# Opens every <details> (what a keyboard user can open is audited too), runs axe and hands back
# only what the report needs (axe's full result is large).
RUN_AXE = """
const done = arguments[arguments.length - 1];
document.querySelectorAll('details').forEach(d => { d.open = true; });
const brief = rule => ({
  id: rule.id, impact: rule.impact, help: rule.help,
  targets: rule.nodes.map(n => n.target.join(' ')),
  summary: rule.nodes.length ? rule.nodes[0].failureSummary || '' : '',
  messages: rule.nodes.map(n => [...n.any, ...n.all, ...n.none].map(c => c.message).join('; ')),
});
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]},
                   resultTypes: ['violations', 'incomplete']})
  .then(r => done({violations: r.violations.map(brief), review: r.incomplete.map(brief)}))
  .catch(error => done({error: String(error)}));
"""


@dataclass(frozen=True)
class Page:
    """Who signs in (a `world` attribute; None: nobody), the path (formatted with the world as
    `w`) and, for a page as it answers a mistake, the fields to type into and the button that
    sends the form."""

    who: str | None
    path: str
    fill: tuple[tuple[str, str], ...] = ()
    submit: str = ""


SEND = "main form button[type=submit]"
PAGES = {
    "console-board": Page("manager", "/console/"),
    "console-incident": Page("manager", "/console/incidents/{w.p1.pk}/"),
    "console-incident-detected": Page("manager", "/console/incidents/{w.detected.pk}/"),
    "console-incident-resolved": Page("manager", "/console/incidents/{w.resolved.pk}/"),
    "console-incident-new": Page("manager", "/console/incidents/new/"),
    "console-incident-new-errors": Page("manager", "/console/incidents/new/", submit=SEND),
    "console-communication": Page("manager", "/console/incidents/{w.p1.pk}/communication/"),
    "console-oncall": Page("manager", "/console/oncall/"),
    "console-matrix": Page("manager", "/console/matrix/"),
    "console-matrix-edit": Page("manager", "/console/matrix/{w.rule.pk}/"),
    "console-integrations": Page("manager", "/console/integrations/"),
    "console-integration-edit": Page("manager", "/console/integrations/{w.integration.pk}/"),
    "console-integration-edit-errors": Page(
        "manager",
        "/console/integrations/{w.integration.pk}/",
        fill=(("id_group_labels", ", cluster"),),  # named twice: a field error
        submit=SEND,
    ),
    "console-questions": Page("manager", "/console/questions/"),
    "console-reports": Page("manager", "/console/reports/"),
    "console-maintenance": Page("manager", "/console/maintenance/"),
    "console-maintenance-edit": Page("manager", "/console/maintenance/{w.maintenance.pk}/"),
    "console-maintenance-errors": Page("manager", "/console/maintenance/new/", submit=SEND),
    "console-reporting": Page("manager", "/console/reporting/incidents/{w.p1.pk}/"),
    "console-reporting-list": Page("manager", "/console/reporting/"),
    "console-report": Page("executive", "/console/reports/{w.customer.slug}/{w.month}/"),
    "dashboard": Page("executive", "/dashboard/"),
    "portal-home": Page("customer_contact", "/portal/"),
    "portal-incident": Page("customer_contact", "/portal/incidents/{w.p1.pk}/"),
    "portal-incident-resolved": Page("customer_contact", "/portal/incidents/{w.resolved.pk}/"),
    "portal-subscriptions": Page("customer_contact", "/portal/subscriptions/"),
    "portal-subscriptions-errors": Page(
        "customer_contact",
        "/portal/subscriptions/",
        submit="section[aria-labelledby=add] button[type=submit]",
    ),
    "status": Page(None, "/status/"),
    "login": Page(None, "/accounts/login/"),
    "login-errors": Page(
        None,
        "/accounts/login/",
        fill=(("id_username", "erika.executive"), ("id_password", "not-the-password")),
        submit=SEND,
    ),
    "subscribe": Page(None, "/subscribe/"),
    "subscribe-errors": Page(None, "/subscribe/", submit=SEND),
    "subscription-confirm": Page(None, "/subscriptions/{w.token}/confirm/"),
    "subscription-manage": Page(None, "/subscriptions/{w.token}/"),
    "subscription-unsubscribe": Page(None, "/subscriptions/{w.token}/unsubscribe/"),
}


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        driver.set_script_timeout(60)
        yield driver


@pytest.fixture(scope="module")
def axe_source():
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _status_dir(settings, tmp_path):
    """Status page renders (after every commit) go to a folder of this test's own."""
    settings.STATUS_PAGE_DIR = tmp_path / "status"


@pytest.fixture
def world(manager, executive, customer, customer_contact):
    """What the pages show: an open P1 escalation (customer and executive updates, a contract
    with SLA targets whose restore target is missed, so a penalty accrues), open incidents of
    every other priority and one not yet classified, a resolved incident, an executive's open
    question, an on-call rota, a communication rule, a grouping integration and a confirmed
    subscription."""
    return _world(manager, executive, customer, customer_contact)


@transaction.atomic  # one commit, so the status page renders once (on commit), not at every step
def _world(manager, executive, customer, customer_contact) -> SimpleNamespace:
    now = timezone.now()
    group = ServiceGroupFactory(slug="portale", name="Portale")
    portal = ServiceFactory(slug="kundenportal", name="Kundenportal", group=group)
    mail = ServiceFactory(slug="mail", name="E-Mail", group=group)
    portal.customers.add(customer)
    contract = Contract.objects.create(
        customer=customer,
        name="Betrieb Kundenportal",
        monthly_fee=Decimal("20000.00"),
        cap_per_incident_percent=Decimal("50"),
        valid_from=date(now.year - 1, 1, 1),
    )
    contract.services.add(portal)
    SlaTarget.objects.create(
        contract=contract,
        priority=1,
        response_minutes=15,
        workaround_minutes=60,
        restore_minutes=240,
    )
    PenaltyClause.objects.create(
        contract=contract,
        target="restore",
        form="fixed_per_period",
        amount=Decimal("500"),
        period_minutes=60,
    )
    rule = CommunicationRule.objects.create(
        audience="responders", channels=["email"], cadence_minutes=30
    )
    integration = integration_create(kind="alertmanager", service=portal, name="Prometheus")
    integration_rules_set(
        integration=integration, actor=manager, group_labels=["alertname", "cluster"]
    )
    rota = OnCallSchedule.objects.create(name="Betrieb")
    layer = ScheduleLayer.objects.create(
        schedule=rota, rotation="daily", start_date=date(2020, 1, 6), handoff_time=time(9)
    )
    LayerMember.objects.create(layer=layer, user=manager, position=0)
    # An upcoming maintenance window (the status page announces it).
    local = timezone.localtime(now)
    starts = (local + timedelta(days=2)).replace(hour=22, minute=0, second=0, microsecond=0)
    maintenance = maintenance_create(
        actor=manager,
        title="E-Mail: Umzug auf neue Server",
        body="Der Versand kann sich um bis zu 30 Minuten verzögern.",
        services=[mail],
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        silence=True,
    )

    p1 = incident_open(
        actor=manager,
        title="Kundenportal: Login schlägt fehl",
        description="Seit 09:12 Fehler 502 beim Login.",
        services=[portal],
        commander=manager,
        detected_at=now - timedelta(hours=5),  # past the restore target: a penalty accrues
        impact="high",
        urgency="high",
    )
    if p1.state != State.ESCALATED:  # a P1 escalates itself, unless ESCALATION_AUTO_ESCALATE is off
        p1 = incident_escalate(incident=p1, actor=manager, reason="Alle Kunden betroffen")
    from escalation.services.public import public_incident_publish

    public_incident_publish(  # customers (portal, status page) read its public face
        actor=manager,
        incidents=[p1],
        title="Kundenportal: Anmeldung gestört",
        title_en="Customer portal: login fails",
    )
    p1.refresh_from_db()
    update_publish(
        incident=p1, actor=manager, audience="customer", body="Wir arbeiten an einer Lösung."
    )
    update_publish(
        incident=p1, actor=manager, audience="executive", body="Notstrom läuft, Kunden informiert."
    )
    for impact, urgency in (("high", "medium"), ("medium", "medium"), ("low", "medium")):
        incident_open(  # P2, P3, P4: every pill colour on the board
            actor=manager,
            title=f"E-Mail: {impact}/{urgency}",
            services=[mail],
            impact=impact,
            urgency=urgency,
        )
    incident_open(
        actor=manager, title="E-Mail: low/low", services=[mail], impact="low", urgency="low"
    )
    detected = IncidentFactory(title="Monitoring: Zertifikat läuft ab", services=[mail], actor=None)
    slow = IncidentFactory(title="Kundenportal: langsam", services=[portal], actor=manager)
    public_incident_publish(actor=manager, incidents=[slow])  # with its all-clear on resolving
    resolved = drive(slow, State.RESOLVED, actor=manager)
    question_ask(actor=executive, text="Müssen wir die Presse informieren?", incident=p1)
    subscription = Subscription.objects.create(
        channel="email",
        address="carl@example.org",
        scope=f"customer:{customer.slug}",
        scope_label=customer.name,
        user=customer_contact,
        confirmed_at=now,
    )
    return SimpleNamespace(
        manager=manager,
        maintenance=maintenance,
        executive=executive,
        customer_contact=customer_contact,
        customer=customer,
        p1=p1,
        detected=detected,
        resolved=resolved,
        rule=rule,
        integration=integration,
        month=timezone.localtime(now).strftime("%Y-%m"),
        token=subscription_token(subscription),
    )


def _open(driver, base_url: str, path: str, language: str, user) -> None:
    """Open `path` in `language` (the django_language cookie), signed in as `user` (or not)."""
    driver.get(f"{base_url}/healthz")  # cookies can only be set for the page's own site
    driver.delete_all_cookies()
    driver.add_cookie({"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "path": "/"})
    if user is not None:
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        driver.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": session, "path": "/"})
    driver.get(f"{base_url}{path}")


def _send(driver, page: Page) -> None:
    """Type into the form and send it; return once the answer has replaced the page."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    for field, text in page.fill:
        driver.find_element("id", field).send_keys(text)
    before = driver.find_element("tag name", "html")
    driver.find_element("css selector", page.submit).click()

    def replaced(d) -> bool:
        # While the answer loads, Chromium may report the old node as stale or as "not in the
        # document" (a plain WebDriverException): both mean the page was replaced.
        try:
            return ec.staleness_of(before)(d)
        except WebDriverException:
            return True

    WebDriverWait(driver, 10).until(replaced)
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def _report(found: list[dict]) -> str:
    lines = []
    for v in sorted(found, key=lambda v: (v["impact"] not in BLOCKING, "review" in v, v["id"])):
        targets = ", ".join(v["targets"][:4]) + (" ..." if len(v["targets"]) > 4 else "")
        kind = "needs review" if v.get("review") else "violation"
        lines.append(
            f"- {v['id']} [{v['impact']}, {kind}] {v['help']} ({len(v['targets'])}x): {targets}"
        )
        detail = v["summary"] if v["impact"] in BLOCKING else ""
        if v.get("review"):
            detail = "; ".join(dict.fromkeys(v["messages"]))  # why axe could not decide
        if detail:
            lines.append("    " + detail.replace("\n", "\n    "))
    return "\n".join(lines)


# Pages whose look the README shows: page -> file name (German: "-de"); see screenshot_dir().
SCREENSHOTS = {
    "status": "status",
    "dashboard": "dashboard",
    "portal-home": "portal",
    "portal-incident": "portal-incident",
    "console-incident": "console-incident-sla",
    "console-report": "sla-report",
    "console-integrations": "console-integrations",
}


def _screenshot(driver, name: str) -> None:
    """The whole page: the window is stretched to the document's height first."""
    size = driver.get_window_size()
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 800), 4000))
    driver.save_screenshot(str(screenshot_dir() / name))
    driver.set_window_size(size["width"], size["height"])


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_has_no_serious_accessibility_violations(
    live_server, browser, axe_source, world, page, language
):
    d, spec = browser, PAGES[page]
    path = spec.path.format(w=world)
    _open(d, live_server.url, path, language, getattr(world, spec.who) if spec.who else None)
    assert d.current_url == f"{live_server.url}{path}", "redirected: not signed in?"
    assert 'class="card error-page"' not in d.page_source, "answered with an error page"
    if spec.submit:
        _send(d, spec)
    assert d.execute_script("return document.documentElement.lang") == language
    if page in SCREENSHOTS and not spec.submit:
        _screenshot(d, f"{SCREENSHOTS[page]}{'-de' if language == 'de' else ''}.png")

    d.execute_script(axe_source)
    result = d.execute_async_script(RUN_AXE, WCAG_TAGS)
    assert "error" not in result, result["error"]
    review = [{**r, "review": True} for r in result["review"]]
    promoted = [r for r in review if r["id"] in BLOCKING_REVIEW]
    blocking = [v for v in result["violations"] + promoted if v["impact"] in BLOCKING]
    everything = result["violations"] + review
    assert not blocking, f"{path} ({language}): axe found\n{_report(everything)}"
    if everything:
        print(f"{path} ({language}), nothing serious; to know:\n{_report(everything)}")
