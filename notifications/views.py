"""Self-service subscriptions: subscribe (double opt-in), confirm, preferences, unsubscribe.

Links carry a signed token. Confirming and unsubscribing take one button press (a POST): mail
scanners that open links change nothing. Unsubscribing also accepts the RFC 8058 one-click POST
that mail clients send (List-Unsubscribe-Post), without a CSRF token: the signed token is the key.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .forms import SubscribeForm
from .services import (
    SubscriptionLinkInvalid,
    subscription_confirm,
    subscription_from_token,
    subscription_links,
    subscription_request,
    subscription_set_language,
    subscription_unsubscribe,
)

PAGE = "subscriptions/page.html"


def _invalid(request):
    return render(request, PAGE, {"error": _("This link is not valid.")}, status=404)


@require_http_methods(["GET", "POST"])
def subscribe(request):
    language = request.GET.get("lang", "")
    initial = {"language": language} if language in ("de", "en") else {}
    form = SubscribeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        subscription_request(
            channel=data["channel"],
            address=data["address"],
            scope=data["scope"],
            scope_label=data["scope_label"],
            language=data["language"],
        )
        return render(request, PAGE, {"requested": data})
    return render(request, "subscriptions/subscribe.html", {"form": form})


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    try:
        subscription = subscription_from_token(token)
        if request.method == "POST":
            subscription = subscription_confirm(token=token)
            return render(
                request,
                PAGE,
                {
                    "subscription": subscription,
                    "confirmed": True,
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
