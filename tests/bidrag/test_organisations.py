"""Issue 6, Mina organisationer: add an organisation by organisationsnummer (validated, legal
form shown, a municipality recognised from kommuner.csv), the joining rule, invitations by
e-mail (single use, expiring, for the address they were sent to), removing members, and
foreign organisation ids answering 404 like missing ones."""

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bidrag.models import Invitation, JoinRequest, Membership, Organisation
from bidrag.models.mandates import token_hash
from notifications.models import OutboxMessage
from workflows import demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(cast):
    return type(cast.applicant).objects.create_user("nyperson", first_name="Nora", last_name="Ny",
                                                   email="nora@example.se")


def add(client, user, orgnr, confirm=True, **extra):
    client.force_login(user)
    data = {"orgnr": orgnr, **extra}
    if confirm:
        data["confirm"] = "1"
    return client.post(reverse("bidrag:organisation_add"), data)


@pytest.mark.parametrize("orgnr, message", [
    ("212000-0143", "Ogiltigt organisationsnummer"),  # Luhn check digit wrong
    ("12345", "Ogiltigt organisationsnummer"),
    ("", "Ange organisationsnumret"),
    ("402000-0008", "första siffra"),  # valid check digit, no legal form for 4
])
def test_a_wrong_orgnr_is_refused_in_swedish_at_the_field(client, reference, person, orgnr, message):
    response = add(client, person, orgnr)
    page = response.content.decode()
    assert response.status_code == 400 and message in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="id_orgnr_helptext id_orgnr_error"' in page
    assert not Membership.objects.filter(user=person).exists()


def test_a_municipality_is_recognised_with_its_name_and_kommunkod(client, reference, person):
    Organisation.objects.filter(orgnr="2120001124").delete()  # Malmö, as if not yet registered here
    response = add(client, person, "212000-1124", confirm=False)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Malmö kommun" in page and "1280" in page and "Skåne län" in page
    assert "Stat, region eller kommun" in page  # the legal form, from the first digit
    assert "Statsbidrag till kommuner för brottsförebyggande åtgärder" in page  # eligible schemes
    assert not Organisation.objects.filter(orgnr="2120001124").exists()  # nothing made by looking
    response = add(client, person, "212000-1124", name="Något annat namn")
    organisation = Organisation.objects.get(orgnr="2120001124")
    assert (organisation.name, organisation.kommunkod) == ("Malmö kommun", "1280")  # filled in, not typed
    assert response.status_code == 302
    assert Membership.objects.get(organisation=organisation, user=person).role == Membership.Role.APPLICANT


def test_a_new_association_is_created_with_the_person_as_first_member_and_its_schemes_shown(client, reference, person):
    page = add(client, person, "802479-1231", confirm=False).content.decode()
    assert "Ideell förening eller stiftelse" in page and "Ekonomiskt stöd för utvärdering och uppföljning" in page
    assert "Statsbidrag till kommuner" not in page  # scheme A is for municipalities only
    assert add(client, person, "802479-1231").status_code == 400  # a new one needs its name
    response = add(client, person, "802479-1231", name="Föreningen Nya vägar")
    organisation = Organisation.objects.get(orgnr="8024791231")
    assert response.status_code == 302 and organisation.name == "Föreningen Nya vägar"
    membership = Membership.objects.get(organisation=organisation)
    assert (membership.user, membership.role, membership.may_sign) == (person, Membership.Role.APPLICANT, False)


def test_an_organisation_without_members_is_joined_as_sokande(client, reference, person, malmo):
    assert not malmo.memberships.exists()
    add(client, person, "212000-1124")
    membership = Membership.objects.get(organisation=malmo, user=person)
    assert membership.role == Membership.Role.APPLICANT and not membership.may_sign


def test_joining_an_organisation_with_members_is_a_request_its_signatory_approves(client, cast, draft, person, stockholm):
    response = add(client, person, "212000-0142")
    assert response.status_code == 302
    assert not Membership.objects.filter(organisation=stockholm, user=person).exists()  # no rights grabbed
    request = JoinRequest.objects.get(organisation=stockholm, user=person, state=JoinRequest.State.PENDING)
    mail = OutboxMessage.objects.get(kind="join_requested")
    assert mail.recipient == cast.signatory.email
    assert add(client, person, "212000-0142").status_code == 302
    assert JoinRequest.objects.filter(organisation=stockholm, user=person).count() == 1  # asked once
    assert client.get(reverse("workflows:application_detail", args=[draft.pk])).status_code == 404

    url = reverse("bidrag:join_request_decide", args=[stockholm.pk, request.pk])
    client.force_login(cast.applicant)  # a sökande may not let people in
    assert client.post(url, {"decision": "approve"}).status_code == 403
    client.force_login(cast.signatory)
    page = client.get(reverse("bidrag:organisation_detail", args=[stockholm.pk])).content.decode()
    assert "Nora Ny" in page and url in page
    assert client.post(url, {"decision": "approve"}).status_code == 302
    membership = Membership.objects.get(organisation=stockholm, user=person)
    assert membership.role == Membership.Role.APPLICANT and not membership.may_sign
    assert client.post(url, {"decision": "approve"}).status_code == 409  # decided once


def test_an_unconfirmed_signatory_may_not_approve_join_requests(client, cast, draft, person, stockholm):
    add(client, person, "212000-0142")
    request = JoinRequest.objects.get(organisation=stockholm, user=person)
    Membership.objects.filter(organisation=stockholm, user=cast.signatory).update(
        mandate_state=Membership.Mandate.REQUESTED, mandate_confirmed_by=None, mandate_confirmed_at=None)
    client.force_login(cast.signatory)
    response = client.post(reverse("bidrag:join_request_decide", args=[stockholm.pk, request.pk]), {"decision": "approve"})
    assert response.status_code == 403
    assert not Membership.objects.filter(organisation=stockholm, user=person).exists()


def test_the_list_shows_each_organisation_with_role_and_mandate(client, cast, draft, stockholm):
    client.force_login(cast.signatory)
    page = client.get(reverse("bidrag:organisation_list")).content.decode()
    assert stockholm.name in page and "Firmatecknare eller ombud" in page and "Bekräftad" in page
    client.force_login(cast.applicant)
    page = client.get(reverse("bidrag:organisation_list")).content.decode()
    assert "Sökande" in page and "Mina organisationer" in page


# --- Invitations.


def invite(client, cast, organisation, email="nora@example.se", role="applicant"):
    client.force_login(cast.signatory)
    response = client.post(reverse("bidrag:invitation_send", args=[organisation.pk]), {"email": email, "role": role})
    mail = OutboxMessage.objects.filter(kind="invitation").order_by("-created_at").first()
    token = re.search(r"/inbjudan/([^/\s]+)/", mail.body).group(1) if mail else None
    return response, token


def test_an_invitation_mails_a_single_use_link_and_stores_only_its_hash(client, cast, draft, person, stockholm):
    response, token = invite(client, cast, stockholm, role="signatory")
    assert response.status_code == 302 and token
    invitation = Invitation.objects.get(organisation=stockholm)
    assert invitation.token_hash == token_hash(token) and token not in invitation.token_hash
    assert OutboxMessage.objects.get(kind="invitation").recipient == "nora@example.se"

    client.force_login(person)
    url = reverse("bidrag:invitation_accept", args=[token])
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    membership = Membership.objects.get(organisation=stockholm, user=person)
    assert membership.role == Membership.Role.SIGNATORY
    assert membership.mandate_state == Membership.Mandate.MISSING and not membership.may_sign  # proof still needed
    invitation.refresh_from_db()
    assert invitation.accepted_by == person and invitation.accepted_at

    second = type(person).objects.create_user("andra", email="nora@example.se")
    client.force_login(second)
    response = client.post(url)
    assert response.status_code == 409 and "redan använts" in response.content.decode()
    assert not Membership.objects.filter(user=second).exists()


def test_a_firmatecknare_revokes_an_invitation_and_its_link_stops_working(client, cast, draft, person, stockholm):
    _response, token = invite(client, cast, stockholm)
    invitation = Invitation.objects.get(organisation=stockholm)
    page = client.get(reverse("bidrag:organisation_detail", args=[stockholm.pk])).content.decode()
    revoke = reverse("bidrag:invitation_revoke", args=[stockholm.pk, invitation.pk])
    assert revoke in page
    client.force_login(cast.applicant)  # a sökande may not
    assert client.post(revoke).status_code == 403
    client.force_login(cast.signatory)
    assert client.post(revoke).status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert client.post(revoke).status_code == 409  # already revoked
    client.force_login(person)
    response = client.post(reverse("bidrag:invitation_accept", args=[token]))
    assert response.status_code == 409 and "återkallats" in response.content.decode()
    assert not Membership.objects.filter(organisation=stockholm, user=person).exists()


def test_an_expired_invitation_is_refused(client, cast, draft, person, stockholm):
    _response, token = invite(client, cast, stockholm)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(person)
    response = client.post(reverse("bidrag:invitation_accept", args=[token]))
    assert response.status_code == 409 and "gått ut" in response.content.decode()
    assert not Membership.objects.filter(organisation=stockholm, user=person).exists()


def test_an_invitation_for_another_address_or_an_unknown_token_is_refused(client, cast, draft, person, stockholm):
    _response, token = invite(client, cast, stockholm, email="someone.else@example.se")
    client.force_login(person)
    response = client.post(reverse("bidrag:invitation_accept", args=[token]))
    assert response.status_code == 409 and "annan e-postadress" in response.content.decode()
    assert not Membership.objects.filter(organisation=stockholm, user=person).exists()
    response = client.post(reverse("bidrag:invitation_accept", args=[token[:-2] + "xx"]))
    assert response.status_code == 404 and "Inbjudan finns inte" in response.content.decode()


def test_an_account_without_e_mail_takes_the_invitations_address(client, cast, draft, stockholm):
    eid_user = type(cast.applicant).objects.create_user("eid-person", first_name="Eva", last_name="Eid")
    _response, token = invite(client, cast, stockholm, email="eva@example.se")
    client.force_login(eid_user)
    assert client.post(reverse("bidrag:invitation_accept", args=[token])).status_code == 302
    eid_user.refresh_from_db()
    assert eid_user.email == "eva@example.se"
    assert Membership.objects.filter(organisation=stockholm, user=eid_user).exists()


def test_only_a_confirmed_signatory_may_invite(client, cast, draft, stockholm):
    client.force_login(cast.applicant)
    response = client.post(reverse("bidrag:invitation_send", args=[stockholm.pk]),
                           {"email": "x@example.se", "role": "applicant"})
    assert response.status_code == 403 and not Invitation.objects.exists()
    client.force_login(cast.signatory)
    response = client.post(reverse("bidrag:invitation_send", args=[stockholm.pk]), {"email": "inte en adress"})
    page = response.content.decode()
    assert response.status_code == 400 and "Ange en giltig e-postadress" in page and "Välj en roll" not in page[:0]


def test_the_invitation_link_needs_a_login(client, cast, draft, stockholm):
    _response, token = invite(client, cast, stockholm)
    client.logout()
    response = client.get(reverse("bidrag:invitation_accept", args=[token]))
    assert response.status_code == 302 and "logga-in" in response["Location"]


# --- Members.


def test_a_signatory_removes_a_member_and_a_member_may_leave(client, cast, draft, person, stockholm):
    Membership.objects.create(organisation=stockholm, user=person)
    target = Membership.objects.get(organisation=stockholm, user=person)
    client.force_login(cast.applicant)  # a sökande removes nobody else
    url = reverse("bidrag:membership_remove", args=[stockholm.pk, target.key])
    assert client.post(url).status_code == 403
    client.force_login(cast.signatory)
    assert client.post(url).status_code == 302
    assert not Membership.objects.filter(organisation=stockholm, user=person).exists()
    own = Membership.objects.get(organisation=stockholm, user=cast.applicant)
    client.force_login(cast.applicant)
    assert client.post(reverse("bidrag:membership_remove", args=[stockholm.pk, own.key])).status_code == 302
    assert not Membership.objects.filter(organisation=stockholm, user=cast.applicant).exists()


def test_the_last_confirmed_signatory_cannot_remove_themselves(client, cast, draft, stockholm):
    own = Membership.objects.get(organisation=stockholm, user=cast.signatory)
    client.force_login(cast.signatory)
    response = client.post(reverse("bidrag:membership_remove", args=[stockholm.pk, own.key]))
    assert response.status_code == 409 and "enda firmatecknare" in response.content.decode()
    assert Membership.objects.filter(pk=own.pk).exists()
    other = type(cast.applicant).objects.create_user("andra-firmatecknare")
    demo.signatory_mandate_ensure(organisation=stockholm, user=other, registrar=cast.registrar)
    assert client.post(reverse("bidrag:membership_remove", args=[stockholm.pk, own.key])).status_code == 302


# --- Foreign ids.


def test_foreign_organisation_ids_answer_404_like_missing_ones(client, cast, draft, stockholm, malmo):
    Membership.objects.create(organisation=malmo, user=cast.officer2)
    foreign = Membership.objects.get(organisation=malmo)
    client.force_login(cast.signatory)
    for org_id in (malmo.pk, uuid.uuid4()):
        assert client.get(reverse("bidrag:organisation_detail", args=[org_id])).status_code == 404
        assert client.post(reverse("bidrag:invitation_send", args=[org_id]),
                           {"email": "a@example.se", "role": "applicant"}).status_code == 404
        assert client.post(reverse("bidrag:mandate_request", args=[org_id])).status_code == 404
        assert client.post(reverse("bidrag:join_request_decide", args=[org_id, uuid.uuid4()])).status_code == 404
    # a member of another organisation, through one's own organisation's address
    assert client.post(reverse("bidrag:membership_remove", args=[stockholm.pk, foreign.key])).status_code == 404
    assert client.post(reverse("bidrag:membership_remove", args=[malmo.pk, foreign.key])).status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()
