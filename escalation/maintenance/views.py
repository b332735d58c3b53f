"""The console's maintenance windows: a list for the team, a form for escalation managers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from escalation.dashboard.selectors import viewer_role
from incidents.selectors import role_of

from .forms import MaintenanceForm
from .models import Maintenance
from .selectors import covered_services
from .services import maintenance_create, maintenance_delete, maintenance_update


def _require_staff(user) -> None:
    if role_of(user) != "staff":
        raise PermissionDenied


def _require_manager(user) -> None:
    _require_staff(user)
    if viewer_role(user) != "manager":
        raise PermissionDenied


@login_required
@require_safe
def maintenance_list(request):
    _require_staff(request.user)
    now = timezone.now()
    windows = Maintenance.objects.filter(ends_at__gte=now - timezone.timedelta(days=30))
    rows = [
        {"window": w, "phase": w.phase(now), "services": covered_services(w)}
        for w in windows.prefetch_related("services", "groups").order_by("starts_at")
    ]
    return render(
        request,
        "maintenance/list.html",
        {"rows": rows, "may_edit": viewer_role(request.user) == "manager"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def maintenance_edit(request, pk: int | None = None):
    _require_manager(request.user)
    window = get_object_or_404(Maintenance, pk=pk) if pk else None
    form = MaintenanceForm(request.POST or None, instance=window)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if window is None:
            maintenance_create(actor=request.user, **data)
        else:
            maintenance_update(window=window, actor=request.user, **data)
        messages.success(request, _("The maintenance window was saved."))
        return redirect("maintenance:list")
    return render(request, "maintenance/edit.html", {"form": form, "window": window})


@login_required
@require_http_methods(["POST"])
def maintenance_delete_view(request, pk: int):
    _require_manager(request.user)
    maintenance_delete(window=get_object_or_404(Maintenance, pk=pk), actor=request.user)
    messages.success(request, _("The maintenance window was removed."))
    return redirect("maintenance:list")
