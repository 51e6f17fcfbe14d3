"""e-ID login against the real OpenID Connect provider of the harness (tests/harness/oidc.py).

``eid`` drives a whole login for a test client: our start view, the provider's authorize,
login and consent pages (as the person's browser, over HTTP), then our callback.
"""

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from konton.views import SESSION_KEY

PNR = "199001012385"
PNR2 = "198506151235"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"


@dataclass
class EIDLogin:
    provider: object

    def start(self, client, *, next: str = "") -> str:
        """Our start view; returns the provider's authorize URL it redirects to."""
        response = client.post(reverse("konton:eid_start"), {"next": next})
        assert response.status_code == 302, response.content[:500]
        assert response["Location"].startswith(self.provider.issuer + "/"), response["Location"]
        return response["Location"]

    def at_provider(self, authorize_url: str, **person) -> str:
        person.setdefault("personnummer", PNR)
        callback = self.provider.login(authorize_url, **person)
        assert callback.startswith("http://testserver/"), callback
        return callback

    def callback(self, client, callback_url: str):
        parts = urlsplit(callback_url)
        return client.get(parts.path, parse_qs(parts.query))

    def login(self, client, *, next: str = "", **person):
        """start -> provider -> callback; the callback's response."""
        return self.callback(client, self.at_provider(self.start(client, next=next), **person))


@pytest.fixture
def eid(oidc_rp, db):
    oidc_rp.tamper()  # no leftover from a test that failed half-way
    yield EIDLogin(provider=oidc_rp)
    oidc_rp.tamper()


def pending_login(client) -> dict:
    return dict(client.session[SESSION_KEY])


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")
