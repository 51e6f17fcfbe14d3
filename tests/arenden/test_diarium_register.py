"""Issue 7, registration and the diarium (OSL 5 kap. 1 §, FL 27 §): a registrar registers
incoming, outgoing and drawn-up items of every kind on a case, a case officer on a case they
handle (a tjänsteanteckning of a phone call); with date, counterpart, short description, a
secrecy mark and an attachment stored in S3; journaled. Nobody else writes: not the other
staff roles, not auditors or administrators, not someone barred by jäv."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arenden.errors import NotAllowed, NotFound, TransitionNotAllowed, ValidationFailed
from arenden.journal import CaseEvent
from arenden.models import Attachment, DiariumEntry, JournalEvent
from arenden.services import conflict_declare
from bidrag.models.application import Status
from tests.domain import perform
from workflows.diarium import register_item

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"


def item(**overrides) -> dict:
    data = {
        "kind": DiariumEntry.Kind.EMAIL, "direction": DiariumEntry.Direction.INCOMING,
        "entry_date": timezone.localdate(), "counterpart": "Länsstyrelsen i Stockholms län",
        "description": "Fråga om projektets samverkan", "counterpart_private": False, "secrecy": "", "note": "",
    }
    return data | overrides


@pytest.fixture
def in_review(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    return application


def _handling_officer(application, cast):
    """The officer who took the review step (and so handles the case)."""
    perform(actor=cast.officer, application=application, node="review", action="request_supplement",
            data={"request_text": "Bifoga lägesbilden.", "deadline": timezone.localdate() + timedelta(days=20)})
    return cast.officer


@pytest.mark.parametrize("who, may", [
    ("registrar", True), ("officer", True), ("officer2", False), ("decision_maker", False), ("finance", False),
    ("auditor", False), ("admin", False), ("applicant", False), ("signatory", False),
])
def test_osl5_who_registers_items_matrix(in_review, cast, who, may):
    _handling_officer(in_review, cast)
    actor = getattr(cast, who)
    before = JournalEvent.objects.filter(case_id=in_review.case_id).count()
    if may:
        entry = register_item(actor=actor, application_id=in_review.pk, data=item())
        assert entry.created_by == actor and entry.case_id == in_review.case_id
        event = JournalEvent.objects.filter(case_id=in_review.case_id).order_by("-seq").first()
        assert event.action == CaseEvent.REGISTER_ITEM and event.actor == actor
        assert event.payload["entry"] == str(entry.pk) and event.payload["kind"] == "epost"
    else:
        with pytest.raises((NotAllowed, NotFound, Http404)):  # 404: may not even read it
            register_item(actor=actor, application_id=in_review.pk, data=item())
        assert JournalEvent.objects.filter(case_id=in_review.case_id).count() == before
        assert not DiariumEntry.objects.filter(case_id=in_review.case_id, kind=DiariumEntry.Kind.EMAIL).exists()


def test_osl5_a_registrar_barred_by_jav_registers_nothing(in_review, cast):
    conflict_declare(actor=cast.registrar, case=in_review.case, reason="Min make leder projektet.")
    with pytest.raises(NotAllowed):
        register_item(actor=cast.registrar, application_id=in_review.pk, data=item())
    assert not DiariumEntry.objects.filter(case_id=in_review.case_id, kind=DiariumEntry.Kind.EMAIL).exists()


def test_fl27_a_phone_note_records_what_was_said(in_review, cast):
    officer = _handling_officer(in_review, cast)
    with pytest.raises(ValidationFailed) as missing:
        register_item(actor=officer, application_id=in_review.pk,
                      data=item(kind=DiariumEntry.Kind.PHONE_NOTE, direction=DiariumEntry.Direction.INTERNAL))
    assert "note" in missing.value.details["fields"]
    entry = register_item(actor=officer, application_id=in_review.pk, data=item(
        kind=DiariumEntry.Kind.PHONE_NOTE, direction=DiariumEntry.Direction.INTERNAL,
        counterpart="Stockholms stad", description="Telefonsamtal om budgeten",
        note="Kommunens kontaktperson uppgav att lokalkostnaden delas med stadsdelen."))
    assert entry.note.startswith("Kommunens kontaktperson")
    event = in_review.case.journal.order_by("-seq").first()
    assert event.payload["note"] == entry.note and event.payload["kind"] == "tjansteanteckning"


def test_osl5_an_outgoing_letter_with_its_document_in_s3_and_a_secrecy_mark(in_review, cast, seaweedfs):
    entry = register_item(
        actor=cast.registrar, application_id=in_review.pk,
        data=item(kind=DiariumEntry.Kind.LETTER, direction=DiariumEntry.Direction.OUTGOING,
                  secrecy="OSL 21 kap. 7 §", entry_date=date.today() - timedelta(days=2)),
        uploaded_file=SimpleUploadedFile("brev.pdf", PDF, content_type="application/pdf"),
    )
    assert entry.secrecy == "OSL 21 kap. 7 §" and entry.entry_date == date.today() - timedelta(days=2)
    head = seaweedfs.client().head_object(Bucket=seaweedfs.bucket, Key=entry.attachment.file.name)
    assert head["ContentLength"] == len(PDF)
    event = in_review.case.journal.order_by("-seq").first()
    assert event.payload["sha256"] == entry.attachment.sha256 and event.payload["secrecy"] == "OSL 21 kap. 7 §"


def test_osl5_a_refused_registration_leaves_no_object_and_no_row(in_review, cast, seaweedfs):
    attachments = Attachment.objects.count()
    with pytest.raises(ValidationFailed):
        register_item(actor=cast.registrar, application_id=in_review.pk,
                      data=item(entry_date=timezone.localdate() + timedelta(days=1)),
                      uploaded_file=SimpleUploadedFile("brev.pdf", PDF, content_type="application/pdf"))
    assert Attachment.objects.count() == attachments
    listed = seaweedfs.client().list_objects_v2(Bucket=seaweedfs.bucket, Prefix=f"cases/{in_review.case_id}/")
    keys = {o["Key"] for o in listed.get("Contents", [])}
    assert keys == set(Attachment.objects.filter(case_id=in_review.case_id).values_list("file", flat=True))


def test_osl5_a_case_without_diarienummer_takes_no_items(draft, cast):
    from arenden.services import diarium_register

    with pytest.raises(TransitionNotAllowed):
        diarium_register(actor=cast.registrar, case=draft.case, **item())
    assert not draft.case.diarium_entries.exists()


def test_osl5_the_registrar_registers_through_the_case_page(in_review, cast):
    client = Client()
    client.force_login(cast.registrar)
    case_url = reverse("workflows:case_detail", args=[in_review.pk])
    url = reverse("workflows:diarium_register", args=[in_review.pk])
    assert url in client.get(case_url).content.decode()
    form = client.get(url)
    assert form.status_code == 200 and 'list="secrecy-suggestions"' in form.content.decode()
    response = client.post(url, {
        "kind": "brev", "direction": "in", "entry_date": timezone.localdate().isoformat(),
        "counterpart": "Polisregion Stockholm", "description": "Yttrande över lägesbilden", "secrecy": "",
        "note": "",
    })
    assert response.status_code == 302 and response["Location"].endswith("#diarium")
    page = client.get(case_url).content.decode()
    assert "Polisregion Stockholm" in page and "Yttrande över lägesbilden" in page
    invalid = client.post(url, {"kind": "brev", "direction": "in", "entry_date": timezone.localdate().isoformat(),
                                "counterpart": "", "description": ""})
    assert invalid.status_code == 400


def test_osl5_the_auditor_sees_no_way_to_register_and_is_refused(in_review, cast):
    client = Client()
    client.force_login(cast.auditor)
    url = reverse("workflows:diarium_register", args=[in_review.pk])
    assert url not in client.get(reverse("workflows:case_detail", args=[in_review.pk])).content.decode()
    assert client.get(url).status_code == 403
    assert client.post(url, {"kind": "brev", "direction": "in", "entry_date": timezone.localdate().isoformat(),
                             "counterpart": "X", "description": "Y"}).status_code == 403
    assert not DiariumEntry.objects.filter(case_id=in_review.case_id, counterpart="X").exists()


def test_osl5_the_applicant_sees_a_marked_entry_only_as_existing(in_review, cast):
    register_item(actor=cast.registrar, application_id=in_review.pk,
                  data=item(counterpart="Anonym tipsare", description="Uppgifter om sökandens ekonomi",
                            secrecy="OSL 21 kap. 7 §"))
    client = Client()
    client.force_login(cast.signatory)
    page = client.get(reverse("workflows:application_detail", args=[in_review.pk])).content.decode()
    assert "Uppgift omfattas av sekretess" in page
    assert "Anonym tipsare" not in page and "sökandens ekonomi" not in page
