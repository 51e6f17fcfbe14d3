"""A real OpenID Connect provider on loopback: panva's ``oidc-provider`` under Node.

``tests/harness/oidc/provider.mjs`` configures it as a Swedish e-ID broker would be
(private_key_jwt only, PKCE required, pairwise ``sub``, the personnummer in
``https://id.oidc.se/claim/personalIdentityNumber``, ``acr``, 5-minute ID tokens). Its npm
packages are installed by ``make node-packages`` (a prerequisite of ``make test``).

``OIDCProvider().start()`` makes a fresh RSA key for the relying party (written as PEM
into a temporary directory: ``.private_key_path``), registers its public half with the
provider as client ``CLIENT_ID``, picks a free port on 127.0.0.1, starts Node and waits
until discovery answers. ``stop()`` ends that process by its PID.

Driving a login without a browser::

    callback = provider.login(authorize_url, personnummer="197802022389")
    # -> the URL the provider redirects the browser to (our callback, with code and state)

``events()`` is what the provider saw (``grant.success`` with ``client_auth_method``,
``grant.error``, ``userinfo``, ...); ``tamper(aud=..., nonce=..., lifetime=..., iss=...)``
makes it re-sign the next ID token with those claims changed (a misbehaving broker), and
``tamper(userinfo_sub=...)`` makes the next userinfo answer name another subject.

Besides ``CLIENT_ID`` two more clients with the same key and redirect URIs are registered,
for a broker that releases the person (personnummer, names) only through the userinfo
endpoint, as the Swedish profile allows: ``USERINFO_CLIENT_ID`` (userinfo answers JSON)
and ``SIGNED_USERINFO_CLIENT_ID`` (userinfo answers a JWT signed by the provider). Point
the relying party at one with ``django_settings(client_id=...)``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests

from .ports import LOOPBACK, free_port, log_tail, terminate
from .seaweedfs import _die_with_parent

PROVIDER_DIR = Path(__file__).with_name("oidc")
CLIENT_ID = "bidragsportalen"
USERINFO_CLIENT_ID = "bidragsportalen-userinfo"
SIGNED_USERINFO_CLIENT_ID = "bidragsportalen-userinfo-jwt"
# Registered beside the main client: the person's claims only from userinfo.
USERINFO_CLIENTS = {
    USERINFO_CLIENT_ID: {"identity_claims_in": "userinfo"},
    SIGNED_USERINFO_CLIENT_ID: {"identity_claims_in": "userinfo", "userinfo_signed_response_alg": "RS256"},
}
REDIRECT_URIS = ("http://testserver/logga-in/e-legitimation/retur/",)


class OIDCProviderError(RuntimeError):
    pass


def node_binary() -> str:
    found = shutil.which("node")
    if not found:
        raise OIDCProviderError("Node.js (`node`) is not on PATH: the test OpenID Connect provider runs on it.")
    return found


def _rsa_key() -> tuple[str, dict]:
    """A new RSA key: its private PEM, and the public JWK with kid = RFC 7638 thumbprint."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from joserfc.jwk import RSAKey

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    key = RSAKey.import_key(pem)
    public = key.as_dict(private=False)
    public.update({"kid": key.thumbprint(), "use": "sig", "alg": "RS256"})
    return pem, public


class _Forms(HTMLParser):
    """The forms on a provider page: action and field values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""


@dataclass
class OIDCProvider:
    client_id: str = CLIENT_ID
    redirect_uris: tuple[str, ...] = REDIRECT_URIS
    startup_timeout: float = 30.0

    directory: Path | None = field(default=None, init=False)
    port: int | None = field(default=None, init=False)
    process: subprocess.Popen | None = field(default=None, init=False)
    private_key_pem: str = field(default="", init=False, repr=False)
    public_jwk: dict = field(default_factory=dict, init=False, repr=False)
    startup_seconds: float | None = field(default=None, init=False)

    @property
    def issuer(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def private_key_path(self) -> Path:
        assert self.directory is not None
        return self.directory / "rp-private-key.pem"

    @property
    def log_path(self) -> Path:
        assert self.directory is not None
        return self.directory / "provider.log"

    def django_settings(self, *, client_id: str | None = None) -> dict:
        """The settings that point Bidragsportalen's relying party at this provider (as
        ``client_id``: by default the main client, else one of USERINFO_CLIENTS)."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": client_id or self.client_id,
            "OIDC_PRIVATE_KEY": str(self.private_key_path),
            "OIDC_REDIRECT_URI": "",
        }

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> OIDCProvider:
        node = node_binary()
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            raise OIDCProviderError(
                f"{PROVIDER_DIR}/node_modules is missing: run `make node-packages` "
                "(npm ci --prefix tests/harness/oidc)."
            )
        started = time.monotonic()
        self.directory = Path(tempfile.mkdtemp(prefix="bidrag-oidc-"))
        self.private_key_pem, self.public_jwk = _rsa_key()
        self.private_key_path.write_text(self.private_key_pem)
        self.private_key_path.chmod(0o600)
        try:
            for attempt in range(1, 4):
                self.port = free_port()
                config = self.directory / "config.json"
                config.write_text(
                    json.dumps(
                        {
                            "issuer": self.issuer,
                            "port": self.port,
                            "clients": [
                                {
                                    "client_id": client_id,
                                    "redirect_uris": list(self.redirect_uris),
                                    "jwks": {"keys": [self.public_jwk]},
                                    **metadata,
                                }
                                for client_id, metadata in [(self.client_id, {}), *USERINFO_CLIENTS.items()]
                            ],
                        }
                    )
                )
                with open(self.log_path, "ab") as log:
                    self.process = subprocess.Popen(
                        [node, str(PROVIDER_DIR / "provider.mjs"), str(config)],
                        cwd=PROVIDER_DIR,
                        env={**os.environ, "NODE_ENV": "test"},
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                    )
                try:
                    self._wait_until_ready()
                    break
                except OIDCProviderError:
                    exited = self.process.poll() is not None
                    self._terminate()
                    if not exited or attempt == 3:  # a port taken meanwhile: try another
                        raise
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise OIDCProviderError(self._failure("node exited"))
            try:
                response = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2)
                if response.ok and response.json().get("issuer") == self.issuer:
                    return
            except requests.RequestException as exc:
                last = exc
            time.sleep(0.05)
        raise OIDCProviderError(self._failure(f"discovery did not answer within {self.startup_timeout:.0f} s ({last!r})"))

    def _failure(self, reason: str) -> str:
        return f"OpenID Connect provider failed to start: {reason}. Last lines of {self.log_path}:\n" + log_tail(self.log_path)

    def _terminate(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        terminate(process, timeout)

    def stop(self) -> None:
        self._terminate()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    # -- what tests do with it -----------------------------------------------------

    def events(self) -> list[dict]:
        return requests.get(f"{self.issuer}/__test__/events", timeout=5).json()

    def tamper(self, **changes) -> None:
        """The next ID token from the token endpoint comes re-signed with these claims
        changed (``userinfo_sub``: the next userinfo answer names that subject);
        ``tamper()`` with none resets."""
        requests.post(f"{self.issuer}/__test__/tamper", json=changes, timeout=5).raise_for_status()

    def login(
        self,
        authorize_url: str,
        *,
        personnummer: str,
        given_name: str = "Test",
        family_name: str = "Testsson",
        acr: str = "",
        consent: bool = True,
        session: requests.Session | None = None,
    ) -> str:
        """Act as the person's browser at the provider: authorize, log in, consent.

        Returns the URL the provider finally redirects to (the relying party's callback
        with ``code`` and ``state``, or an ``error``). ``session`` keeps the provider's
        cookies between calls (a second login in the same browser).
        """
        http = session or requests.Session()
        response = self._follow(http, http.get(authorize_url, allow_redirects=False, timeout=10))
        for _ in range(4):
            if isinstance(response, str):
                return response
            forms = _Forms()
            forms.feed(response.text)
            if not forms.forms:
                raise OIDCProviderError(f"no form on the provider's page {response.url}: {response.text[:500]}")
            login_form = next((f for f in forms.forms if f["action"].endswith("/login")), None)
            if login_form is not None:
                data = {**login_form["fields"], "personnummer": personnummer, "given_name": given_name,
                        "family_name": family_name, "acr": acr}
                action = login_form["action"]
            else:
                wanted = "/confirm" if consent else "/abort"
                action = next(f["action"] for f in forms.forms if f["action"].endswith(wanted))
                data = {}
            response = self._follow(
                http, http.post(urljoin(response.url, action), data=data, allow_redirects=False, timeout=10)
            )
        raise OIDCProviderError("the provider did not send the browser back")

    def _follow(self, http: requests.Session, response: requests.Response) -> requests.Response | str:
        """Follow the provider's own redirects; stop at the first one that leaves it."""
        for _ in range(10):
            if response.status_code not in (301, 302, 303, 307, 308):
                if response.status_code >= 400:
                    raise OIDCProviderError(f"provider answered {response.status_code} at {response.url}: {response.text[:500]}")
                return response
            target = urljoin(response.url, response.headers["Location"])
            if not target.startswith(self.issuer + "/"):
                return target
            response = http.get(target, allow_redirects=False, timeout=10)
        raise OIDCProviderError("too many redirects at the provider")
