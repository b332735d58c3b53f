"""The console's maintenance windows: a list for the team, a form for escalation managers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from escalation.access import require_manager, require_staff
from escalation.dashboard.selectors import viewer_role

from .forms import MaintenanceForm
from .models import Maintenance
from .selectors import covered_services
from .services import maintenance_create, maintenance_delete, maintenance_update


@login_required
@require_safe
def maintenance_list(request):
    require_staff(request.user)
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
    require_manager(request.user)
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
    require_manager(request.user)
    maintenance_delete(window=get_object_or_404(Maintenance, pk=pk), actor=request.user)
    messages.success(request, _("The maintenance window was removed."))
    return redirect("maintenance:list")
