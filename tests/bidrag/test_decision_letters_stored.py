"""Issue 7: a decision letter is PDF/A, stored once in S3 with its SHA-256 in the journal,
never overwritten, and read back only if it is still the one recorded; the appeal notice
is the scheme's own (HFD 2016 ref. 49: even where appeal is barred, it is forwarded)."""

import hashlib
import io
import re

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.urls import reverse
from pypdf import PdfReader

from arenden.models import JournalEvent
from bidrag.events import Event
from bidrag.letters import APPEAL_NOTICE, appeal_notice
from bidrag.models import DecisionLetter, GrantScheme
from bidrag.models.application import Status
from bidrag.services.letters import letter_issue, letters_missing

pytestmark = pytest.mark.django_db(transaction=True)


def _s3():
    return default_storage.connection.meta.client, default_storage.bucket_name


def _text(content: bytes) -> str:
    return " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())


def test_the_letter_is_pdfa_stored_once_with_its_sha256_in_the_journal(make_application, cast, client):
    application = make_application(to=Status.GRANTED)
    decision = application.decisions.get()
    assert decision.pk in letters_missing()

    letter = letter_issue(decision_id=decision.pk)

    client_, bucket = _s3()
    stored = client_.get_object(Bucket=bucket, Key=letter.file.name)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == letter.sha256 and len(stored) == letter.size
    reader = PdfReader(io.BytesIO(stored))
    xmp = reader.xmp_metadata
    # PDF/A-3b: the XMP metadata identifies part 3, conformance level B.
    identification = xmp.rdf_root.toxml()
    assert re.search(r'pdfaid:part(="|>)3\b', identification), identification
    assert re.search(r'pdfaid:conformance(="|>)B\b', identification), identification
    assert reader.metadata.title.startswith("Beslut")
    event = JournalEvent.objects.get(case_id=application.case_id, action=Event.ISSUE_LETTER)
    assert event.payload["sha256"] == letter.sha256 and event.payload["decision"] == str(decision.pk)
    # Asking again gives the same letter, and the page hands out exactly those bytes.
    assert letter_issue(decision_id=decision.pk).pk == letter.pk
    client.force_login(cast.signatory)
    response = client.get(reverse("bidrag:decision_letter", args=[application.pk, decision.pk]))
    assert response.status_code == 200 and response.content == stored
    assert JournalEvent.objects.filter(case_id=application.case_id, action=Event.ISSUE_LETTER).count() == 1
    assert decision.pk not in letters_missing()


def test_a_letter_is_never_overwritten(make_application):
    application = make_application(to=Status.REJECTED)
    letter = letter_issue(decision_id=application.decisions.get().pk)
    client_, bucket = _s3()
    # S3 refuses a second object under the letter's key …
    from arenden.storage import DocumentExists, document_put

    with pytest.raises(DocumentExists):
        document_put(key=letter.file.name, content=b"%PDF-1.7 something else", content_type="application/pdf")
    stored = client_.get_object(Bucket=bucket, Key=letter.file.name)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == letter.sha256
    # … and the database refuses to change or remove the row that names it.
    for statement in (
        lambda: DecisionLetter.objects.filter(pk=letter.pk).update(sha256="0" * 64),
        lambda: DecisionLetter.objects.filter(pk=letter.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()
    assert DecisionLetter.objects.get(pk=letter.pk).sha256 == letter.sha256


def test_a_changed_letter_object_is_refused_not_served(make_application, cast, client):
    application = make_application(to=Status.GRANTED)
    decision = application.decisions.get()
    letter = letter_issue(decision_id=decision.pk)
    client_, bucket = _s3()
    forged = b"%PDF-1.4\n% not what Bra sent\n"
    client_.put_object(Bucket=bucket, Key=letter.file.name, Body=forged)  # with the storage's own keys

    client.force_login(cast.signatory)
    response = client.get(reverse("bidrag:decision_letter", args=[application.pk, decision.pk]))

    assert response.status_code == 500
    assert forged not in response.content
    assert "stämmer inte med det som registrerades" in response.content.decode()


def test_the_scheduler_sweep_issues_every_missing_letter(make_application):
    application = make_application(to=Status.GRANTED)
    out = io.StringIO()
    call_command("letters_issue", stdout=out)
    assert out.getvalue().startswith("1 ")
    letter = DecisionLetter.objects.get(decision__application=application)
    client_, bucket = _s3()
    assert client_.head_object(Bucket=bucket, Key=letter.file.name)["ContentLength"] == letter.size
    assert letters_missing() == []
    call_command("letters_issue", stdout=out)
    assert out.getvalue().splitlines()[-1].startswith("0 ")


def test_hfd_2016_ref_49_the_appeal_notice_is_the_schemes_own(make_application, reference):
    application = make_application(to=Status.REJECTED)
    scheme = application.call.scheme
    other = GrantScheme.objects.exclude(pk=scheme.pk).first()
    assert scheme.appeal_notice and other.appeal_notice and scheme.appeal_notice != other.appeal_notice
    assert appeal_notice(scheme, "sv") == scheme.appeal_notice
    assert appeal_notice(scheme, "en") == scheme.appeal_notice_en
    # Even the scheme whose ordinance bars appeal says the appeal is registered and forwarded.
    assert "lämnar det vidare" in scheme.appeal_notice
    letter = letter_issue(decision_id=application.decisions.get().pk)
    text = _text(default_storage.open(letter.file.name).read())
    assert " ".join(scheme.appeal_notice.split())[:80] in text
    # A scheme without its own text falls back on Brå's general notice.
    GrantScheme.objects.filter(pk=other.pk).update(appeal_notice="", appeal_notice_en="")
    other.refresh_from_db()
    assert appeal_notice(other, "sv") == str(APPEAL_NOTICE)


def test_verify_letters_rereads_every_letter_and_names_a_changed_or_missing_one(make_application):
    from django.core.management.base import CommandError

    application = make_application(to=Status.GRANTED)
    decision = application.decisions.get()
    with pytest.raises(CommandError):  # the decision has no stored letter yet
        call_command("verify_letters", stdout=io.StringIO(), stderr=io.StringIO())
    letter = letter_issue(decision_id=decision.pk)
    out = io.StringIO()
    call_command("verify_letters", stdout=out)
    assert "Letters OK: 1" in out.getvalue()

    client_, bucket = _s3()
    client_.put_object(Bucket=bucket, Key=letter.file.name, Body=b"%PDF-1.4\n% forged\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_letters", stdout=io.StringIO(), stderr=err)
    assert application.case.diarienummer in err.getvalue() and "not the one sent" in err.getvalue()


def test_an_unrecorded_letter_object_is_an_orphan_the_cleanup_removes(make_application, seaweedfs):
    """A letter stored before its row (letter_issue and the FL 45 § översändelse store
    before they lock) whose process died before recording it: attachments_cleanup removes
    it after the grace period, as it does an attachment's, and keeps every recorded one."""
    from datetime import timedelta

    from arenden.storage import document_put, orphans_remove

    application = make_application(to=Status.GRANTED)
    letter = letter_issue(decision_id=application.decisions.get().pk)
    client, bucket = _s3()
    orphans = [f"letters/{application.case_id}/lost.pdf", f"appeal-letters/{application.case_id}/lost.pdf"]
    for key in orphans:
        document_put(key=key, content=b"%PDF-1.7 lost", content_type="application/pdf")

    checked, removed = orphans_remove(older_than=timedelta(0))

    names = {entry["Key"] for entry in client.list_objects_v2(Bucket=bucket).get("Contents", ())}
    location = default_storage.location.strip("/")
    stored = {name[len(location) + 1:] if location else name for name in names}
    assert not set(orphans) & stored, stored
    assert letter.file.name in stored
    assert removed >= 2 and checked >= removed + 1
