"""Self-service subscriptions: subscribe (double opt-in), confirm, preferences, unsubscribe.

Links carry a signed token. Confirming and unsubscribing take one button press (a POST): mail
scanners that open links change nothing. Unsubscribing also accepts the RFC 8058 one-click POST
that mail clients send (List-Unsubscribe-Post), without a CSRF token: the signed token is the key.
"""

import ipaddress

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .forms import SubscribeForm
from .services import (
    SubscriptionLinkInvalid,
    SubscriptionThrottled,
    subscription_confirm,
    subscription_from_token,
    subscription_links,
    subscription_request,
    subscription_set_language,
    subscription_unsubscribe,
)

PAGE = "subscriptions/page.html"
THROTTLED = _lazy(
    "Too many subscription requests for this address or from your network. Please try again "
    "in an hour."
)


def client_address(request) -> str | None:
    """The requesting client's address (behind a trusted proxy from X-Forwarded-For:
    config/proxy.py), or None when it is no IP address."""
    from config.proxy import client_ip

    value = client_ip(request) or ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _invalid(request):
    return render(request, PAGE, {"error": _("This link is not valid.")}, status=404)


@require_http_methods(["GET", "POST"])
def subscribe(request):
    language = request.GET.get("lang", "")
    initial = {"language": language} if language in ("de", "en") else {}
    form = SubscribeForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscription = subscription_request(
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
            context = {"requested": data, "awaiting_approval": subscription.needs_approval}
            return render(request, PAGE, context)
    response = render(request, "subscriptions/subscribe.html", {"form": form}, status=status)
    if status == 429:
        response["Retry-After"] = "3600"
    return response


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    try:
        subscription = subscription_from_token(token)
        if request.method == "POST":
            first_time = subscription.confirmed_at is None
            subscription = subscription_confirm(token=token)
            return render(
                request,
                PAGE,
                {
                    "subscription": subscription,
                    "confirmed": subscription.confirmed_at is not None,
                    # A webhook's signing secret is shown once: on the page that confirms it.
                    "show_secret": first_time and subscription.confirmed_at is not None,
                    **subscription_links(subscription),
                },
            )
    except SubscriptionLinkInvalid:
        return _invalid(request)
    return render(request, PAGE, {"subscription": subscription, "ask": "confirm"})


@require_http_methods(["GET", "POST"])
def manage(request, token: str):
    try:
        subscription = subscription_from_token(token)
        if request.method == "POST":
            subscription = subscription_set_language(
                token=token, language=request.POST.get("language", "")
            )
    except SubscriptionLinkInvalid:
        return _invalid(request)
    return render(
        request,
        PAGE,
        {"subscription": subscription, "manage": True, **subscription_links(subscription)},
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        subscription = subscription_from_token(token)
        if request.method == "POST":
            subscription = subscription_unsubscribe(token=token)
            return render(
                request,
                PAGE,
                {
                    "subscription": subscription,
                    "unsubscribed": True,
                    **subscription_links(subscription),
                },
            )
    except SubscriptionLinkInvalid:
        return _invalid(request)
    return render(request, PAGE, {"subscription": subscription, "ask": "unsubscribe"})
