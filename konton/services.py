"""Writes of the accounts app: the person behind an e-ID login, and the login record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from arenden.actors import Actor

from .models import EIdentity, LoginMethod, LoginRecord
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
