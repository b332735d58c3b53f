"""The customer portal: a customer contact sees their organisation's services and incidents, the
customer-facing updates, a notice kit per incident, and manages their organisation's subscriptions.

Every read goes through incidents.selectors (which scope to the contact's organisation); anything
outside it is a 404, whoever asks for it and however. Staff and executives get a 403 page (never a
customer view of all data); anonymous visitors go to the login page.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from incidents.models import Customer, Incident, ServiceStatus, State
from incidents.selectors import (
    portal_incident_for,
    portal_overview_for,
    portal_scopes_for,
    role_of,
    updates_for,
)
from notifications.models import Subscription
from notifications.services import subscription_deactivate as deactivate
from notifications.services import subscription_request_for_contact

from ..statuspage.render import INCIDENT_STATUS_LABELS
from . import notice
from .contributors import portal_sections_render
from .forms import PortalSubscribeForm

# What customers read about an incident's state: what it means for them, not our process; in
# the public status page's words, and one step more (escalated) for the affected organisation.
STATE_LABELS = {
    State.DETECTED: INCIDENT_STATUS_LABELS["investigating"],
    State.CLASSIFIED: INCIDENT_STATUS_LABELS["investigating"],
    State.ESCALATED: gettext_lazy("Being worked on"),
    State.WORKAROUND: INCIDENT_STATUS_LABELS["identified"],
    State.RESOLVED: INCIDENT_STATUS_LABELS["resolved"],
    State.CLOSED: INCIDENT_STATUS_LABELS["resolved"],
}


class LoginView(auth_views.LoginView):
    """Django's login; customer contacts land on the portal, executives on their dashboard, staff
    on the console (LOGIN_REDIRECT_URL). A `next` parameter still wins."""

    def get_default_redirect_url(self):
        role = role_of(self.request.user)
        if role == "customer":
            return resolve_url("portal:home")
        if role == "executive":
            return "/dashboard/"  # the dashboard lives in escalation (no import from here)
        return super().get_default_redirect_url()


def customer_contact_required(view):
    """Log in first; then customer contacts only (everybody else: a 403 page)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        prefetch_related_objects([request.user], "groups")  # role_of reads them, once
        role = role_of(request.user)
        if role != "customer":
            return render(request, "portal/forbidden.html", {"role": role}, status=403)
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _label(incident: Incident) -> Incident:
    incident.state_label = STATE_LABELS.get(incident.state, incident.get_state_display())
    incident.heading = incident.customer_title or _("Incident %(number)s") % {"number": incident.pk}
    return incident


def _incident(request, pk: int) -> Incident:
    try:
        return _label(portal_incident_for(request.user, pk))
    except Incident.DoesNotExist as exc:
        raise Http404 from exc


def _customer(request) -> Customer:
    return Customer.objects.get(pk=request.user.customer_id)


@customer_contact_required
@require_safe
def home(request):
    overview = portal_overview_for(request.user)
    for service in overview["services"]:
        service.status_label = ServiceStatus(service.status).label
    for incident in overview["open"] + overview["resolved"]:
        _label(incident)
    sections = portal_sections_render(request)  # e.g. maintenance windows (nested apps)
    context = {"customer": _customer(request), "sections": sections, **overview}
    return render(request, "portal/home.html", context)


@customer_contact_required
@require_safe
def incident_detail(request, pk: int):
    incident = _incident(request, pk)
    customer = _customer(request)
    notices = [
        (
            language,
            name,
            notice.notice_text(
                incident, customer=customer, contact=request.user, language=language
            ),
        )
        for language, name in (("de", "Deutsch"), ("en", "English"))
    ]
    context = {
        "customer": customer,
        "incident": incident,
        "status_label": ServiceStatus(incident.service_status).label,
        "updates": updates_for(request.user, incident),
        "notices": notices,
    }
    return render(request, "portal/incident.html", context)


def _notice_args(request, pk: int) -> dict:
    return {
        "incident": _incident(request, pk),
        "customer": _customer(request),
        "contact": request.user,
        "language": notice.notice_language(request.GET.get("lang"), default=request.user.language),
    }


@customer_contact_required
@require_safe
def notice_text(request, pk: int):
    args = _notice_args(request, pk)
    text = notice.notice_text(**args)
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@customer_contact_required
@require_safe
def notice_pdf(request, pk: int):
    args = _notice_args(request, pk)
    pdf = notice.notice_pdf(**args, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"notice-{pk}-{args['language']}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _subscriptions(request, scopes: list[tuple[str, str, bool]]) -> QuerySet[Subscription]:
    """The organisation's subscriptions: those about the organisation itself, and those about one
    of its services that one of its contacts owns (a service may be shared with other
    organisations and the public: their subscribers are none of this organisation's business)."""
    customer_scope = scopes[0][0]
    service_scopes = [scope for scope, _name, _private in scopes[1:]]
    return Subscription.objects.filter(
        Q(scope=customer_scope)
        | Q(scope__in=service_scopes, user__customer_id=request.user.customer_id)
    ).order_by("scope", "channel", "address")


@customer_contact_required
@require_http_methods(["GET", "POST"])
def subscriptions(request):
    scopes = portal_scopes_for(request.user)
    # Private services never reach the status page; their subscribers would get every customer's
    # incidents on them, so the organisation subscribes to itself for those.
    choices = [(scope, name) for scope, name, private in scopes if not private]
    form = PortalSubscribeForm(
        request.POST or None, scopes=choices, initial={"language": request.user.language}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        subscription_request_for_contact(
            contact=request.user,
            channel=data["channel"],
            address=data["address"],
            scope=data["scope"],
            scope_label=data["scope_label"],
            language=data["language"],
        )
        messages.success(
            request,
            _(
                "We sent a confirmation to %(address)s. The subscription to “%(about)s” starts "
                "when it is confirmed."
            )
            % {"address": data["address"], "about": data["scope_label"]},
        )
        return redirect("portal:subscriptions")
    context = {
        "customer": _customer(request),
        "subscriptions": _subscriptions(request, scopes),
        "form": form,
    }
    return render(request, "portal/subscriptions.html", context)


@customer_contact_required
@require_POST
def subscription_deactivate(request, pk: int):
    subscription = get_object_or_404(
        _subscriptions(request, portal_scopes_for(request.user)), pk=pk
    )
    deactivate(subscription=subscription)
    messages.success(
        request,
        _("%(address)s receives no more updates about “%(about)s”.")
        % {"address": subscription.address, "about": subscription.scope_label},
    )
    return redirect("portal:subscriptions")
