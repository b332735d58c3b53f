"""The console's page of the monitoring integrations: the team reads each one's grouping rules in
words, escalation managers change them (the rules the admin and the API also set, through the same
service). The integration key is the sender's credential: no page shows it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import selectors
from .dashboard.selectors import viewer_role
from .forms import IntegrationRulesForm
from .models import Integration
from .services.integrations import RULE_FIELDS, integration_rules_set
from .views import _require_manager, _require_staff


def rules_in_words(integration: Integration) -> str:
    """The grouping rules as the ingest applies them, e.g. "Group by: alertname, instance ·
    window 30 min · flapping 10 min · resolves with its last alert"."""
    grouped = bool(integration.group_labels)
    if grouped:
        parts = [_("Group by: %(names)s") % {"names": ", ".join(integration.group_labels)}]
        if integration.group_window:
            parts.append(_("window %(n)d min") % {"n": integration.group_window})
        else:
            parts.append(_("window: while open"))
    else:
        parts = [_("One incident per alert")]
    if integration.flap_window:
        parts.append(_("flapping %(n)d min") % {"n": integration.flap_window})
    if not integration.resolve_on_resolved:
        parts.append(_("stays open when its alerts resolve"))
    elif grouped:
        parts.append(_("resolves with its last alert"))
    else:
        parts.append(_("resolves with its alert"))
    return " · ".join(parts)


@login_required
@require_http_methods(["GET", "HEAD"])
def integration_list(request):
    """The team's list (responders read it; escalation managers get the edit links)."""
    _require_staff(request.user)
    rows = [
        {"integration": integration, "rules": rules_in_words(integration)}
        for integration in selectors.integrations_for_team()
    ]
    can_edit = viewer_role(request.user) == "manager"  # as _require_manager decides
    return render(request, "console/integrations.html", {"rows": rows, "can_edit": can_edit})


@login_required
@require_http_methods(["GET", "POST"])
def integration_edit(request, pk: int):
    """Change an integration's grouping rules (escalation managers, as through the API)."""
    _require_manager(request.user)
    integration = get_object_or_404(selectors.integrations_for_team(), pk=pk)
    initial = {name: getattr(integration, name) for name in RULE_FIELDS}
    initial["group_labels"] = ", ".join(integration.group_labels)
    form = IntegrationRulesForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            integration_rules_set(integration=integration, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:  # Integration.clean(), should the form have let it pass
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("The grouping rules of %(name)s were saved.") % {"name": integration.name},
            )
            return redirect("console:integrations")
    context = {"form": form, "integration": integration}
    return render(
        request, "console/integration_edit.html", context, status=400 if form.errors else 200
    )
