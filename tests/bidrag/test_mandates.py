"""Issue 6, signing mandates: a firmatecknare/ombud signs only with a mandate proven by a
document and confirmed by Brå's registrar (who and when recorded, append-only); until then
the policy treats them as a sökande. Generated from the flow: every action only a
firmatecknare may take is refused to one whose mandate is missing, requested or rejected."""

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from arenden.errors import NotAllowed
from bidrag.models import MandateDecision, Membership
from tests.workflows.test_policy_matrix import assert_refused, attempt, reach, rolled_back
from workflows.door import nodes
from workflows.flows import ApplicationFlow
from workflows.steps import Party

pytestmark = pytest.mark.django_db


def signatory_actions():
    """Every action the flow names a firmatecknare (and not every member) for."""
    cases = [(name, a.name) for name, node in nodes().items() for a in node.actions
             if Party.SIGNATORY in a.by and Party.MEMBER not in a.by]
    cases += [(None, a.name) for a in ApplicationFlow.process_actions
              if Party.SIGNATORY in a.by and Party.MEMBER not in a.by]
    return cases


def test_the_flow_has_signatory_actions_submit_and_withdraw_among_them():
    names = {action for _node, action in signatory_actions()}
    assert {"submit", "withdraw", "submit_report", "request_change"} <= names


@pytest.mark.parametrize("node, action", signatory_actions(), ids=[f"{n}-{a}" for n, a in signatory_actions()])
@pytest.mark.parametrize("state", [Membership.Mandate.MISSING, Membership.Mandate.REQUESTED, Membership.Mandate.REJECTED])
def test_a_firmatecknare_without_a_confirmed_mandate_counts_as_a_sokande(node, action, state, make_application, cast):
    application = reach(node, make_application, cast)
    membership = Membership.objects.get(organisation=application.organisation, user=cast.signatory)
    assert membership.may_sign  # the demo's firmatecknare holds a confirmed mandate
    Membership.objects.filter(pk=membership.pk).update(
        mandate_state=state, mandate_confirmed_by=None, mandate_confirmed_at=None
    )
    with pytest.raises(NotAllowed) as refused:
        attempt(cast.signatory, application, node, action)
    assert "firmatecknare" in str(refused.value.message)
    assert_refused(cast.signatory, application, node, action)  # and nothing changed
    Membership.objects.filter(pk=membership.pk).update(
        mandate_state=Membership.Mandate.CONFIRMED, mandate_confirmed_by=cast.registrar,
        mandate_confirmed_at=membership.mandate_confirmed_at,
    )
    with rolled_back():
        attempt(cast.signatory, application, node, action)  # confirmed again: allowed


def test_the_demo_cast_signatory_mandate_is_confirmed_by_the_demo_registrar(draft, cast):
    membership = Membership.objects.get(organisation=draft.organisation, user=cast.signatory)
    assert membership.role == Membership.Role.SIGNATORY
    assert membership.mandate_state == Membership.Mandate.CONFIRMED
    assert membership.mandate_confirmed_by == cast.registrar and membership.mandate_confirmed_at
    record = MandateDecision.objects.get(organisation=draft.organisation, user=cast.signatory)
    assert record.outcome == MandateDecision.Outcome.CONFIRMED and record.decided_by == cast.registrar


def test_the_submit_page_refuses_an_unconfirmed_firmatecknare(draft, cast, client):
    Membership.objects.filter(organisation=draft.organisation, user=cast.signatory).update(
        mandate_state=Membership.Mandate.REQUESTED, mandate_confirmed_by=None, mandate_confirmed_at=None
    )
    client.force_login(cast.signatory)
    response = client.post(reverse("workflows:submit", args=[draft.pk]), {"idempotency_key": "x"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_mandate_decisions_are_append_only(draft, cast):
    record = MandateDecision.objects.get(organisation=draft.organisation, user=cast.signatory)
    with pytest.raises(DatabaseError), transaction.atomic():
        MandateDecision.objects.filter(pk=record.pk).update(reasons="ändrat i efterhand")
    with pytest.raises(DatabaseError), transaction.atomic():
        MandateDecision.objects.filter(pk=record.pk).delete()
    assert MandateDecision.objects.get(pk=record.pk).reasons == record.reasons


# --- Proof, the registrar's page, who may confirm.

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n% delegationsordning\n"


def proof(name="delegationsordning.pdf", content=PDF):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def member(cast, stockholm):
    """A sökande of Stockholms stad who will ask to sign for it."""
    user = type(cast.applicant).objects.create_user("kerstin", first_name="Kerstin", last_name="Kommunjurist",
                                                   email="kerstin@stockholm.example.se")
    Membership.objects.create(organisation=stockholm, user=user, role=Membership.Role.APPLICANT)
    return user


def request_mandate(client, user, organisation, upload=None):
    client.force_login(user)
    return client.post(reverse("bidrag:mandate_request", args=[organisation.pk]), {"document": upload or proof()})


def test_the_proof_is_stored_in_s3_and_the_mandate_waits_for_the_registrar(client, member, stockholm, seaweedfs):
    response = request_mandate(client, member, stockholm)
    assert response.status_code == 302
    membership = Membership.objects.select_related("mandate_document").get(organisation=stockholm, user=member)
    assert membership.role == Membership.Role.SIGNATORY
    assert membership.mandate_state == Membership.Mandate.REQUESTED and membership.mandate_requested_at
    document = membership.mandate_document
    assert document.content_type == "application/pdf" and document.original_name == "delegationsordning.pdf"
    stored = seaweedfs.client().get_object(Bucket=seaweedfs.bucket, Key=document.file.name)["Body"].read()
    assert stored == PDF
    page = client.get(reverse("bidrag:organisation_detail", args=[stockholm.pk])).content.decode()
    assert "väntar på Brås registrator" in page


@pytest.mark.parametrize("name, content, words", [
    ("protokoll.docx", b"PK\x03\x04", "PDF"),
    ("protokoll.pdf", b"<html><script>alert(1)</script></html>", "webbsida"),
])
def test_a_proof_that_is_no_pdf_is_refused_at_the_field(client, member, stockholm, seaweedfs, name, content, words):
    response = request_mandate(client, member, stockholm, proof(name, content))
    assert response.status_code == 400
    page = response.content.decode()
    assert words in page and 'aria-invalid="true"' in page and "id_document_error" in page
    membership = Membership.objects.get(organisation=stockholm, user=member)
    assert membership.mandate_state == Membership.Mandate.MISSING and membership.role == Membership.Role.APPLICANT


def test_a_foreign_organisation_answers_404_for_the_proof(client, member, malmo, seaweedfs):
    assert request_mandate(client, member, malmo).status_code == 404


def _requested(client, member, stockholm):
    request_mandate(client, member, stockholm)
    return Membership.objects.get(organisation=stockholm, user=member)


def test_the_registrar_lists_pending_mandates_oldest_first_and_confirms(client, cast, member, stockholm, malmo, seaweedfs):
    from django.utils import timezone

    membership = _requested(client, member, stockholm)
    other = type(cast.applicant).objects.create_user("olle", first_name="Olle", last_name="Ombud")
    Membership.objects.create(organisation=malmo, user=other)
    later = _requested(client, other, malmo)
    Membership.objects.filter(pk=later.pk).update(mandate_requested_at=timezone.now() - timezone.timedelta(days=3))
    client.force_login(cast.registrar)
    page = client.get(reverse("workflows:mandate_queue")).content.decode()
    assert page.index("Olle Ombud") < page.index("Kerstin Kommunjurist")  # oldest first
    assert reverse("bidrag:mandate_document", args=[membership.mandate_document_id]) in page
    document = client.get(reverse("bidrag:mandate_document", args=[membership.mandate_document_id]))
    assert document.status_code == 302 and document["Cache-Control"] == "no-store"

    response = client.post(reverse("workflows:mandate_decide", args=[membership.key]), {"decision": "confirm"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.mandate_state == Membership.Mandate.CONFIRMED and membership.may_sign
    assert membership.mandate_confirmed_by == cast.registrar and membership.mandate_confirmed_at
    record = MandateDecision.objects.get(organisation=stockholm, user=member)
    assert (record.outcome, record.decided_by, record.document_id) == (
        MandateDecision.Outcome.CONFIRMED, cast.registrar, membership.mandate_document_id)
    client.force_login(member)
    page = client.get(reverse("bidrag:organisation_detail", args=[stockholm.pk])).content.decode()
    assert "Rut Registrator" in page and "Bekräftad" in page  # who confirmed, on the organisation page


def test_a_rejection_needs_reasons_and_is_recorded(client, cast, member, stockholm, seaweedfs):
    membership = _requested(client, member, stockholm)
    client.force_login(cast.registrar)
    url = reverse("workflows:mandate_decide", args=[membership.key])
    response = client.post(url, {"decision": "reject"})
    assert response.status_code == 400 and "Ange skälen" in response.content.decode()
    response = client.post(url, {"decision": "reject", f"{membership.key}-reasons": "Protokollet är inte justerat."})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.mandate_state == Membership.Mandate.REJECTED and not membership.may_sign
    record = MandateDecision.objects.get(organisation=stockholm, user=member)
    assert record.outcome == MandateDecision.Outcome.REJECTED and record.reasons == "Protokollet är inte justerat."
    client.force_login(member)
    page = client.get(reverse("bidrag:organisation_detail", args=[stockholm.pk])).content.decode()
    assert "Protokollet är inte justerat." in page and 'name="document"' in page  # may try again


@pytest.mark.parametrize("who", ["officer", "decision_maker", "auditor", "admin", "signatory", "applicant"])
def test_only_the_registrar_may_confirm(client, cast, member, stockholm, seaweedfs, who):
    membership = _requested(client, member, stockholm)
    client.force_login(getattr(cast, who))
    assert client.get(reverse("workflows:mandate_queue")).status_code == 404
    response = client.post(reverse("workflows:mandate_decide", args=[membership.key]), {"decision": "confirm"})
    assert response.status_code == 404
    from bidrag.services.organisations import mandate_decide

    with pytest.raises(NotAllowed):
        mandate_decide(actor=getattr(cast, who), membership_key=membership.key, confirm=True)
    membership.refresh_from_db()
    assert membership.mandate_state == Membership.Mandate.REQUESTED
    assert not MandateDecision.objects.filter(organisation=stockholm, user=member).exists()


def test_a_registrar_who_is_a_member_of_the_organisation_may_not_confirm(client, cast, member, stockholm, seaweedfs):
    from arenden.errors import ErrorCode
    from bidrag.services.organisations import mandate_decide

    membership = _requested(client, member, stockholm)
    Membership.objects.create(organisation=stockholm, user=cast.registrar)
    client.force_login(cast.registrar)
    page = client.get(reverse("workflows:mandate_queue")).content.decode()
    assert "jäv" in page and reverse("workflows:mandate_decide", args=[membership.key]) not in page
    response = client.post(reverse("workflows:mandate_decide", args=[membership.key]), {"decision": "confirm"})
    assert response.status_code == 403
    with pytest.raises(NotAllowed) as refused:
        mandate_decide(actor=cast.registrar, membership_key=membership.key, confirm=True)
    assert refused.value.code == ErrorCode.CONFLICT_OF_INTEREST
    membership.refresh_from_db()
    assert membership.mandate_state == Membership.Mandate.REQUESTED


def test_a_requested_mandate_gives_no_right_to_submit_until_confirmed(client, cast, member, stockholm, draft, seaweedfs):
    from bidrag.services.organisations import mandate_decide
    from workflows import door, policy

    submit = door.find("start", "submit")[1]
    membership = _requested(client, member, stockholm)
    assert not policy.may_take(actor=member, application=draft, action=submit)
    mandate_decide(actor=cast.registrar, membership_key=membership.key, confirm=True)
    assert policy.may_take(actor=member, application=draft, action=submit)


def test_the_proof_is_for_the_registrar_and_the_members_only(client, cast, member, stockholm, seaweedfs):
    membership = _requested(client, member, stockholm)
    url = reverse("bidrag:mandate_document", args=[membership.mandate_document_id])
    outsider = type(cast.applicant).objects.create_user("utomstaende")
    Membership.objects.create(organisation=stockholm, user=cast.applicant)  # a fellow member
    for user, status in [(outsider, 404), (cast.officer, 404), (cast.applicant, 302), (member, 302),
                         (cast.registrar, 302)]:
        client.force_login(user)
        assert client.get(url).status_code == status, user
    # nor through the application attachment download
    client.force_login(outsider)
    assert client.get(reverse("bidrag:attachment_download", args=[membership.mandate_document_id])).status_code == 404


def test_osl_5_1_the_proof_is_registered_with_a_diarienummer_and_the_ruling_noted(client, cast, member, stockholm,
                                                                                 seaweedfs):
    """A proof of a mandate is a document received by Brå: registered as it comes in, with
    the registrar's ruling as an outgoing entry on the same case."""
    from arenden.models import DiariumEntry

    membership = _requested(client, member, stockholm)
    case = membership.mandate_document.case
    case.refresh_from_db()
    assert case.diarienummer
    [incoming] = DiariumEntry.objects.filter(case=case)
    assert (incoming.direction, incoming.attachment_id, incoming.counterpart) == (
        DiariumEntry.Direction.INCOMING, membership.mandate_document_id, stockholm.name)
    assert "Kerstin Kommunjurist" in incoming.description

    client.force_login(cast.registrar)
    response = client.post(reverse("workflows:mandate_decide", args=[membership.key]),
                           {"decision": "reject", f"{membership.key}-reasons": "Oläsligt."})
    assert response.status_code == 302
    outgoing = DiariumEntry.objects.filter(case=case, direction=DiariumEntry.Direction.OUTGOING).get()
    assert outgoing.description.endswith("inte bekräftad") and outgoing.created_by == cast.registrar
