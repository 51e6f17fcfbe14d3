"""The Swedish OIDC profile lets a broker release the person (personalIdentityNumber and
the names) through the userinfo endpoint rather than in the ID token. The loopback
provider has two clients that do so (tests/harness/oidc.py: USERINFO_CLIENTS), one
answering JSON and one a signed JWT; the relying party then asks userinfo with its
access token, checks that the answer is about the ID token's subject, and takes the
person from there. ``sub`` is never the person."""

import sys
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from konton import oidc
from konton.models import EIdentity, LoginRecord
from tests.harness.oidc import CLIENT_ID, REDIRECT_URIS, SIGNED_USERINFO_CLIENT_ID, USERINFO_CLIENT_ID

from .conftest import LOA3, PNR, logged_in_user_id, pending_login
from .test_eid_login import refused

User = get_user_model()
PNR_CLAIM = "https://id.oidc.se/claim/personalIdentityNumber"


def events_since(provider, seen: int, kind: str) -> list[dict]:
    return [e for e in provider.events()[seen:] if e["event"] == kind]


@pytest.fixture
def as_client(eid, settings):
    """Point our relying party at one of the provider's clients."""

    def use(client_id: str):
        settings.OIDC_CLIENT_ID = client_id
        return eid

    return use


@pytest.mark.parametrize(
    ("client_id", "answer_type"),
    [(USERINFO_CLIENT_ID, "application/json"), (SIGNED_USERINFO_CLIENT_ID, "application/jwt")],
    ids=["userinfo-json", "userinfo-signed-jwt"],
)
def test_the_personnummer_comes_from_userinfo_when_the_id_token_has_none(client, as_client, client_id, answer_type):
    eid = as_client(client_id)
    seen = len(eid.provider.events())

    response = eid.login(client, personnummer=PNR, given_name="Karin", family_name="Larsson")

    assert response.status_code == 302, response.content[:800]
    # The ID token really carried no person: only the provider's pairwise sub and the login's facts.
    [issued] = events_since(eid.provider, seen, "id_token.issued")
    assert issued["client_id"] == client_id
    assert PNR_CLAIM not in issued["claims"] and "given_name" not in issued["claims"]
    assert {"sub", "acr", "nonce"} <= set(issued["claims"])
    # So we asked userinfo, with the access token as a bearer token, and got the person.
    [asked] = events_since(eid.provider, seen, "userinfo")
    assert (asked["client_id"], asked["status"], asked["authorization_scheme"]) == (client_id, 200, "Bearer")
    assert asked["content_type"].startswith(answer_type)

    identity = EIdentity.objects.select_related("user").get()
    assert identity.personnummer == PNR and int(logged_in_user_id(client)) == identity.user.pk
    assert (identity.user.first_name, identity.user.last_name) == ("Karin", "Larsson")
    assert identity.subject and identity.subject != PNR and PNR not in identity.user.username
    assert identity.last_acr == LOA3 and LoginRecord.objects.get().acr == LOA3


def test_the_same_person_whether_the_id_token_or_userinfo_names_them(client, as_client):
    as_client(CLIENT_ID).login(client, personnummer=PNR)
    first = EIdentity.objects.get()
    client.logout()
    as_client(USERINFO_CLIENT_ID).login(client, personnummer=PNR)
    identity = EIdentity.objects.get()
    assert identity.user_id == first.user_id and int(logged_in_user_id(client)) == first.user_id
    assert EIdentity.objects.count() == 1 and LoginRecord.objects.filter(user_id=first.user_id).count() == 2


def test_no_userinfo_request_when_the_id_token_has_the_personnummer(client, as_client):
    eid = as_client(CLIENT_ID)
    seen = len(eid.provider.events())
    assert eid.login(client, personnummer=PNR).status_code == 302
    [issued] = events_since(eid.provider, seen, "id_token.issued")
    assert PNR_CLAIM in issued["claims"]
    assert events_since(eid.provider, seen, "userinfo") == []


@pytest.mark.parametrize("client_id", [USERINFO_CLIENT_ID, SIGNED_USERINFO_CLIENT_ID], ids=["json", "signed-jwt"])
def test_a_userinfo_answer_about_another_subject_is_refused(client, as_client, client_id):
    eid = as_client(client_id)
    callback = eid.at_provider(eid.start(client))
    eid.provider.tamper(userinfo_sub="en-annan-person")
    refused(eid.callback(client, callback), "Uppgifterna om dig från e-legitimationstjänsten kunde inte kontrolleras")
    assert [e for e in eid.provider.events() if e["event"] == "userinfo.tampered"]
    assert logged_in_user_id(client) is None
    assert not EIdentity.objects.exists() and not User.objects.filter(username__startswith="eid-").exists()


def test_a_signed_userinfo_answer_for_another_client_is_refused(client, as_client, settings):
    """A JWT from userinfo must be addressed to us: the provider signs it for its client.
    Here we read the signed client's answer while configured as another client."""
    eid = as_client(SIGNED_USERINFO_CLIENT_ID)
    callback = eid.at_provider(eid.start(client))
    pending = pending_login(client)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    token = oidc.token_exchange(code=code, code_verifier=pending["code_verifier"], redirect_uri=REDIRECT_URIS[0])
    claims = oidc.id_token_validate(token["id_token"], nonce=pending["nonce"])
    assert oidc.personnummer_claim(claims) is None

    settings.OIDC_CLIENT_ID = USERINFO_CLIENT_ID
    with pytest.raises(oidc.OIDCLoginError) as refused_answer:
        oidc.userinfo_complete(claims, token)
    assert refused_answer.value.code == oidc.LoginError.USERINFO_INVALID and "aud" in refused_answer.value.detail

    settings.OIDC_CLIENT_ID = SIGNED_USERINFO_CLIENT_ID  # as ourselves the same answer is good
    assert oidc.personnummer_claim(oidc.userinfo_complete(claims, token)) == PNR


# -- no network I/O while a row lock is held -------------------------------------------

_probe = threading.local()
_hook_installed = False


def _audit(event: str, args: tuple) -> None:
    recording = getattr(_probe, "connections", None)
    if recording is not None and event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and len(address) >= 2 and address[1] == _probe.port:
            # How deep in transactions this thread's database connection was at that moment.
            recording.append(len(connection.savepoint_ids) + int(connection.in_atomic_block))


@pytest.fixture
def provider_connections(oidc_rp):
    """The transaction depth at every TCP connection this thread opens to the provider."""
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)  # audit hooks cannot be removed: it records only while asked
        _hook_installed = True
    _probe.port = int(oidc_rp.issuer.rsplit(":", 1)[1])
    _probe.connections = []
    try:
        yield _probe.connections
    finally:
        _probe.connections = None


def test_userinfo_is_asked_before_any_row_is_locked(client, as_client, provider_connections):
    eid = as_client(USERINFO_CLIENT_ID)
    callback = eid.at_provider(eid.start(client))  # (the person's browser: in this thread too, so cleared below)
    seen = len(eid.provider.events())
    outside = len(connection.savepoint_ids) + int(connection.in_atomic_block)  # the test's own transaction
    # The probe sees a connection made inside a transaction for what it is.
    provider_connections.clear()
    with transaction.atomic():
        requests.get(f"{eid.provider.issuer}/.well-known/openid-configuration", timeout=5)
    assert provider_connections == [outside + 1]

    provider_connections.clear()
    response = eid.callback(client, callback)
    during_callback = list(provider_connections)

    assert response.status_code == 302, response.content[:800]
    assert events_since(eid.provider, seen, "userinfo"), "userinfo was not asked"
    # Token request and userinfo (at least): every one outside any transaction of ours.
    assert len(during_callback) >= 2
    assert set(during_callback) == {outside}
    assert EIdentity.objects.get().personnummer == PNR
