"""Failed-login throttling with django-axes: the client's address and the lockout page."""

import math

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR; behind the load balancer (DJANGO_BEHIND_PROXY) the last address in
    X-Forwarded-For, the one the load balancer itself saw: earlier entries come from
    the client and could be anything. Axes counts failures per this address."""
    if settings.BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR") or None


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """Axes' lockout answer (AXES_LOCKOUT_CALLABLE): the Swedish page, HTTP 429."""
    cool_off = get_cool_off(request)
    return render(
        request,
        "konton/lockout.html",
        {
            "failure_limit": get_failure_limit(request, credentials),
            "cooloff_minutes": math.ceil(cool_off.total_seconds() / 60) if cool_off else None,
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
