"""When the page is rendered: once after a transaction that changed something customer-visible
(through the workflow services and the admin), never on a rollback, never breaking the action;
the beat task and the management command; concurrent renders coalesce."""

import json
import logging
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction

from escalation.services import incident_acknowledge, incident_resolve
from escalation.services.matrix import update_publish
from escalation.services.public import public_incident_publish
from incidents.models import Service
from incidents.services import update_post
from incidents.statuspage import render as render_module
from incidents.statuspage.render import _locked, request_render
from incidents.tasks import status_page_render

from .conftest import open_incident

pytestmark = pytest.mark.django_db


def summary(status_dir) -> dict:
    return json.loads((status_dir / "api/v2/summary.json").read_bytes())


def renders(django_capture_on_commit_callbacks, action):
    """Run `action` and the on-commit callbacks; return how many of them render the page."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = action()
    return result, sum(isinstance(c, render_module._RenderAfterCommit) for c in callbacks)


def test_the_workflow_rerenders_the_page_after_commit(
    world, manager, status_dir, django_capture_on_commit_callbacks
):
    incident, count = renders(
        django_capture_on_commit_callbacks, lambda: open_incident(manager, [world.portal])
    )
    assert count == 1  # create, classify, escalate: one transaction, one render
    assert summary(status_dir)["status"]["indicator"] == "critical"
    assert summary(status_dir)["incidents"] == []  # no public face yet: no entry

    _, count = renders(
        django_capture_on_commit_callbacks,
        lambda: public_incident_publish(actor=manager, incidents=[incident]),
    )
    assert count == 1
    assert len(summary(status_dir)["incidents"]) == 1

    _, count = renders(
        django_capture_on_commit_callbacks,
        lambda: update_publish(
            incident=incident, actor=manager, audience="customer", body="Engineers are on it."
        ),
    )
    assert count == 1
    [public] = summary(status_dir)["incidents"]
    assert public["incident_updates"][0]["body"] == "Engineers are on it."

    _, count = renders(
        django_capture_on_commit_callbacks,
        lambda: incident_resolve(incident=incident, actor=manager, resolution="Fixed"),
    )
    assert count == 1
    assert summary(status_dir)["incidents"] == []  # the public incident is resolved with it
    assert summary(status_dir)["status"]["indicator"] == "none"


def test_invisible_changes_do_not_render(world, manager, django_capture_on_commit_callbacks):
    incident = open_incident(manager, [world.portal])
    _, count = renders(
        django_capture_on_commit_callbacks,
        lambda: update_post(incident=incident, actor=manager, audience="internal", body="db-7"),
    )
    assert count == 0
    _, count = renders(
        django_capture_on_commit_callbacks,
        lambda: incident_acknowledge(incident=incident, actor=manager),
    )
    assert count == 0


def test_a_rollback_renders_nothing(world, manager, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(render_module, "_render") as rendered,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        open_incident(manager, [world.portal])
        raise RuntimeError("changed my mind")
    assert not [c for c in callbacks if isinstance(c, render_module._RenderAfterCommit)]
    rendered.assert_not_called()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_commit_renders(manager, status_dir):
    from tests.factories import ServiceFactory

    portal = ServiceFactory(slug="portal", name="Customer portal")
    open_incident(manager, [portal])
    assert summary(status_dir)["status"]["indicator"] == "critical"


def test_a_savepoint_rollback_registers_again(world, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        try:
            with transaction.atomic():
                open_incident(manager, [world.portal])
                raise RuntimeError("inner rollback")
        except RuntimeError:
            pass
        open_incident(manager, [world.shop])
    assert sum(isinstance(c, render_module._RenderAfterCommit) for c in callbacks) == 1


def test_a_failing_render_never_breaks_the_action(
    world, manager, caplog, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(render_module, "build", side_effect=RuntimeError("disk full")),
        caplog.at_level(logging.ERROR, logger="incidents.statuspage.render"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        incident = open_incident(manager, [world.portal])
    assert incident.pk and incident.priority == 1
    assert "rendering failed" in caplog.text


def test_saving_a_service_in_the_admin_rerenders(
    admin_client, world, status_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/incidents/service/{world.api.pk}/change/",
            {
                "name": "Public API",
                "slug": "api",
                "group": "",
                "description": "",
                "customers": [],
                "status_override": "under_maintenance",
                "position": 4,
            },
        )
    assert response.status_code == 302, response.content[:2000]
    assert Service.objects.get(pk=world.api.pk).status_override == "under_maintenance"
    [api] = [c for c in summary(status_dir)["components"] if c["name"] == "Public API"]
    assert api["status"] == "under_maintenance"
    assert summary(status_dir)["status"]["indicator"] == "maintenance"


def test_making_a_service_private_removes_it(
    admin_client, world, status_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            f"/admin/incidents/service/{world.api.pk}/change/",
            {"name": "Public API", "slug": "api", "is_private": "on", "position": 4},
        )
    names = {c["name"] for c in summary(status_dir)["components"]}
    assert "Public API" not in names and "Customer portal" in names


def test_beat_task_and_command_render(world, status_dir, capsys):
    assert status_page_render() is True
    assert (status_dir / "index.en.html").exists()
    (status_dir / "api/v2/summary.json").unlink()
    call_command("render_status_page")
    assert "20 files" in capsys.readouterr().out
    assert (status_dir / "api/v2/summary.json").exists()


def test_a_render_running_elsewhere_renders_once_more(world, status_dir):
    """While another process holds the lock, a request leaves a note and returns; the holder
    renders again for it."""
    calls = []
    real = render_module._render

    def holder_render(directory, **kwargs):
        calls.append("holder")
        if len(calls) == 1:  # meanwhile another process asks for a render and finds us busy
            assert request_render() is False
        return real(directory, **kwargs)

    with mock.patch.object(render_module, "_render", side_effect=holder_render):
        assert request_render() is True
    assert calls == ["holder", "holder"]
    assert not (status_dir / ".pending").exists()


def test_the_lock_is_exclusive(status_dir):
    with _locked(status_dir, wait=False) as first:
        assert first is True
        with _locked(status_dir, wait=False) as second:
            assert second is False


def test_in_production_the_render_runs_in_a_worker(
    world, manager, settings, status_dir, django_capture_on_commit_callbacks
):
    """With STATUS_PAGE_RENDER_ASYNC (the default outside tests) the committing request only
    queues the render task; the worker's task writes the files."""
    from config.celery import app

    settings.STATUS_PAGE_RENDER_ASYNC = True
    with app.connection_for_write() as connection:
        queue = connection.SimpleQueue(app.conf.task_default_queue)
        queue.clear()
        with django_capture_on_commit_callbacks(execute=True):
            open_incident(manager, [world.payments])
        assert not (status_dir / "manifest.json").exists()  # not rendered in the request
        message = queue.get(timeout=5)
        assert message.headers["task"] == "incidents.tasks.status_page_render"
        message.ack()
        queue.close()
    assert status_page_render() is True
    assert summary(status_dir)["status"]["indicator"] == "critical"


def test_an_alert_storm_queues_one_render_per_delay(settings, monkeypatch):
    """Many commits a second queue one delayed render per process, which sees them all; a commit
    after the queued render may have started queues the next (the broker only receives the
    task, so a recorder stands in for it here)."""
    from config.celery import app
    from incidents import coalesce

    settings.STATUS_PAGE_RENDER_ASYNC = True
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options)))
    now = [1000.0]
    monkeypatch.setattr(coalesce.time, "monotonic", lambda: now[0])
    for offset in (0, 0.1, 0.5, 0.74):  # before the queued render starts, less the margin
        now[0] = 1000 + offset
        render_module._RenderAfterCommit()()
    assert sent == [("incidents.tasks.status_page_render", {"countdown": 1.0})]
    now[0] = 1000.8  # the queued render may be running already: this commit needs another
    render_module._RenderAfterCommit()()
    assert len(sent) == 2


def test_under_a_storm_renders_rest_between_them(world, status_dir, settings, monkeypatch):
    """A render that is asked for again while it runs is followed by a rest of 3x its time (a
    big page must not keep a worker process rendering back to back); the render after the rest
    is queued for then and takes every note left meanwhile."""
    import time

    import time_machine

    from config.celery import app

    settings.STATUS_PAGE_RENDER_ASYNC = True
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options)))
    calls = []
    real = render_module._render

    def slow_render(directory, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            assert request_render() is False  # a commit elsewhere meanwhile: leaves a note
            time.sleep(0.5)  # a big page
        return real(directory, **kwargs)

    with mock.patch.object(render_module, "_render", side_effect=slow_render):
        assert request_render() is True
        assert len(calls) == 1  # the note waits for the rest
        [(task, options)] = sent
        assert task == "incidents.tasks.status_page_render"
        assert options["kwargs"] == {"rested": True} and options["countdown"] >= 1.5
        assert request_render() is False and len(calls) == 1  # resting: only a note
        assert (status_dir / ".pending").exists()
        # a rested task that starts while a rest still runs (a newer one) leaves it alone
        assert status_page_render(rested=True) is False and (status_dir / ".resting").exists()
        with time_machine.travel(time.time() + options["countdown"], tick=False):
            assert status_page_render(rested=True) is True  # the queued render, after the rest
    assert len(calls) == 2 and len(sent) == 1
    assert not (status_dir / ".pending").exists() and not (status_dir / ".resting").exists()
    assert request_render() is True  # a quiet page renders at once again
