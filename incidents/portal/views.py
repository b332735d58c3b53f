"""The customer portal: a customer contact sees their organisation's services and incidents, the
customer-facing updates, a notice kit per incident, and manages their organisation's subscriptions.

Every read goes through incidents.selectors (which scope to the contact's organisation); anything
outside it is a 404, whoever asks for it and however. Staff and executives get a 403 page (never a
customer view of all data); anonymous visitors go to the login page.
"""

import hashlib
import time
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from config.cache import increment
from config.proxy import client_ip
from incidents.models import Customer, Incident, ServiceStatus
from incidents.selectors import (
    portal_incident_for,
    portal_overview_for,
    portal_scopes_for,
    role_of,
)
from notifications.models import Subscription
from notifications.services import SubscriptionThrottled, subscription_request_for_contact
from notifications.services import subscription_deactivate as deactivate
from notifications.views import THROTTLED, client_address

from . import notice
from .contributors import portal_sections_render
from .forms import PortalSubscribeForm


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


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, throttled (settings.PASSWORD_RESET_PER_*_PER_HOUR): one client
    address gets a 429 page after its limit; one email address gets no more mail after its
    limit, but the same "sent" page, so nobody learns whether an address exists or was throttled.
    Counted per hour in the cache all processes share."""

    def form_valid(self, form):
        hour = int(time.time() // 3600)
        client = client_ip(self.request)
        if increment(f"pwreset:client:{client}:{hour}", 3700) > (
            settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR
        ):
            form.add_error(None, _("Too many requests. Please try again in an hour."))
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        email = form.cleaned_data["email"].strip().lower()
        address = hashlib.sha256(email.encode()).hexdigest()
        if increment(f"pwreset:address:{address}:{hour}", 3700) > (
            settings.PASSWORD_RESET_PER_ADDRESS_PER_HOUR
        ):
            return redirect(self.get_success_url())
        return super().form_valid(form)


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
    """The public status (the glossary's word) and the public title: incidents.presentation."""
    incident.state_label = incident.public["status_label"]
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
        "updates": incident.public["updates"],
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
    own = Q(user__customer_id=request.user.customer_id)
    return Subscription.objects.filter(
        Q(scope=customer_scope)
        | (own & (Q(scope__in=service_scopes) | Q(scope__startswith="set:")))
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
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscription_request_for_contact(
                contact=request.user,
                channel=data["channel"],
                address=data["address"],
                scope=data["scope"],
                scope_label=data["scope_label"],
                language=data["language"],
                client_address=client_address(request),
            )
        except SubscriptionThrottled:
            form.add_error(None, THROTTLED)
            status = 429
        else:
            messages.success(
                request,
                _(
                    "We sent a confirmation to %(address)s. The subscription to “%(about)s” "
                    "starts when it is confirmed."
                )
                % {"address": data["address"], "about": data["scope_label"]},
            )
            return redirect("portal:subscriptions")
    context = {
        "customer": _customer(request),
        "subscriptions": _subscriptions(request, scopes),
        "form": form,
    }
    return render(request, "portal/subscriptions.html", context, status=status)


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
