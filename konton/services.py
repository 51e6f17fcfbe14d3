"""Writes of the accounts app: the person behind an e-ID login, the login record, and
the staff's second factor beyond the app (backup codes, an administrator's reset)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from arenden.actors import Actor
from bidrag.roles import Role, has_role

from .models import EIdentity, LoginMethod, LoginRecord, SecondFactorEvent, SecondFactorEventKind
from .oidc import LoginError, OIDCLoginError, personnummer_claim
from .personnummer import personnummer_normalise


def _auth_time(claims: dict) -> datetime | None:
    value = claims.get("auth_time")
    return datetime.fromtimestamp(value, tz=UTC) if isinstance(value, int | float) else None


@transaction.atomic
def eidentity_login(*, claims: dict, ip_address: str | None, user_agent: str = "") -> Actor:
    """The user an e-ID login proves, created at their first login; the login recorded.

    The person is found by personnummer only. A first login creates a user without a
    usable password, named from given_name/family_name; it holds no organisation and no
    role: those come from mandates and from Brå, never from the e-ID.
    """
    raw = personnummer_claim(claims)
    if not raw:
        raise OIDCLoginError(LoginError.NO_PERSONNUMMER)
    try:
        personnummer = personnummer_normalise(raw)
    except ValueError as exc:
        raise OIDCLoginError(LoginError.INVALID_PERSONNUMMER, str(exc)) from exc

    identity = EIdentity.objects.select_for_update(of=("self",)).select_related("user").filter(personnummer=personnummer).first()
    User = get_user_model()
    given, family = str(claims.get("given_name") or "")[:150], str(claims.get("family_name") or "")[:150]
    if identity is None:
        user = User(username=f"eid-{uuid.uuid4().hex[:16]}", first_name=given, last_name=family)
        user.set_unusable_password()
        user.save()
        identity = EIdentity(user=user, personnummer=personnummer)
    else:
        user = identity.user
        if not user.is_active:
            raise OIDCLoginError(LoginError.ACCOUNT_DISABLED)
        if given and family and (user.first_name, user.last_name) != (given, family):
            user.first_name, user.last_name = given, family
            user.save(update_fields=["first_name", "last_name"])
    identity.issuer = str(claims["iss"])
    identity.subject = str(claims.get("sub") or "")
    identity.last_acr = str(claims.get("acr") or "")
    identity.last_auth_time = _auth_time(claims)
    identity.save()
    login_record_create(
        user=user, method=LoginMethod.EID, issuer=identity.issuer, acr=identity.last_acr,
        auth_time=identity.last_auth_time, ip_address=ip_address, user_agent=user_agent,
    )
    return user


def login_record_create(
    *,
    user: Actor,
    method: LoginMethod,
    ip_address: str | None,
    user_agent: str = "",
    issuer: str = "",
    acr: str = "",
    auth_time: datetime | None = None,
) -> LoginRecord:
    return LoginRecord.objects.create(
        user=user, method=method, issuer=issuer, acr=acr, auth_time=auth_time,
        ip_address=ip_address, user_agent=user_agent[:255],
    )


# -- the staff's second factor: backup codes and an administrator's reset --------------

logger = logging.getLogger("konton.otp")

BACKUP_CODE_COUNT = 10


class NotAnAdministrator(Exception):
    """Only an active administrator may reset someone's second factor."""


def is_administrator(user: Actor) -> bool:
    return bool(user.is_active and (user.is_superuser or has_role(user, Role.ADMINISTRATOR)))


@transaction.atomic
def backup_codes_create(*, user: Actor, ip_address: str | None) -> list[str]:
    """A new set of single-use backup codes for the user; the old set stops working.

    The codes are returned to be shown once. They are django-otp's static tokens (eight
    characters, a-z and 2-7), on the user's one StaticDevice, which is kept so that a
    session it verified stays verified.
    """
    device = StaticDevice.objects.select_for_update().filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=gettext("Reservkoder"), confirmed=True)
    device.token_set.all().delete()
    codes: list[str] = []
    while len(codes) < BACKUP_CODE_COUNT:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=token) for token in codes])
    device.throttle_reset(commit=False)
    device.save()
    SecondFactorEvent.objects.create(
        user=user, by=user, kind=SecondFactorEventKind.BACKUP_CODES_CREATED, codes_left=len(codes), ip_address=ip_address
    )
    logger.info("backup codes created for %s (%d)", user.get_username(), len(codes))
    return codes


def backup_codes_left(user: Actor) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def backup_code_used_record(*, user: Actor, device: StaticDevice, ip_address: str | None) -> SecondFactorEvent:
    """After django-otp accepted (and deleted) one of the user's backup codes."""
    left = device.token_set.count()
    event = SecondFactorEvent.objects.create(
        user=user, by=user, kind=SecondFactorEventKind.BACKUP_CODE_USED, codes_left=left, ip_address=ip_address
    )
    logger.warning("backup code used by %s from %s; %d left", user.get_username(), ip_address or "-", left)
    return event


@transaction.atomic
def second_factor_reset(*, user: Actor, by: Actor, ip_address: str | None = None) -> list[str]:
    """Remove every second-factor device of the user (apps and backup codes), for someone
    who lost them: at their next login they set up a new app, as the first time. Sessions
    verified by a removed device are no longer verified. Recorded with who did it.
    Returns the removed devices' descriptions."""
    if not is_administrator(by):
        raise NotAnAdministrator(by.get_username())
    removed = []
    for device in devices_for_user(user, confirmed=None):
        removed.append(f"{device.name} ({type(device).__name__})")
        device.delete()
    SecondFactorEvent.objects.create(
        user=user, by=by, kind=SecondFactorEventKind.DEVICES_RESET, ip_address=ip_address,
        detail=("; ".join(removed) or "-")[:255],
    )
    logger.warning(
        "second factor reset for %s by %s: %d device(s) removed", user.get_username(), by.get_username(), len(removed)
    )
    return removed
