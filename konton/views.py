"""Login pages: password (staff and demo, behind PASSWORD_LOGIN_ENABLED), Swedish e-ID over
OpenID Connect, and the staff's second factor (TOTP, and single-use backup codes)."""

from __future__ import annotations

import base64
import hmac
import io
import logging
import time
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_otp.models import ThrottlingMixin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from arenden.actors import Actor

from . import oidc
from .forms import BackupCodeForm, TokenForm
from .models import LoginMethod
from .oidc import LoginError, OIDCLoginError
from .services import (
    backup_code_used_record,
    backup_codes_create,
    backup_codes_left,
    eidentity_login,
    login_record_create,
)
from .staff import needs_second_factor
from .throttle import client_ip

logger = logging.getLogger("konton.oidc")

SESSION_KEY = "konton_oidc_login"
# A new set of backup codes, kept in the session from its making until its one showing.
BACKUP_CODES_SESSION_KEY = "konton_new_backup_codes"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return value
    return ""


# -- password login -------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's login view; the password form only while PASSWORD_LOGIN_ENABLED.

    Failed passwords are counted by django-axes (per username and per address), which
    answers with the lockout page once the limit is reached.
    """

    def post(self, request, *args, **kwargs):
        if not settings.PASSWORD_LOGIN_ENABLED:
            raise PermissionDenied(_("Inloggning med lösenord är avstängd. Logga in med e-legitimation."))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        login_record_create(
            user=form.get_user(), method=LoginMethod.PASSWORD, ip_address=client_ip(self.request),
            user_agent=self.request.META.get("HTTP_USER_AGENT", ""),
        )
        return response

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "password_login_enabled": settings.PASSWORD_LOGIN_ENABLED,
            "eid_login_enabled": oidc.configured(),
        }

    def render_to_response(self, context, **response_kwargs):
        return broker_may_receive_forms(super().render_to_response(context, **response_kwargs))


def broker_may_receive_forms(response: HttpResponse) -> HttpResponse:
    """The e-ID button posts to eid_start, which redirects to the broker: browsers hold that
    redirect to the page's CSP form-action, so a page with the button lets the broker's
    origin receive it (and only that page; every other page keeps form-action 'self')."""
    if oidc.configured():
        issuer = urlsplit(str(settings.OIDC_ISSUER))
        configured: dict[str, Any] = settings.SECURE_CSP
        policy: dict[str, list[str]] = {name: list(values) for name, values in configured.items()}
        policy["form-action"] = [*policy.get("form-action", []), f"{issuer.scheme}://{issuer.netloc}"]
        response._csp_config = policy  # type: ignore[attr-defined]  # read by Django's CSP middleware
    return response


# -- e-ID (OpenID Connect) ------------------------------------------------------------


def _redirect_uri(request: HttpRequest) -> str:
    return settings.OIDC_REDIRECT_URI or request.build_absolute_uri(reverse("konton:eid_callback"))


def _refused(request: HttpRequest, error: OIDCLoginError) -> HttpResponse:
    logger.warning("e-ID login refused: %s", error)
    status = 503 if error.code == LoginError.PROVIDER_UNAVAILABLE else 400
    return broker_may_receive_forms(
        render(request, "konton/eid_error.html", {"message": error.message, "code": error.code}, status=status)
    )


@require_POST
@never_cache
def eid_start(request: HttpRequest) -> HttpResponse:
    """A new login: state, nonce and PKCE verifier kept in this session, then to the broker."""
    try:
        start = oidc.authorization_start(redirect_uri=_redirect_uri(request))
    except OIDCLoginError as error:
        return _refused(request, error)
    request.session[SESSION_KEY] = {
        "state": start.state,
        "nonce": start.nonce,
        "code_verifier": start.code_verifier,
        "next": _safe_next(request, request.POST.get("next")),
        "started": time.time(),
    }
    return HttpResponseRedirect(start.url)


@require_GET
@never_cache
def eid_callback(request: HttpRequest) -> HttpResponse:
    # Single use: whatever comes back, this login's state is spent.
    pending = request.session.pop(SESSION_KEY, None)
    try:
        if not pending or time.time() - pending.get("started", 0) > settings.OIDC_LOGIN_TIMEOUT:
            raise OIDCLoginError(LoginError.NO_LOGIN_STARTED)
        if not hmac.compare_digest(request.GET.get("state", "").encode(), pending["state"].encode()):
            raise OIDCLoginError(LoginError.STATE_MISMATCH)
        if request.GET.get("error"):
            code = LoginError.CANCELLED if request.GET["error"] == "access_denied" else LoginError.PROVIDER_ERROR
            raise OIDCLoginError(code, f"{request.GET['error']}: {request.GET.get('error_description', '')}")
        if not request.GET.get("code"):
            raise OIDCLoginError(LoginError.PROVIDER_ERROR, "no code")
        token = oidc.token_exchange(
            code=request.GET["code"], code_verifier=pending["code_verifier"], redirect_uri=_redirect_uri(request)
        )
        if not token.get("id_token"):
            raise OIDCLoginError(LoginError.ID_TOKEN_INVALID, "no id_token in the token response")
        claims = oidc.id_token_validate(token["id_token"], nonce=pending["nonce"])
        # Any request to the provider (userinfo) before eidentity_login locks a row.
        claims = oidc.userinfo_complete(claims, token)
        user = eidentity_login(
            claims=claims, ip_address=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
    except OIDCLoginError as error:
        return _refused(request, error)
    auth_login(request, user, backend=MODEL_BACKEND)
    return redirect(pending.get("next") or settings.LOGIN_REDIRECT_URL)


# -- the staff's second factor ---------------------------------------------------------


def _done(request: HttpRequest) -> HttpResponse:
    return redirect(_safe_next(request, request.GET.get("next") or request.POST.get("next")) or settings.LOGIN_REDIRECT_URL)


def _with_next(request: HttpRequest, url_name: str) -> str:
    """The page, keeping where the person was going."""
    url = reverse(url_name)
    target = _safe_next(request, request.GET.get("next") or request.POST.get("next"))
    return f"{url}?{urlencode({'next': target})}" if target else url


def _confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _throttled(device: ThrottlingMixin) -> str | None:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    seconds = 0
    if data and data.get("locked_until"):
        from django.utils import timezone

        seconds = max(1, int((data["locked_until"] - timezone.now()).total_seconds()))
    return _("För många felaktiga koder. Vänta %(seconds)s sekunder och försök igen.") % {"seconds": seconds or 1}


@login_required
@never_cache
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not needs_second_factor(user) or user.is_verified():  # type: ignore[union-attr]
        return _done(request)
    device = _confirmed_device(user)
    if device is None:
        url = reverse("konton:otp_setup")
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url)
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        problem = _throttled(device)
        if problem is None:
            if django_otp.verify_token(user, device.persistent_id, form.cleaned_data["token"]) is not None:
                device.refresh_from_db()
                django_otp.login(request, device)
                return _done(request)
            problem = _("Koden stämmer inte. Skriv den kod som appen visar just nu.")
        form.add_error("token", problem)
    return render(request, "konton/otp_verify.html", {"form": form, "next": _safe_next(request, request.GET.get("next"))})


@login_required
@never_cache
def otp_setup(request: HttpRequest) -> HttpResponse:
    """First time only: a new authenticator app, confirmed by one correct code.

    Someone who already has a confirmed device is sent to give its code: adding another
    device takes an administrator, so a stolen password alone cannot enrol a new one.
    """
    user = cast(Actor, request.user)
    if not needs_second_factor(user):
        return _done(request)
    if _confirmed_device(user) is not None:
        url = reverse("konton:otp_verify")
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Autentiseringsapp"), confirmed=False)
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        problem = _throttled(device)
        if problem is None:
            if device.verify_token(form.cleaned_data["token"]):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                django_otp.login(request, device)
                request.session[BACKUP_CODES_SESSION_KEY] = backup_codes_create(user=user, ip_address=client_ip(request))
                messages.success(request, _("Tvåstegsverifieringen är klar. Nästa gång frågar vi efter en kod från appen."))
                return redirect(_with_next(request, "konton:backup_codes"))
            problem = _("Koden stämmer inte. Skriv den kod som appen visar just nu.")
        form.add_error("token", problem)
    key = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "konton/otp_setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(device.config_url),
            "key_groups": [key[i : i + 4] for i in range(0, len(key), 4)],
            "next": _safe_next(request, request.GET.get("next")),
        },
    )


def _backup_code_use(request: HttpRequest, device: StaticDevice, code: str) -> str | None:
    """None once the code is accepted (and spent), its use recorded in the same
    transaction and the session verified by it; else what to tell the person."""
    user = cast(Actor, request.user)
    with transaction.atomic():
        verified = django_otp.verify_token(user, device.persistent_id, code)
        if verified is not None:
            backup_code_used_record(user=user, device=verified, ip_address=client_ip(request))
    if verified is None:
        return _("Reservkoden stämmer inte, eller har redan använts.")
    django_otp.login(request, verified)
    return None


@login_required
@never_cache
def otp_backup(request: HttpRequest) -> HttpResponse:
    """The second factor from a backup code instead of the app: single use (django-otp
    deletes the code it accepts, with the device row locked), throttled as the app's
    codes are, and each use recorded."""
    user = request.user
    if not needs_second_factor(user) or user.is_verified():  # type: ignore[union-attr]
        return _done(request)
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    form = BackupCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        problem: str | None
        if device is None or not device.token_set.exists():
            problem = _("Du har inga reservkoder. Kontakta en administratör, som kan återställa tvåstegsverifieringen så att du kan lägga till appen på nytt.")
        else:
            problem = _throttled(device) or _backup_code_use(request, device, form.cleaned_data["code"])
            if problem is None:
                return redirect(_with_next(request, "konton:backup_codes"))
        form.add_error("code", problem)
    return render(request, "konton/otp_backup.html", {"form": form, "next": _safe_next(request, request.GET.get("next"))})


@login_required
@never_cache
def backup_codes(request: HttpRequest) -> HttpResponse:
    """A staff member's backup codes: a new set is shown once, right after it is made
    (when the app is set up, or here: a new set ends the old one). Only in a session that
    has given the second factor, so that a password alone can never make codes."""
    user = cast(Actor, request.user)
    if not needs_second_factor(user):
        return _done(request)
    if not user.is_verified():  # type: ignore[attr-defined]  # django_otp's OTPMiddleware
        return redirect_to_login(request.get_full_path(), reverse("konton:otp_verify"))
    if request.method == "POST":
        request.session[BACKUP_CODES_SESSION_KEY] = backup_codes_create(user=user, ip_address=client_ip(request))
        return redirect(_with_next(request, "konton:backup_codes"))
    new = request.session.pop(BACKUP_CODES_SESSION_KEY, None) or []
    return render(
        request,
        "konton/backup_codes.html",
        {
            "codes": [(code[:4], code[4:]) for code in new],
            "left": backup_codes_left(user),
            "by_backup_code": isinstance(getattr(user, "otp_device", None), StaticDevice),
            "next": _safe_next(request, request.GET.get("next")),
        },
    )
