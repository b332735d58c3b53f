"""Signing secrets (issue 15, High 3): every webhook receiver verifies with its own random secret,
never one derived from SECRET_KEY, so nothing a receiver sees forges an acknowledgement link
(which would stop a page), an iCal link or an unsubscribe token; secrets rotate with a grace
period in which the previous secret signs too."""

import hashlib
import hmac
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import signing
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from escalation import roles
from escalation.models import (
    AckLink,
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    EventWebhook,
    NotificationRule,
)
from escalation.services import incident_classify
from escalation.services.engine import ACK_SALT
from escalation.services.webhooks import incident_event_emit
from escalation.views import ICAL_PERSON_SALT
from notifications.models import Notification, Subscription
from notifications.services import SUBSCRIPTION_SALT, notification_enqueue
from notifications.tasks import deliver
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


def verifies(secret: str, request: dict) -> bool:
    headers = request["headers"]
    digest = hmac.new(
        secret.encode(), headers["X-Escalation-Timestamp"].encode() + b"." + request["body"],
        hashlib.sha256,
    ).hexdigest()  # fmt: skip
    return hmac.compare_digest(headers["X-Escalation-Signature"], f"v1={digest}")


def deliver_all() -> None:
    for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
        deliver(pk)


@pytest.fixture
def receivers(http_receiver, manager, customer_contact, settings, client):
    """Three receivers of signed webhooks, as an outsider sets them up: an outbound webhook, a
    person's webhook contact method that gets pages (with acknowledgement links), and a customer's
    webhook subscription from the portal. Returns what each was told and what it received."""
    service = ServiceFactory(slug="portal", is_private=False)
    hook = EventWebhook.objects.create(name="Ops", url=f"{http_receiver.url}/events")
    method = ContactMethod.objects.create(
        user=manager, channel="webhook", address=f"{http_receiver.url}/pages"
    )
    NotificationRule.objects.create(user=manager, contact_method=method, delay_minutes=0)
    manager.groups.add(Group.objects.get(name=roles.ESCALATION_MANAGER))
    policy = EscalationPolicy.objects.create(name="Portal", repeat=0)
    policy.services.add(service)
    EscalationLevel.objects.create(policy=policy, position=0, timeout_minutes=10).users.add(manager)
    incident = incident_classify(
        incident=IncidentFactory(services=[service], actor=manager),
        actor=manager,
        impact="high",
        urgency="high",
    )
    client.force_login(customer_contact)
    client.post(
        "/portal/subscriptions/",
        {
            "channel": "webhook",
            "address": f"{http_receiver.url}/subscriber",
            "scope": f"customer:{customer_contact.customer.slug}",
            "language": "en",
        },
    )
    client.logout()
    deliver_all()
    subscription = Subscription.objects.get(channel="webhook")
    told = {  # what each receiver's administrator is shown (the admin, the confirmation page)
        "/events": hook.secret,
        "/pages": getattr(method, "secret", settings.WEBHOOK_SECRET),
        "/subscriber": getattr(subscription, "secret", settings.WEBHOOK_SECRET),
    }
    return {
        "incident": incident,
        "subscription": subscription,
        "told": told,
        "requests": http_receiver.requests,
    }


def forgeries(key: str, *, link: AckLink, user, subscription) -> dict[str, str]:
    return {
        "ack": signing.dumps({"link": link.pk}, key=key, salt=ACK_SALT, compress=True),
        "ical": signing.Signer(key=key, salt=ICAL_PERSON_SALT).sign_object(user.pk),
        "unsubscribe": signing.Signer(key=key, salt=SUBSCRIPTION_SALT).sign_object(subscription.pk),
    }


def accepted(client, kind: str, token: str, *, user, subscription) -> bool:
    if kind == "ack":
        return client.get(f"/ack/{token}/").status_code == 200
    if kind == "ical":
        return client.get(f"/oncall/people/{user.pk}/{token}.ics").status_code == 200
    response = client.post(f"/subscriptions/{token}/unsubscribe/")
    subscription.refresh_from_db()
    return response.status_code == 200 and not subscription.is_active


def test_no_secret_a_receiver_sees_forges_a_signed_link(receivers, client, manager, settings):
    paths = {request["path"] for request in receivers["requests"]}
    assert {"/events", "/pages", "/subscriber"} <= paths
    seen = set()
    for request in receivers["requests"]:
        secret = receivers["told"][request["path"]]
        assert secret and verifies(secret, request), request["path"]
        seen.add(secret)
    link = AckLink.objects.filter(user=manager).first()
    subscription = receivers["subscription"]
    subscription.is_active = True
    subscription.save(update_fields=["is_active"])
    who = {"user": manager, "subscription": subscription}
    # The attack: treat what a receiver holds (or its part after a "whsec" prefix) as the key.
    for secret in seen:
        for key in {secret, secret[6:]}:
            for kind, token in forgeries(key, link=link, **who).items():
                assert not accepted(client, kind, token, **who), (kind, secret)
    # ... while the same forgery with the real key would work (the attack above is a real one).
    for kind, token in forgeries(settings.SECRET_KEY, link=link, **who).items():
        assert accepted(client, kind, token, **who), kind
    assert len(seen) == 3  # and one secret per receiver


def settings_in_a_fresh_interpreter(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)}, **env)
    clean.pop("WEBHOOK_SECRET", None)
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.WEBHOOK_SECRET, settings.OUTBOUND_ALLOW_NETWORKS]))"
    )
    return subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_the_fallback_secret_is_never_derived_from_secret_key(tmp_path):
    out = settings_in_a_fresh_interpreter(tmp_path, SECRET_KEY="k" * 50)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == ["", []]


def test_allowed_networks_come_from_the_environment_and_are_checked(tmp_path):
    out = settings_in_a_fresh_interpreter(tmp_path, OUTBOUND_ALLOW_NETWORKS="10.1.2.3/16, ::1")
    assert json.loads(out.stdout.splitlines()[-1])[1] == ["10.1.0.0/16", "::1/128"]
    out = settings_in_a_fresh_interpreter(tmp_path, OUTBOUND_ALLOW_NETWORKS="10.0.0.0/33")
    assert out.returncode != 0 and "OUTBOUND_ALLOW_NETWORKS" in out.stderr


def test_each_receiver_gets_its_own_random_secret(manager):
    methods = [
        ContactMethod.objects.create(user=manager, channel="webhook", address=f"https://x.org/{i}")
        for i in range(3)
    ]
    hooks = [EventWebhook.objects.create(name=str(i), url=f"https://x.org/{i}") for i in range(3)]
    secrets = {row.secret for row in [*methods, *hooks]}
    assert len(secrets) == 6 and all(len(s) > 40 for s in secrets)


def test_rotation_signs_with_the_new_secret_and_for_a_while_the_old_one(
    manager, http_receiver, capsys
):
    hook = EventWebhook.objects.create(name="Ops", url=f"{http_receiver.url}/events")
    old = hook.secret
    call_command("rotate_signing_secret", "webhook", str(hook.pk))
    new = capsys.readouterr().out.strip()
    hook.refresh_from_db()
    assert new == hook.secret and new != old and hook.previous_secret == old
    incident = IncidentFactory(actor=manager)
    with transaction.atomic():
        incident_event_emit(incident=incident, event="updated")
    deliver_all()
    [first] = http_receiver.requests
    assert verifies(new, first)
    previous = {**first, "headers": {**first["headers"]}}
    previous["headers"]["X-Escalation-Signature"] = first["headers"][
        "X-Escalation-Signature-Previous"
    ]
    assert verifies(old, previous)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        with transaction.atomic():
            incident.timeline_length += 1  # another event of the incident
            incident_event_emit(incident=incident, event="updated")
        deliver_all()
    second = http_receiver.requests[1]
    assert verifies(new, second) and "X-Escalation-Signature-Previous" not in second["headers"]
    assert json.loads(second["body"])["event"] == "incident.updated"


def test_admin_rotates_and_shows_the_new_secret_once(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(root)
    hook = EventWebhook.objects.create(name="Ops", url="https://hooks.example.org/x")
    old = hook.secret
    response = client.post(
        "/admin/escalation/eventwebhook/",
        {"action": "rotate_signing_secret", "_selected_action": [hook.pk]},
        follow=True,
    )
    hook.refresh_from_db()
    assert hook.secret != old and hook.secret in response.content.decode()
    page = client.get(f"/admin/escalation/eventwebhook/{hook.pk}/change/").content.decode()
    assert hook.secret not in page and hook.secret[:10] in page


def test_unknown_receiver_is_a_clear_command_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("rotate_signing_secret", "subscription", "999")


def test_the_notification_admin_does_not_show_signing_secrets(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(root)
    with transaction.atomic():
        notification, _ = notification_enqueue(
            dedup_key="x", channel="webhook", address="https://hooks.example.org/x",
            template="page", context={}, signing_secret="whsec_visible?",
        )  # fmt: skip
    page = client.get(f"/admin/notifications/notification/{notification.pk}/change/")
    assert page.status_code == 200 and "whsec_visible?" not in page.content.decode()
