"""notifications.hooks: how delivery tells the escalation process about problems without
importing it (EscalationConfig.ready registers the handler)."""

from types import SimpleNamespace

from notifications import hooks


def test_a_failing_handler_stops_neither_the_others_nor_the_worker(monkeypatch):
    heard = []

    def broken(*, notification):
        raise RuntimeError("the timeline is away")

    def listening(*, notification):
        heard.append(notification.pk)

    monkeypatch.setattr(hooks, "_problem_handlers", [broken, listening])
    hooks.delivery_problems_report([SimpleNamespace(pk=1), SimpleNamespace(pk=2)])
    assert heard == [1, 2]


def test_registering_twice_registers_once(monkeypatch):
    monkeypatch.setattr(hooks, "_scope_providers", [])

    def provider():
        return [("service:portal", "Portal")]

    hooks.subscription_scopes_register(provider)
    hooks.subscription_scopes_register(provider)
    assert hooks.subscription_scopes() == [("service:portal", "Portal")]
