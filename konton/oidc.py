"""OpenID Connect relying party for Swedish e-ID, after the Swedish OIDC profile (oidc-sweden).

Authlib does the protocol: the authorization URL with PKCE (S256) and the token request
authenticated with ``private_key_jwt`` (a client assertion signed with our private key;
no client secret exists). joserfc (Authlib's JOSE library) verifies the ID token against
the provider's published keys; the checks the profile asks for are ours, in
``id_token_validate``: issuer, audience (and ``azp``), expiry with at most
``OIDC_ID_TOKEN_MAX_LIFETIME`` seconds of lifetime, ``iat``, the nonce of this login,
and an ``acr`` we asked for.

The person is read from ``personalIdentityNumber`` (``https://id.oidc.se/claim/...``);
``sub`` is opaque and may be pairwise, and is never the person key. The profile lets a
provider release the person's claims through the userinfo endpoint instead of the ID
token: when the ID token has no personnummer, ``userinfo_complete`` asks userinfo with
the access token (JSON, or a JWT signed by the provider), checks that the answer is about
the ID token's ``sub`` and takes the person from it. Every request to the provider is
made before the person's rows are locked (``services.eidentity_login``).
"""

from __future__ import annotations

import functools
import hmac
import json
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

PNR_CLAIMS = ("https://id.oidc.se/claim/personalIdentityNumber", "personalIdentityNumber")
# What the userinfo answer may add to the ID token's claims: the person, nothing else.
IDENTITY_CLAIMS = (*PNR_CLAIMS, "given_name", "family_name")
SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
_CACHE_PREFIX = "konton:oidc:"


class LoginError(StrEnum):
    """Why an e-ID login was refused; each has one message for the person."""

    NOT_CONFIGURED = "not_configured"
    NO_LOGIN_STARTED = "no_login_started"
    STATE_MISMATCH = "state_mismatch"
    PROVIDER_ERROR = "provider_error"
    CANCELLED = "cancelled"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    TOKEN_REFUSED = "token_refused"
    ID_TOKEN_INVALID = "id_token_invalid"
    NONCE_MISMATCH = "nonce_mismatch"
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_ISSUER = "wrong_issuer"
    EXPIRED = "expired"
    ACR_TOO_LOW = "acr_too_low"
    USERINFO_INVALID = "userinfo_invalid"
    NO_PERSONNUMMER = "no_personnummer"
    INVALID_PERSONNUMMER = "invalid_personnummer"
    ACCOUNT_DISABLED = "account_disabled"


MESSAGES = {
    LoginError.NOT_CONFIGURED: _("Inloggning med e-legitimation är inte konfigurerad i den här installationen."),
    LoginError.NO_LOGIN_STARTED: _("Inloggningen hade inte startats här eller har redan använts. Börja om från inloggningssidan."),
    LoginError.STATE_MISMATCH: _("Svaret från e-legitimationstjänsten hörde inte till din inloggning. Börja om från inloggningssidan."),
    LoginError.PROVIDER_ERROR: _("E-legitimationstjänsten kunde inte genomföra inloggningen."),
    LoginError.CANCELLED: _("Inloggningen avbröts."),
    LoginError.PROVIDER_UNAVAILABLE: _("E-legitimationstjänsten svarar inte just nu. Försök igen om en stund."),
    LoginError.TOKEN_REFUSED: _("E-legitimationstjänsten godtog inte inloggningen (koden kan redan ha använts eller vara för gammal). Börja om från inloggningssidan."),
    LoginError.ID_TOKEN_INVALID: _("Intyget från e-legitimationstjänsten kunde inte kontrolleras."),
    LoginError.NONCE_MISMATCH: _("Intyget från e-legitimationstjänsten hörde inte till din inloggning."),
    LoginError.WRONG_AUDIENCE: _("Intyget från e-legitimationstjänsten var utfärdat för en annan tjänst."),
    LoginError.WRONG_ISSUER: _("Intyget kom inte från den e-legitimationstjänst vi anlitar."),
    LoginError.EXPIRED: _("Intyget från e-legitimationstjänsten var för gammalt eller för långlivat."),
    LoginError.ACR_TOO_LOW: _("Inloggningen gjordes med för låg tillitsnivå. Använd BankID eller Freja eID+."),
    LoginError.USERINFO_INVALID: _("Uppgifterna om dig från e-legitimationstjänsten kunde inte kontrolleras."),
    LoginError.NO_PERSONNUMMER: _("E-legitimationstjänsten lämnade inget personnummer."),
    LoginError.INVALID_PERSONNUMMER: _("Personnumret från e-legitimationstjänsten är inte giltigt."),
    LoginError.ACCOUNT_DISABLED: _("Kontot är avstängt. Kontakta Brå."),
}


class OIDCLoginError(Exception):
    def __init__(self, code: LoginError, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else str(code))
        self.code = code
        self.detail = detail

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code])


@dataclass(frozen=True)
class LoginStart:
    """What the session keeps between the start of a login and the provider's answer."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def configured() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID and settings.OIDC_PRIVATE_KEY)


# -- our key -------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _load_private_key(source: str) -> RSAKey | ECKey:
    """OIDC_PRIVATE_KEY: a PEM or JWK (JSON) text, or the path of a file holding one."""
    text = source.strip()
    if not (text.startswith("-----BEGIN") or text.startswith("{")):
        path = Path(text)
        if not path.is_file():
            raise ImproperlyConfigured(f"OIDC_PRIVATE_KEY: no such file {path}")
        text = path.read_text().strip()
    data: Any = json.loads(text) if text.startswith("{") else text
    key: RSAKey | ECKey | None = None
    for kind in (RSAKey, ECKey):
        try:
            key = kind.import_key(data)
            break
        except (ValueError, TypeError, JoseError):
            continue
    if key is None:
        raise ImproperlyConfigured("OIDC_PRIVATE_KEY is neither an RSA nor an EC private key (PEM or JWK).")
    if not key.is_private:
        raise ImproperlyConfigured("OIDC_PRIVATE_KEY holds a public key; the client assertion needs the private one.")
    return key


def private_key() -> RSAKey | ECKey:
    if not settings.OIDC_PRIVATE_KEY:
        raise OIDCLoginError(LoginError.NOT_CONFIGURED)
    return _load_private_key(settings.OIDC_PRIVATE_KEY)


def key_id(key: RSAKey | ECKey) -> str:
    """The key's kid: as given in a JWK, else its RFC 7638 thumbprint."""
    return key.kid or key.thumbprint()


def _assertion_alg(key: RSAKey | ECKey) -> str:
    if isinstance(key, ECKey):
        return {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[key.curve_name]
    return "RS256"


def public_jwks() -> dict:
    """Our public key as a JWKS, to register with the broker (``manage.py oidc_jwks``)."""
    key = private_key()
    public = key.as_dict(private=False)
    public.update({"kid": key_id(key), "use": "sig", "alg": _assertion_alg(key)})
    return {"keys": [public]}


# -- the provider ---------------------------------------------------------------------


def _get_json(url: str) -> dict:
    try:
        response = requests.get(url, timeout=settings.OIDC_HTTP_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OIDCLoginError(LoginError.PROVIDER_UNAVAILABLE, f"{url}: {exc}") from exc


def metadata() -> dict:
    """The provider's discovery document, cached; its issuer must be exactly OIDC_ISSUER."""
    issuer = str(settings.OIDC_ISSUER)
    key = f"{_CACHE_PREFIX}metadata:{issuer}"
    found = cache.get(key)
    if found is None:
        found = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        if found.get("issuer") != issuer:
            raise OIDCLoginError(LoginError.WRONG_ISSUER, f"discovery says issuer {found.get('issuer')!r}")
        cache.set(key, found, settings.OIDC_METADATA_CACHE_SECONDS)
    return found


def provider_keys(*, refresh: bool = False) -> KeySet:
    url = metadata()["jwks_uri"]
    key = f"{_CACHE_PREFIX}jwks:{url}"
    found = None if refresh else cache.get(key)
    if found is None:
        found = _get_json(url)
        cache.set(key, found, settings.OIDC_METADATA_CACHE_SECONDS)
    return KeySet.import_key_set(cast(Any, found))


# -- the flow -------------------------------------------------------------------------


def _session(redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id=settings.OIDC_CLIENT_ID,
        scope=settings.OIDC_SCOPES,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=settings.OIDC_HTTP_TIMEOUT,
    )


def authorization_start(*, redirect_uri: str) -> LoginStart:
    """A fresh state, nonce and PKCE verifier, and the URL to send the browser to."""
    if not configured():
        raise OIDCLoginError(LoginError.NOT_CONFIGURED)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    extra = {"acr_values": " ".join(settings.OIDC_ACR_VALUES)} if settings.OIDC_ACR_VALUES else {}
    url, _state = _session(redirect_uri).create_authorization_url(
        metadata()["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce, **extra
    )
    return LoginStart(url=url, state=state, nonce=nonce, code_verifier=verifier)


def token_exchange(*, code: str, code_verifier: str, redirect_uri: str) -> dict:
    """The token request, authenticated with private_key_jwt."""
    endpoint = metadata()["token_endpoint"]
    key = private_key()
    session = _session(redirect_uri)
    session.client_secret = key
    session.token_endpoint_auth_method = "private_key_jwt"
    session.register_client_auth_method(
        PrivateKeyJWT(
            endpoint,
            # A short-lived assertion; jti is added by Authlib.
            claims={"exp": int(time.time()) + 60},
            headers={"kid": key_id(key)},
            alg=_assertion_alg(key),
        )
    )
    try:
        return dict(session.fetch_token(endpoint, grant_type="authorization_code", code=code, code_verifier=code_verifier))
    except OAuthError as exc:
        raise OIDCLoginError(LoginError.TOKEN_REFUSED, f"{exc.error}: {exc.description}") from exc
    except requests.RequestException as exc:
        raise OIDCLoginError(LoginError.PROVIDER_UNAVAILABLE, str(exc)) from exc


def _decode(id_token: str) -> dict:
    try:
        return dict(jwt.decode(id_token, provider_keys(), algorithms=SIGNING_ALGORITHMS).claims)
    except (JoseError, ValueError):
        pass  # perhaps the provider rotated its keys: fetch them once more
    try:
        return dict(jwt.decode(id_token, provider_keys(refresh=True), algorithms=SIGNING_ALGORITHMS).claims)
    except (JoseError, ValueError) as exc:
        raise OIDCLoginError(LoginError.ID_TOKEN_INVALID, f"signature: {exc}") from exc


def id_token_validate(id_token: str, *, nonce: str, now: float | None = None) -> dict:
    """The ID token's claims once every check of the profile passed."""
    claims = _decode(id_token)
    now = time.time() if now is None else now
    leeway = settings.OIDC_CLOCK_LEEWAY
    if claims.get("iss") != settings.OIDC_ISSUER:
        raise OIDCLoginError(LoginError.WRONG_ISSUER, f"iss {claims.get('iss')!r}")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    client_id = settings.OIDC_CLIENT_ID
    if client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != client_id):
        raise OIDCLoginError(LoginError.WRONG_AUDIENCE, f"aud {audience!r}")
    if not claims.get("sub"):
        raise OIDCLoginError(LoginError.ID_TOKEN_INVALID, "no sub")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise OIDCLoginError(LoginError.ID_TOKEN_INVALID, "exp or iat missing")
    if exp < now - leeway or iat > now + leeway:
        raise OIDCLoginError(LoginError.EXPIRED, f"exp {exp}, iat {iat}, now {now:.0f}")
    if exp - iat > settings.OIDC_ID_TOKEN_MAX_LIFETIME:
        raise OIDCLoginError(LoginError.EXPIRED, f"lifetime {exp - iat} s")
    if not isinstance(claims.get("nonce"), str) or not _equal(claims["nonce"], nonce):
        raise OIDCLoginError(LoginError.NONCE_MISMATCH)
    if settings.OIDC_ACR_VALUES and claims.get("acr") not in settings.OIDC_ACR_VALUES:
        raise OIDCLoginError(LoginError.ACR_TOO_LOW, f"acr {claims.get('acr')!r}")
    return claims


def userinfo_complete(claims: dict, token: dict) -> dict:
    """The ID token's (validated) claims, with the person's claims from the userinfo
    endpoint when the ID token has no personnummer.

    Only IDENTITY_CLAIMS are taken from userinfo and only where the ID token has none;
    the answer must be about the ID token's ``sub`` (OpenID Connect Core 5.3.2).
    """
    if personnummer_claim(claims):
        return claims
    endpoint = metadata().get("userinfo_endpoint")
    if not endpoint or not token.get("access_token"):
        raise OIDCLoginError(LoginError.NO_PERSONNUMMER, "not in the ID token, and no userinfo endpoint or access token")
    info = _userinfo(str(endpoint), token)
    if not isinstance(info.get("sub"), str) or not _equal(info["sub"], str(claims["sub"])):
        raise OIDCLoginError(LoginError.USERINFO_INVALID, "userinfo is about another sub than the ID token")
    completed = dict(claims)
    for name in IDENTITY_CLAIMS:
        if not completed.get(name) and info.get(name):
            completed[name] = info[name]
    return completed


def _userinfo(endpoint: str, token: dict) -> dict:
    """The userinfo answer, asked with the access token as a bearer token (Authlib)."""
    session = OAuth2Session(
        client_id=settings.OIDC_CLIENT_ID, token=token, default_timeout=settings.OIDC_HTTP_TIMEOUT
    )
    try:
        response = session.get(endpoint, headers={"Accept": "application/json, application/jwt"})
    except OAuthError as exc:  # no usable access token (expired, unknown type)
        raise OIDCLoginError(LoginError.USERINFO_INVALID, f"{exc.error}: {exc.description}") from exc
    except requests.RequestException as exc:
        raise OIDCLoginError(LoginError.PROVIDER_UNAVAILABLE, f"userinfo: {exc}") from exc
    if response.status_code >= 500:
        raise OIDCLoginError(LoginError.PROVIDER_UNAVAILABLE, f"userinfo answered {response.status_code}")
    if response.status_code != 200:
        challenge = response.headers.get("WWW-Authenticate", "")
        raise OIDCLoginError(LoginError.USERINFO_INVALID, f"userinfo answered {response.status_code} {challenge}")
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type == "application/jwt":
        return _signed_userinfo(response.text.strip())
    try:
        info = response.json()
    except ValueError as exc:
        raise OIDCLoginError(LoginError.USERINFO_INVALID, f"userinfo is not JSON ({content_type})") from exc
    if not isinstance(info, dict):
        raise OIDCLoginError(LoginError.USERINFO_INVALID, "userinfo is not a JSON object")
    return info


def _signed_userinfo(text: str) -> dict:
    """A signed userinfo answer: the provider's signature, its issuer, us as audience."""
    try:
        info = _decode(text)
    except OIDCLoginError as exc:
        raise OIDCLoginError(LoginError.USERINFO_INVALID, exc.detail) from exc
    if info.get("iss") != settings.OIDC_ISSUER:
        raise OIDCLoginError(LoginError.USERINFO_INVALID, f"signed userinfo: iss {info.get('iss')!r}")
    audience = info.get("aud")
    if settings.OIDC_CLIENT_ID not in (audience if isinstance(audience, list) else [audience]):
        raise OIDCLoginError(LoginError.USERINFO_INVALID, f"signed userinfo: aud {audience!r}")
    return info


def personnummer_claim(claims: dict) -> str | None:
    for name in PNR_CLAIMS:
        if claims.get(name):
            return str(claims[name])
    return None


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
