"""Issue 9, allmän handling (TF 2 kap., OSL): staff produce a case's documents as one ZIP,
after a secrecy review of each item, with a cover list naming every item; the production is
stored (never overwritten) and journaled with the ZIP's SHA-256. On real PostgreSQL and the
harness's SeaweedFS."""

import csv
import hashlib
import io
import uuid
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from arenden.errors import NotAllowed, ValidationFailed
from arenden.journal import CaseEvent
from arenden.models import DiariumEntry, JournalEvent
from arenden.production import COVER_CSV, COVER_PDF, ItemChoice, Release
from bidrag.models import DecisionLetter
from bidrag.models.application import Status
from tests.domain import perform
from workflows.diarium import register_item
from workflows.production import APPLICATION_AS_SENT, APPLICATION_PDF, produce_documents, production_items

pytestmark = pytest.mark.django_db

PUBLIC_PDF = b"%PDF-1.4\n% Yttrande fran polisen\n1 0 obj\n<<>>\nendobj\n"
SECRET_PDF = b"%PDF-1.4\n% HEMLIGT: tipsarens namn Anna Andersson\n1 0 obj\n<<>>\nendobj\n"
MASKED_PDF = b"%PDF-1.4\n% maskerad kopia: XXXXX\n1 0 obj\n<<>>\nendobj\n"


def _item(**overrides) -> dict:
    data = {
        "kind": DiariumEntry.Kind.LETTER, "direction": DiariumEntry.Direction.INCOMING,
        "entry_date": timezone.localdate(), "counterpart": "Polisregion Stockholm",
        "description": "Yttrande över lägesbilden", "counterpart_private": False, "secrecy": "", "note": "",
    }
    return data | overrides


@pytest.fixture
def in_review(make_application):
    return make_application(to=Status.IN_REVIEW)


@pytest.fixture
def entries(in_review, cast, seaweedfs):
    """A case with an unmarked letter and a secret-marked tip, each with its document in S3."""
    public = register_item(actor=cast.registrar, application_id=in_review.pk, data=_item(),
                           uploaded_file=SimpleUploadedFile("yttrande.pdf", PUBLIC_PDF, "application/pdf"))
    secret = register_item(
        actor=cast.registrar, application_id=in_review.pk,
        data=_item(counterpart="Anna Andersson", counterpart_private=True, description="Tips om sökandens ekonomi",
                   secrecy="OSL 21 kap. 7 §"),
        uploaded_file=SimpleUploadedFile("tips.pdf", SECRET_PDF, "application/pdf"))
    return {"public": public, "secret": secret}


def _defaults(application, **overrides) -> dict[str, ItemChoice]:
    """Every item at its default, a withheld one with a reason; `overrides` by item key."""
    choices = {}
    for item in production_items(application):
        choice = ItemChoice(release=item.default_release, ground=item.secrecy,
                            reason="Uppgifter om enskildas personliga förhållanden." if item.secrecy else "")
        choices[item.key] = overrides.get(item.key, choice)
    return choices


def _stored(seaweedfs, key) -> bytes:
    return seaweedfs.client().get_object(Bucket=seaweedfs.bucket, Key=key)["Body"].read()


def _zip_of(seaweedfs, event) -> bytes:
    return _stored(seaweedfs, event.payload["object_key"])


def _cover(archive: zipfile.ZipFile) -> list[list[str]]:
    text = archive.read(COVER_CSV).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_tf2_the_zip_holds_exactly_the_released_documents_as_stored(in_review, cast, entries, seaweedfs):
    done = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                             choices=_defaults(in_review))
    raw = _zip_of(seaweedfs, done.event)
    archive = zipfile.ZipFile(io.BytesIO(raw))
    documents = {name: archive.read(name) for name in archive.namelist() if name.startswith("handlingar/")}
    released_attachments = [a for a in in_review.case.attachments.all() if a.pk != entries["secret"].attachment_id]
    assert released_attachments, "the application's own attachments are in the case"
    expected = sorted(_stored(seaweedfs, a.file.name) for a in released_attachments)
    drawn_up = (APPLICATION_AS_SENT, APPLICATION_PDF)  # the application as sent, not a stored object
    stored_files = sorted(body for name, body in documents.items() if not name.endswith(drawn_up))
    assert stored_files == expected  # byte for byte, nothing more
    assert PUBLIC_PDF in documents.values()
    assert {COVER_PDF, COVER_CSV} <= set(archive.namelist())
    assert archive.read(COVER_PDF).startswith(b"%PDF-")
    # The application as sent: its bytes hash to the digest on the receipt.
    (as_sent,) = [body for name, body in documents.items() if name.endswith(APPLICATION_AS_SENT)]
    assert hashlib.sha256(as_sent).hexdigest() == in_review.submitted_version.sha256
    (readable,) = [body for name, body in documents.items() if name.endswith(APPLICATION_PDF)]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(readable)).pages)
    assert "Ansökan som den skickades in" in text and in_review.title in text


def test_osl_a_secret_marked_item_is_withheld_by_default_and_its_content_never_in_the_zip(
        in_review, cast, entries, seaweedfs):
    secret_key = f"diarium-{entries['secret'].pk}"
    items = {item.key: item for item in production_items(in_review)}
    assert items[secret_key].default_release == Release.WITHHOLD
    assert items[f"diarium-{entries['public'].pk}"].default_release == Release.RELEASE
    done = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                             choices=_defaults(in_review))
    raw = _zip_of(seaweedfs, done.event)
    archive = zipfile.ZipFile(io.BytesIO(raw))
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert SECRET_PDF not in everything and b"Anna Andersson" not in everything
    assert "sökandens ekonomi".encode() not in everything
    assert secret_key in done.event.payload["withheld"]
    assert f"diarium-{entries['public'].pk}" in done.event.payload["released"]


def test_tf2_the_cover_list_names_every_item_and_the_withheld_with_their_ground(in_review, cast, entries, seaweedfs):
    items = production_items(in_review)
    done = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="Journalist X",
                             choices=_defaults(in_review))
    archive = zipfile.ZipFile(io.BytesIO(_zip_of(seaweedfs, done.event)))
    header, *rows = _cover(archive)
    assert header[0] == "Nr" and "Prövning" in header and "Bestämmelse" in header
    assert [int(row[0]) for row in rows] == list(range(1, len(items) + 1))
    diarium_count = DiariumEntry.objects.filter(case_id=in_review.case_id).count()
    assert len(rows) >= diarium_count  # every diarium entry, then the attachments no entry names
    by_kind = {row[0]: row for row in rows}
    secret_number = str([i.key for i in items].index(f"diarium-{entries['secret'].pk}") + 1)
    withheld = by_kind[secret_number]
    assert withheld[6] == "Lämnas inte ut" and withheld[7] == "OSL 21 kap. 7 §"
    assert withheld[8] == "Uppgifter om enskildas personliga förhållanden."
    assert withheld[4] == "" and withheld[5] == "Uppgift omfattas av sekretess" and withheld[9] == ""
    public_number = str([i.key for i in items].index(f"diarium-{entries['public'].pk}") + 1)
    released = by_kind[public_number]
    assert released[6] == "Lämnas ut" and released[4] == "Polisregion Stockholm"
    assert released[10] == hashlib.sha256(PUBLIC_PDF).hexdigest()


def test_osl_withholding_without_a_reason_is_refused_in_swedish(in_review, cast, entries, seaweedfs):
    secret_key = f"diarium-{entries['secret'].pk}"
    before = JournalEvent.objects.filter(case_id=in_review.case_id).count()
    with pytest.raises(ValidationFailed) as refused:
        produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="", choices=_defaults(
            in_review, **{secret_key: ItemChoice(release=Release.WITHHOLD, ground="OSL 21 kap. 7 §", reason="")}))
    assert refused.value.details["fields"][f"{secret_key}-reason"] == [
        "Ange skälet till att handlingen inte lämnas ut."]
    with pytest.raises(ValidationFailed) as no_ground:
        produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="", choices=_defaults(
            in_review, **{secret_key: ItemChoice(release=Release.WITHHOLD, ground="", reason="Sekretess.")}))
    assert f"{secret_key}-ground" in no_ground.value.details["fields"]
    assert JournalEvent.objects.filter(case_id=in_review.case_id).count() == before
    listed = seaweedfs.client().list_objects_v2(Bucket=seaweedfs.bucket, Prefix=f"productions/{in_review.case_id}/")
    assert not listed.get("Contents")


def test_osl_withholding_without_a_reason_is_refused_on_the_page(in_review, cast, entries, seaweedfs):
    client = Client()
    client.force_login(cast.registrar)
    url = reverse("workflows:production", args=[in_review.pk])
    page = client.get(url)
    assert page.status_code == 200
    secret_key = f"diarium-{entries['secret'].pk}"
    body = page.content.decode()
    # Marked: withheld is ticked, its provision filled in.
    assert f'name="{secret_key}-release" value="lamnas-inte-ut"' in body
    start = body.index(f'name="{secret_key}-release" value="lamnas-inte-ut"')
    assert "checked" in body[start:start + 200]
    data = {"recipient": ""}
    for item in production_items(in_review):
        data[f"{item.key}-release"] = item.default_release.value
        data[f"{item.key}-ground"] = item.secrecy
        data[f"{item.key}-reason"] = ""
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Ange skälet till att handlingen inte lämnas ut." in response.content.decode()
    assert not JournalEvent.objects.filter(case_id=in_review.case_id, action=CaseEvent.PRODUCE_DOCUMENTS).exists()


def test_tf2_the_journal_holds_the_sha256_of_the_delivered_zip(in_review, cast, entries, seaweedfs):
    client = Client()
    client.force_login(cast.registrar)
    url = reverse("workflows:production", args=[in_review.pk])
    data = {"recipient": "Anonym via e-post"}
    for item in production_items(in_review):
        data[f"{item.key}-release"] = item.default_release.value
        data[f"{item.key}-ground"] = item.secrecy
        data[f"{item.key}-reason"] = "Uppgift om enskilds ekonomi." if item.secrecy else ""
    response = client.post(url, data)
    assert response.status_code == 302
    event = JournalEvent.objects.get(case_id=in_review.case_id, action=CaseEvent.PRODUCE_DOCUMENTS)
    assert response["Location"] == reverse("workflows:production_detail",
                                           args=[in_review.pk, event.payload["production"]])
    download = client.get(reverse("workflows:production_download", args=[in_review.pk, event.payload["production"]]))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    delivered = b"".join(download.streaming_content)
    assert hashlib.sha256(delivered).hexdigest() == event.payload["sha256"] == hashlib.sha256(
        _zip_of(seaweedfs, event)).hexdigest()
    assert event.payload["size"] == len(delivered)
    assert event.actor == cast.registrar and event.payload["recipient"] == "Anonym via e-post"
    assert event.from_state == event.to_state == Status.IN_REVIEW
    assert event.payload["object_key"] == f"productions/{in_review.case_id}/{event.payload['production']}.zip"
    assert f"diarium-{entries['secret'].pk}" in event.payload["withheld"]


def test_tf2_each_production_is_stored_under_a_new_key_never_overwritten(in_review, cast, entries, seaweedfs):
    first = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                              choices=_defaults(in_review))
    second = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                               choices=_defaults(in_review))
    assert first.event.payload["object_key"] != second.event.payload["object_key"]
    assert first.event.payload["anonymous"] is True
    for done in (first, second):
        assert hashlib.sha256(_zip_of(seaweedfs, done.event)).hexdigest() == done.event.payload["sha256"]


def test_osl_masking_gives_the_masked_copy_never_the_original(in_review, cast, entries, seaweedfs):
    secret_key = f"diarium-{entries['secret'].pk}"
    with pytest.raises(ValidationFailed) as no_copy:
        produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="", choices=_defaults(
            in_review, **{secret_key: ItemChoice(release=Release.REDACT, ground="OSL 21 kap. 7 §",
                                                 reason="Tipsarens namn maskerat.")}))
    assert f"{secret_key}-masked_copy" in no_copy.value.details["fields"]
    masked = SimpleUploadedFile("tips-maskerad.pdf", MASKED_PDF, "application/pdf")
    done = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="", choices=_defaults(
        in_review, **{secret_key: ItemChoice(release=Release.REDACT, ground="OSL 21 kap. 7 §",
                                             reason="Tipsarens namn maskerat.", masked_copy=masked,
                                             masked_name="tips-maskerad.pdf")}))
    archive = zipfile.ZipFile(io.BytesIO(_zip_of(seaweedfs, done.event)))
    bodies = [archive.read(name) for name in archive.namelist()]
    assert MASKED_PDF in bodies and SECRET_PDF not in bodies
    assert secret_key in done.event.payload["redacted"]


@pytest.mark.parametrize("who, may", [
    ("registrar", True), ("officer", True), ("officer2", False), ("decision_maker", False), ("finance", False),
    ("team_lead", False), ("auditor", False), ("admin", False), ("applicant", False), ("signatory", False),
])
def test_tf2_who_produces_documents_matrix(in_review, cast, seaweedfs, who, may):
    # The officer handles the case (took its review step); officer2 does not.
    perform(actor=cast.officer, application=in_review, node="review", action="request_supplement",
            data={"request_text": "Bifoga lägesbilden.", "deadline": timezone.localdate() + timedelta(days=20)})
    actor = getattr(cast, who)
    if may:
        done = produce_documents(actor=actor, application_id=in_review.pk, recipient="",
                                 choices=_defaults(in_review))
        assert done.event.actor == actor
    else:
        with pytest.raises((NotAllowed, Http404)):
            produce_documents(actor=actor, application_id=in_review.pk, recipient="", choices=_defaults(in_review))
        assert not JournalEvent.objects.filter(case_id=in_review.case_id,
                                               action=CaseEvent.PRODUCE_DOCUMENTS).exists()
    client = Client()
    client.force_login(actor)
    status = client.get(reverse("workflows:production", args=[in_review.pk])).status_code
    expected = 200 if may else 404 if who in ("applicant", "signatory", "admin") else 403
    assert status == expected


def test_tf2_a_foreign_or_unregistered_case_answers_404(in_review, make_application, malmo, cast, entries,
                                                       seaweedfs):
    draft = make_application(to=Status.DRAFT, organisation=malmo)
    done = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                             choices=_defaults(in_review))
    client = Client()
    client.force_login(cast.registrar)
    # A draft is no official document: staff do not see it at all.
    assert client.get(reverse("workflows:production", args=[draft.pk])).status_code == 404
    assert client.get(reverse("workflows:production", args=[uuid.uuid4()])).status_code == 404
    # A production asked for under another case is not found there.
    other = reverse("workflows:production_detail", args=[draft.pk, done.production_id])
    assert client.get(other).status_code == 404
    missing = reverse("workflows:production_download", args=[in_review.pk, uuid.uuid4()])
    assert client.get(missing).status_code == 404
    # The applicant's own members never reach the staff pages, nor the production.
    client.force_login(cast.signatory)
    for name in ("production_detail", "production_download"):
        assert client.get(reverse(f"workflows:{name}", args=[in_review.pk, done.production_id])).status_code == 404


def test_tf2_the_auditor_sees_the_production_in_the_journal_and_cannot_produce(in_review, cast, entries, seaweedfs):
    done = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                             choices=_defaults(in_review))
    client = Client()
    client.force_login(cast.auditor)
    journal = client.get(reverse("workflows:case_journal", args=[in_review.pk])).content.decode()
    assert "Allmänna handlingar utlämnade" in journal or done.event.payload["sha256"] in journal
    case_page = client.get(reverse("workflows:case_detail", args=[in_review.pk])).content.decode()
    assert reverse("workflows:production", args=[in_review.pk]) not in case_page
    assert client.get(reverse("workflows:production_detail", args=[in_review.pk, done.production_id])).status_code == 200
    url = reverse("workflows:production", args=[in_review.pk])
    assert client.post(url, {"recipient": ""}).status_code == 403
    assert JournalEvent.objects.filter(case_id=in_review.case_id, action=CaseEvent.PRODUCE_DOCUMENTS).count() == 1


def test_tf2_the_registrar_finds_the_page_from_the_case(in_review, cast):
    client = Client()
    client.force_login(cast.registrar)
    page = client.get(reverse("workflows:case_detail", args=[in_review.pk])).content.decode()
    assert reverse("workflows:production", args=[in_review.pk]) in page


def test_tf2_a_decision_letter_is_released_as_stored(make_application, cast, seaweedfs):
    granted = make_application(to=Status.GRANTED)
    done = produce_documents(actor=cast.registrar, application_id=granted.pk, recipient="",
                             choices=_defaults(granted))
    letter = DecisionLetter.objects.get(decision__application=granted)
    archive = zipfile.ZipFile(io.BytesIO(_zip_of(seaweedfs, done.event)))
    letters = [archive.read(n) for n in archive.namelist() if "beslut-" in n]
    assert letters == [_stored(seaweedfs, letter.file.name)]
    assert hashlib.sha256(letters[0]).hexdigest() == letter.sha256


def test_tf2_a_document_altered_in_storage_is_never_handed_out(in_review, cast, entries, seaweedfs):
    from arenden.production import DocumentAltered

    key = entries["public"].attachment.file.name
    seaweedfs.client().put_object(Bucket=seaweedfs.bucket, Key=key, Body=b"%PDF-1.4\n% utbytt\n")
    with pytest.raises(DocumentAltered):
        produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                          choices=_defaults(in_review))
    assert not JournalEvent.objects.filter(case_id=in_review.case_id, action=CaseEvent.PRODUCE_DOCUMENTS).exists()
    listed = seaweedfs.client().list_objects_v2(Bucket=seaweedfs.bucket, Prefix=f"productions/{in_review.case_id}/")
    assert not listed.get("Contents")


def test_tf2_a_stored_production_that_no_longer_matches_its_journal_is_refused(in_review, cast, entries, seaweedfs):
    done = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                             choices=_defaults(in_review))
    seaweedfs.client().put_object(Bucket=seaweedfs.bucket, Key=done.event.payload["object_key"], Body=b"PK\x05\x06")
    client = Client()
    client.force_login(cast.registrar)
    response = client.get(reverse("workflows:production_download", args=[in_review.pk, done.production_id]))
    assert response.status_code == 500
    assert "stämmer inte med kontrollsumman i journalen" in response.content.decode()


def test_fl16_a_registrar_who_declared_jav_produces_nothing(in_review, cast, seaweedfs):
    from arenden.services import conflict_declare

    conflict_declare(actor=cast.registrar, case=in_review.case, reason="Min syster leder projektet.")
    with pytest.raises(NotAllowed):
        produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                          choices=_defaults(in_review))
    assert not JournalEvent.objects.filter(case_id=in_review.case_id, action=CaseEvent.PRODUCE_DOCUMENTS).exists()


def test_tf2_the_form_is_protected_against_csrf(in_review, cast, entries, seaweedfs):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.registrar)
    data = {"recipient": ""}
    for item in production_items(in_review):
        data[f"{item.key}-release"] = Release.RELEASE.value
    assert client.post(reverse("workflows:production", args=[in_review.pk]), data).status_code == 403
    assert not JournalEvent.objects.filter(case_id=in_review.case_id, action=CaseEvent.PRODUCE_DOCUMENTS).exists()


def test_tf2_the_cover_list_is_swedish_whatever_the_producers_language(in_review, cast, entries, seaweedfs):
    from django.utils import translation

    with translation.override("en"):
        done = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                                 choices=_defaults(in_review))
    archive = zipfile.ZipFile(io.BytesIO(_zip_of(seaweedfs, done.event)))
    _header, *rows = _cover(archive)
    assert {"Lämnas ut", "Lämnas inte ut"} <= {row[6] for row in rows}
    assert "Brev" in {row[2] for row in rows} and "Inkommande" in {row[3] for row in rows}


def test_tf2_opening_the_production_pages_is_recorded_as_a_read(in_review, cast, entries, seaweedfs):
    from arenden.models import CaseRead

    done = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                             choices=_defaults(in_review))
    client = Client()
    client.force_login(cast.registrar)
    client.get(reverse("workflows:production", args=[in_review.pk]))
    client.force_login(cast.auditor)
    client.get(reverse("workflows:production_detail", args=[in_review.pk, done.production_id]))
    reads = CaseRead.objects.filter(case_id=in_review.case_id)
    assert reads.filter(reader=cast.registrar, detail="Lämna ut handlingar").exists()
    assert reads.filter(reader=cast.auditor, object_id=done.production_id).exists()


def test_osl_masking_through_the_page_takes_the_masked_copy_and_refuses_a_false_one(in_review, cast, entries,
                                                                                    seaweedfs):
    secret_key = f"diarium-{entries['secret'].pk}"
    client = Client()
    client.force_login(cast.registrar)
    url = reverse("workflows:production", args=[in_review.pk])

    def data(copy):
        values = {"recipient": ""}
        for item in production_items(in_review):
            values[f"{item.key}-release"] = Release.RELEASE.value
        values |= {f"{secret_key}-release": Release.REDACT.value, f"{secret_key}-ground": "OSL 21 kap. 7 §",
                   f"{secret_key}-reason": "Tipsarens namn och adress maskerade.", f"{secret_key}-masked_copy": copy}
        return values

    false = SimpleUploadedFile("kopia.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")
    refused = client.post(url, data(false))
    assert refused.status_code == 400
    assert not JournalEvent.objects.filter(case_id=in_review.case_id, action=CaseEvent.PRODUCE_DOCUMENTS).exists()
    response = client.post(url, data(SimpleUploadedFile("kopia.pdf", MASKED_PDF, "application/pdf")))
    assert response.status_code == 302
    event = JournalEvent.objects.get(case_id=in_review.case_id, action=CaseEvent.PRODUCE_DOCUMENTS)
    archive = zipfile.ZipFile(io.BytesIO(_zip_of(seaweedfs, event)))
    bodies = {name: archive.read(name) for name in archive.namelist()}
    assert MASKED_PDF in bodies.values() and SECRET_PDF not in bodies.values()
    assert any("maskerad-kopia.pdf" in name for name in bodies)
    assert event.payload["redacted"] == [secret_key]


def test_tf2_an_unrecorded_production_object_is_swept_and_a_recorded_one_kept(in_review, cast, entries, seaweedfs):
    from django.core.management import call_command

    done = produce_documents(actor=cast.registrar, application_id=in_review.pk, recipient="",
                             choices=_defaults(in_review))
    orphan = f"productions/{in_review.case_id}/{uuid.uuid4()}.zip"
    seaweedfs.client().put_object(Bucket=seaweedfs.bucket, Key=orphan, Body=b"PK\x05\x06" + b"\0" * 18)
    out = io.StringIO()
    call_command("productions_cleanup", "--grace-hours", "0", "--dry-run", stdout=out)
    assert "unrecorded ones would remove" in out.getvalue()
    assert seaweedfs.client().head_object(Bucket=seaweedfs.bucket, Key=orphan)  # a dry run removes nothing
    call_command("productions_cleanup", "--grace-hours", "0", stdout=io.StringIO())
    listed = seaweedfs.client().list_objects_v2(Bucket=seaweedfs.bucket, Prefix=f"productions/{in_review.case_id}/")
    assert {o["Key"] for o in listed.get("Contents", [])} == {done.event.payload["object_key"]}
