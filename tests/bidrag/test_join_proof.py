"""Issue 6, a join request with proof of the mandate: an organisation whose members include
nobody with a confirmed signing mandate cannot let anyone in (only a confirmed firmatecknare
approves a join request, Brå's rule). So the person who asks to join may attach proof that
they may sign for the organisation (delegation extract, board minutes), and Brå's registrar,
who confirms mandates, decides it: confirmed, the person is a member with a confirmed
mandate; rejected, with reasons, the join request still waits for the organisation."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from arenden.errors import ErrorCode, NotAllowed, NotFound, TransitionNotAllowed, ValidationFailed
from bidrag.models import JoinRequest, MandateDecision, Membership
from bidrag.services import organisations as services
from notifications.models import OutboxMessage
from tests.bidrag.test_mandates import PDF, proof

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(cast):
    return type(cast.applicant).objects.create_user("kerstin", first_name="Kerstin", last_name="Kommunjurist",
                                                   email="kerstin@stockholm.example.se")


@pytest.fixture
def without_signatory(cast, stockholm):
    """Stockholms stad with one member, a sökande: nobody there may approve a join request."""
    Membership.objects.create(organisation=stockholm, user=cast.applicant, role=Membership.Role.APPLICANT)
    assert not Membership.objects.filter(Membership.SIGNING, organisation=stockholm).exists()
    return stockholm


def ask_to_join(client, user, organisation) -> JoinRequest:
    client.force_login(user)
    client.post(reverse("bidrag:organisation_add"), {"orgnr": organisation.orgnr, "confirm": "1"})
    return JoinRequest.objects.get(organisation=organisation, user=user, state=JoinRequest.State.PENDING)


def attach(client, user, request, upload=None):
    client.force_login(user)
    return client.post(reverse("bidrag:join_mandate_request", args=[request.pk]),
                       {f"{request.pk}-document": upload or proof()})


def decide(client, registrar, request, **data):
    client.force_login(registrar)
    return client.post(reverse("workflows:join_mandate_decide", args=[request.pk]), data)


@pytest.fixture
def proven(client, person, without_signatory, seaweedfs) -> JoinRequest:
    """Kerstin's join request to Stockholms stad, with her proof waiting for the registrar."""
    request = ask_to_join(client, person, without_signatory)
    assert attach(client, person, request).status_code == 302
    request.refresh_from_db()
    return request


def test_a_firmatecknare_joining_an_organisation_without_a_confirmed_signatory_is_admitted_by_brås_registrar_on_proof(
    client, cast, person, without_signatory, seaweedfs
):
    request = ask_to_join(client, person, without_signatory)
    response = attach(client, person, request)
    assert response.status_code == 302
    response = decide(client, cast.registrar, request, decision="confirm")
    assert response.status_code == 302
    membership = Membership.objects.get(organisation=without_signatory, user=person)
    assert membership.may_sign
    assert Membership.objects.filter(Membership.SIGNING, organisation=without_signatory, user=person).exists()


# --- The person's side.


def test_the_page_explains_in_swedish_why_nobody_can_approve_and_offers_the_proof(
    client, person, without_signatory
):
    client.force_login(person)
    response = client.post(reverse("bidrag:organisation_add"), {"orgnr": without_signatory.orgnr, "confirm": "1"},
                           follow=True)
    request = JoinRequest.objects.get(organisation=without_signatory, user=person)
    page = response.content.decode()
    assert "ingen där kan godkänna den ännu" in page and "skickad till organisationens firmatecknare" not in page
    assert "ingen i organisationen kan godkänna den ännu" in page
    assert "Får du teckna organisationen?" in page
    assert reverse("bidrag:join_mandate_request", args=[request.pk]) in page
    assert f'name="{request.pk}-document"' in page


def test_with_a_confirmed_signatory_the_request_waits_for_them_and_the_proof_is_still_offered(
    client, draft, person, stockholm
):
    client.force_login(person)
    response = client.post(reverse("bidrag:organisation_add"), {"orgnr": stockholm.orgnr, "confirm": "1"}, follow=True)
    request = JoinRequest.objects.get(organisation=stockholm, user=person)
    page = response.content.decode()
    assert "skickad till organisationens firmatecknare" in page
    assert "Din begäran om medlemskap väntar på organisationens firmatecknare." in page
    assert "ingen i organisationen kan godkänna" not in page
    assert reverse("bidrag:join_mandate_request", args=[request.pk]) in page


def test_the_proof_is_stored_in_s3_and_waits_for_the_registrar(client, proven, person, without_signatory, seaweedfs):
    assert proven.state == JoinRequest.State.PENDING
    assert proven.mandate_state == Membership.Mandate.REQUESTED and proven.mandate_requested_at
    document = proven.mandate_document
    assert document.content_type == "application/pdf" and document.original_name == "delegationsordning.pdf"
    stored = seaweedfs.client().get_object(Bucket=seaweedfs.bucket, Key=document.file.name)["Body"].read()
    assert stored == PDF
    assert not Membership.objects.filter(organisation=without_signatory, user=person).exists()  # not yet
    page = client.get(reverse("bidrag:organisation_list")).content.decode()
    assert "väntar på Brås registrator" in page
    assert reverse("bidrag:join_mandate_request", args=[proven.pk]) not in page  # one proof at a time
    with pytest.raises(TransitionNotAllowed):
        services.join_mandate_request(actor=person, join_request_id=proven.pk, uploaded_file=proof())
    response = attach(client, person, proven)
    assert response.status_code == 409 and "Ditt bevis väntar redan på Brås registrator." in response.content.decode()
    assert JoinRequest.objects.get(pk=proven.pk).mandate_document_id == proven.mandate_document_id


@pytest.mark.parametrize("name, content, words", [
    ("protokoll.docx", b"PK\x03\x04", "PDF"),
    ("protokoll.pdf", b"<html><script>alert(1)</script></html>", "webbsida"),
])
def test_a_proof_that_is_no_pdf_is_refused_at_the_field(client, person, without_signatory, seaweedfs,
                                                        name, content, words):
    request = ask_to_join(client, person, without_signatory)
    response = attach(client, person, request, proof(name, content))
    assert response.status_code == 400
    page = response.content.decode()
    assert words in page and 'aria-invalid="true"' in page and f"id_{request.pk}-document_error" in page
    request.refresh_from_db()
    assert request.mandate_state == Membership.Mandate.MISSING and request.mandate_document is None


def test_a_proof_without_a_file_is_refused_at_the_field(client, person, without_signatory):
    request = ask_to_join(client, person, without_signatory)
    client.force_login(person)
    response = client.post(reverse("bidrag:join_mandate_request", args=[request.pk]))
    assert response.status_code == 400 and "Välj filen med beviset." in response.content.decode()


def test_another_persons_join_request_answers_404_like_a_missing_one(client, cast, proven, person, without_signatory):
    other = type(cast.applicant).objects.create_user("annan-person")
    theirs = ask_to_join(client, other, without_signatory)
    client.force_login(person)
    for join_request_id in (theirs.pk, uuid.uuid4()):
        response = client.post(reverse("bidrag:join_mandate_request", args=[join_request_id]),
                               {f"{join_request_id}-document": proof()})
        assert response.status_code == 404, join_request_id
        with pytest.raises(NotFound):
            services.join_mandate_request(actor=proven.user, join_request_id=join_request_id, uploaded_file=proof())
    theirs.refresh_from_db()
    assert theirs.mandate_state == Membership.Mandate.MISSING


def test_the_proof_is_for_the_registrar_and_the_person_who_asked(client, cast, proven, person, without_signatory):
    url = reverse("bidrag:mandate_document", args=[proven.mandate_document_id])
    outsider = type(cast.applicant).objects.create_user("utomstaende")
    for user, status in [(outsider, 404), (cast.officer, 404), (cast.applicant, 404), (person, 302),
                         (cast.registrar, 302)]:
        client.force_login(user)
        assert client.get(url).status_code == status, user
    client.force_login(outsider)
    assert client.get(reverse("bidrag:attachment_download", args=[proven.mandate_document_id])).status_code == 404


# --- The registrar's side.


def test_the_registrar_lists_join_proofs_with_the_mandate_requests_oldest_first(
    client, cast, proven, person, without_signatory, malmo, seaweedfs
):
    from tests.bidrag.test_mandates import request_mandate

    member = type(cast.applicant).objects.create_user("olle", first_name="Olle", last_name="Ombud")
    Membership.objects.create(organisation=malmo, user=member)
    request_mandate(client, member, malmo)
    Membership.objects.filter(user=member).update(mandate_requested_at=timezone.now() - timezone.timedelta(days=3))
    client.force_login(cast.registrar)
    page = client.get(reverse("workflows:mandate_queue")).content.decode()
    assert page.index("Olle Ombud") < page.index("Kerstin Kommunjurist")  # oldest first, whichever kind
    kerstin = page[page.index("Kerstin Kommunjurist"):]
    assert "Vill bli medlem" in kerstin and "ingen där kan godkänna begäran" in kerstin
    assert reverse("workflows:join_mandate_decide", args=[proven.pk]) in page
    assert reverse("bidrag:mandate_document", args=[proven.mandate_document_id]) in page
    olle = page[page.index("Olle Ombud"):page.index("Kerstin Kommunjurist")]
    assert "Vill bli medlem" not in olle  # Olle's is a member's request


def test_confirming_admits_the_person_as_firmatecknare_recorded_append_only(
    client, cast, proven, person, without_signatory
):
    response = decide(client, cast.registrar, proven, decision="confirm")
    assert response.status_code == 302
    membership = Membership.objects.get(organisation=without_signatory, user=person)
    assert (membership.role, membership.mandate_state) == (Membership.Role.SIGNATORY, Membership.Mandate.CONFIRMED)
    assert membership.mandate_confirmed_by == cast.registrar and membership.mandate_confirmed_at
    assert membership.mandate_document_id == proven.mandate_document_id
    proven.refresh_from_db()
    assert (proven.state, proven.decided_by, proven.mandate_state) == (
        JoinRequest.State.APPROVED, cast.registrar, Membership.Mandate.CONFIRMED)
    record = MandateDecision.objects.get(organisation=without_signatory, user=person)
    assert (record.outcome, record.decided_by, record.document_id) == (
        MandateDecision.Outcome.CONFIRMED, cast.registrar, proven.mandate_document_id)
    mail = OutboxMessage.objects.get(kind="join_mandate_decided", recipient=person.email)
    assert "bekräftat" in mail.body and "firmatecknare" in mail.body
    assert decide(client, cast.registrar, proven, decision="confirm").status_code == 409  # decided once
    client.force_login(person)
    page = client.get(reverse("bidrag:organisation_detail", args=[without_signatory.pk])).content.decode()
    assert "Rut Registrator" in page and "Bekräftad" in page
    # and the new firmatecknare now lets others in, as the organisation could not before
    other = type(cast.applicant).objects.create_user("nasta", email="nasta@example.se")
    theirs = ask_to_join(client, other, without_signatory)
    assert OutboxMessage.objects.get(kind="join_requested").recipient == person.email
    client.force_login(person)
    url = reverse("bidrag:join_request_decide", args=[without_signatory.pk, theirs.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 302
    assert Membership.objects.filter(organisation=without_signatory, user=other).exists()


def test_confirming_tells_the_organisations_confirmed_signatories(client, cast, draft, person, stockholm, seaweedfs):
    request = ask_to_join(client, person, stockholm)
    attach(client, person, request)
    services.join_mandate_decide(actor=cast.registrar, join_request_id=request.pk, confirm=True)
    told = OutboxMessage.objects.get(kind="signatory_joined", recipient=cast.signatory.email)
    assert "Kerstin Kommunjurist" in told.subject and "firmatecknare" in told.body
    assert Membership.objects.get(organisation=stockholm, user=person).may_sign


def test_a_rejection_needs_reasons_and_leaves_the_request_waiting_for_the_organisation(
    client, cast, proven, person, without_signatory
):
    response = decide(client, cast.registrar, proven, decision="reject")
    assert response.status_code == 400 and "Ange skälen" in response.content.decode()
    with pytest.raises(ValidationFailed):
        services.join_mandate_decide(actor=cast.registrar, join_request_id=proven.pk, confirm=False, reasons="  ")
    response = decide(client, cast.registrar, proven, decision="reject",
                      **{f"{proven.pk}-reasons": "Protokollet är inte justerat."})
    assert response.status_code == 302
    proven.refresh_from_db()
    assert proven.state == JoinRequest.State.PENDING and proven.mandate_state == Membership.Mandate.REJECTED
    assert proven.decided_by is None
    assert not Membership.objects.filter(organisation=without_signatory, user=person).exists()
    record = MandateDecision.objects.get(organisation=without_signatory, user=person)
    assert (record.outcome, record.reasons, record.document_id) == (
        MandateDecision.Outcome.REJECTED, "Protokollet är inte justerat.", proven.mandate_document_id)
    mail = OutboxMessage.objects.get(kind="join_mandate_decided", recipient=person.email)
    assert "Protokollet är inte justerat." in mail.body
    client.force_login(cast.registrar)
    assert reverse("workflows:join_mandate_decide", args=[proven.pk]) not in client.get(
        reverse("workflows:mandate_queue")).content.decode()  # out of the queue
    assert decide(client, cast.registrar, proven, decision="confirm").status_code == 409

    client.force_login(person)  # the reasons, and a new try
    page = client.get(reverse("bidrag:organisation_list")).content.decode()
    assert "Protokollet är inte justerat." in page and f'name="{proven.pk}-document"' in page
    assert attach(client, person, proven).status_code == 302
    proven.refresh_from_db()
    assert proven.mandate_state == Membership.Mandate.REQUESTED
    assert proven.mandate_document_id != record.document_id
    services.join_mandate_decide(actor=cast.registrar, join_request_id=proven.pk, confirm=True)
    assert Membership.objects.get(organisation=without_signatory, user=person).may_sign
    assert MandateDecision.objects.filter(organisation=without_signatory, user=person).count() == 2


def test_a_registrar_who_is_a_member_of_the_organisation_may_not_rule(client, cast, proven, person, without_signatory):
    Membership.objects.create(organisation=without_signatory, user=cast.registrar)
    client.force_login(cast.registrar)
    page = client.get(reverse("workflows:mandate_queue")).content.decode()
    assert "jäv" in page and reverse("workflows:join_mandate_decide", args=[proven.pk]) not in page
    assert decide(client, cast.registrar, proven, decision="confirm").status_code == 403
    with pytest.raises(NotAllowed) as refused:
        services.join_mandate_decide(actor=cast.registrar, join_request_id=proven.pk, confirm=True)
    assert refused.value.code == ErrorCode.CONFLICT_OF_INTEREST
    proven.refresh_from_db()
    assert proven.state == JoinRequest.State.PENDING and proven.mandate_state == Membership.Mandate.REQUESTED
    assert not Membership.objects.filter(organisation=without_signatory, user=person).exists()
    assert not MandateDecision.objects.filter(organisation=without_signatory, user=person).exists()


def test_a_registrar_may_not_rule_on_their_own_join_request(client, cast, without_signatory, seaweedfs):
    request = ask_to_join(client, cast.registrar, without_signatory)
    assert attach(client, cast.registrar, request).status_code == 302
    assert decide(client, cast.registrar, request, decision="confirm").status_code == 403
    with pytest.raises(NotAllowed) as refused:
        services.join_mandate_decide(actor=cast.registrar, join_request_id=request.pk, confirm=True)
    assert refused.value.code == ErrorCode.CONFLICT_OF_INTEREST
    assert not Membership.objects.filter(organisation=without_signatory, user=cast.registrar).exists()


@pytest.mark.parametrize("who", ["applicant", "outsider", "person", "signatory", "officer", "decision_maker",
                                 "auditor", "admin"])
def test_only_the_registrar_may_decide(client, cast, proven, person, without_signatory, who):
    actor = {"outsider": type(person).objects.create_user("utomstaende"), "person": person}.get(who) or getattr(cast, who)
    client.force_login(actor)
    assert client.get(reverse("workflows:mandate_queue")).status_code == 404
    assert decide(client, actor, proven, decision="confirm").status_code == 404
    with pytest.raises(NotAllowed):
        services.join_mandate_decide(actor=actor, join_request_id=proven.pk, confirm=True)
    proven.refresh_from_db()
    assert proven.state == JoinRequest.State.PENDING and proven.mandate_state == Membership.Mandate.REQUESTED
    assert not Membership.objects.filter(organisation=without_signatory, user=person).exists()
    assert not MandateDecision.objects.filter(organisation=without_signatory, user=person).exists()


def test_a_missing_id_or_a_join_request_without_proof_answers_404_alike(client, cast, person, without_signatory):
    request = ask_to_join(client, person, without_signatory)  # no proof attached
    for join_request_id in (request.pk, uuid.uuid4()):
        assert decide(client, cast.registrar, type("R", (), {"pk": join_request_id}),
                      decision="confirm").status_code == 404
        with pytest.raises(NotFound):
            services.join_mandate_decide(actor=cast.registrar, join_request_id=join_request_id, confirm=True)
    with pytest.raises(NotFound):
        services.join_mandate_decide(actor=cast.registrar, join_request_id="inte-ett-id", confirm=True)
    assert not Membership.objects.filter(organisation=without_signatory, user=person).exists()


# --- The organisation's firmatecknare meanwhile.


def test_an_approval_by_the_firmatecknare_carries_the_waiting_proof_to_the_membership(
    client, cast, draft, person, stockholm, seaweedfs
):
    request = ask_to_join(client, person, stockholm)
    attach(client, person, request)
    request.refresh_from_db()
    client.force_login(cast.signatory)
    page = client.get(reverse("bidrag:organisation_detail", args=[stockholm.pk])).content.decode()
    assert "skickat bevis till Brå" in page
    url = reverse("bidrag:join_request_decide", args=[stockholm.pk, request.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 302
    membership = Membership.objects.get(organisation=stockholm, user=person)
    assert (membership.role, membership.mandate_state, membership.mandate_document_id) == (
        Membership.Role.SIGNATORY, Membership.Mandate.REQUESTED, request.mandate_document_id)
    assert not membership.may_sign  # a sökande until Brå confirms
    assert "väntar på Brås registrator" in OutboxMessage.objects.get(kind="join_decided").body
    client.force_login(cast.registrar)
    page = client.get(reverse("workflows:mandate_queue")).content.decode()
    assert reverse("workflows:mandate_decide", args=[membership.key]) in page  # an ordinary mandate request now
    assert reverse("workflows:join_mandate_decide", args=[request.pk]) not in page
    assert decide(client, cast.registrar, request, decision="confirm").status_code == 409


def test_a_decline_by_the_firmatecknare_takes_the_proof_out_of_the_queue(
    client, cast, draft, person, stockholm, seaweedfs
):
    request = ask_to_join(client, person, stockholm)
    attach(client, person, request)
    services.join_request_decide(actor=cast.signatory, organisation=stockholm, request_id=request.pk, approve=False)
    assert "prövar därför inte" in OutboxMessage.objects.get(kind="join_decided").body
    assert not services.join_mandate_queue(actor=cast.registrar).filter(pk=request.pk).exists()
    with pytest.raises(TransitionNotAllowed):
        services.join_mandate_decide(actor=cast.registrar, join_request_id=request.pk, confirm=True)
    assert not Membership.objects.filter(organisation=stockholm, user=person).exists()


def test_an_accepted_invitation_carries_the_waiting_proof_too(client, cast, draft, person, stockholm, seaweedfs):
    import re

    request = ask_to_join(client, person, stockholm)
    attach(client, person, request)
    request.refresh_from_db()
    client.force_login(cast.signatory)
    client.post(reverse("bidrag:invitation_send", args=[stockholm.pk]), {"email": person.email, "role": "applicant"})
    token = re.search(r"/inbjudan/([^/\s]+)/", OutboxMessage.objects.get(kind="invitation").body).group(1)
    client.force_login(person)
    assert client.post(reverse("bidrag:invitation_accept", args=[token])).status_code == 302
    membership = Membership.objects.get(organisation=stockholm, user=person)
    assert (membership.mandate_state, membership.mandate_document_id) == (
        Membership.Mandate.REQUESTED, request.mandate_document_id)
    request.refresh_from_db()
    assert request.state == JoinRequest.State.APPROVED and request.decided_by == cast.signatory


def test_osl_5_1_a_proof_sent_with_a_join_request_is_registered_and_the_ruling_noted(client, cast, proven):
    from arenden.models import DiariumEntry

    case = proven.mandate_document.case
    case.refresh_from_db()
    assert case.diarienummer
    assert DiariumEntry.objects.filter(case=case, direction=DiariumEntry.Direction.INCOMING,
                                       attachment=proven.mandate_document).count() == 1
    assert decide(client, cast.registrar, proven, decision="confirm").status_code == 302
    outgoing = DiariumEntry.objects.get(case=case, direction=DiariumEntry.Direction.OUTGOING)
    assert outgoing.description.endswith(": bekräftad") and outgoing.created_by == cast.registrar
