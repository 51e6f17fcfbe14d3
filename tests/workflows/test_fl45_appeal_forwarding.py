"""FL 45 §: forwarding a timely appeal sends the court a letter (översändelse) naming the
appellant, the appealed decision, the day the appeal came in and its last day, whether Brå
reconsidered (FL 39 §) and the documents sent along. PDF/A, stored once in SeaweedFS (real
S3) before the locks are taken, its SHA-256 in the forward_appeal event, registered outgoing
in the diarium, downloadable by staff; a late appeal is still refused forwarding."""

import hashlib
import io
import re
import uuid
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from arenden.errors import Conflict, TransitionNotAllowed
from arenden.formatting import day
from arenden.models import CaseRead, DiariumEntry, JournalEvent
from arenden.storage import DocumentExists, document_put
from bidrag.events import Event
from bidrag.models import Appeal, AppealLetter
from bidrag.models.application import Status
from bidrag.services import appeals as appeal_services
from tests.domain import perform
from workflows import appeals, diarium

pytestmark = pytest.mark.django_db

SUMMARY = "Kommunen anser att verksamheten är ny och begär att beslutet ändras."


def _s3():
    return default_storage.connection.meta.client, default_storage.bucket_name


def _objects(case_id) -> list[str]:
    client, bucket = _s3()
    prefix = default_storage._normalize_name(f"{appeal_services.LETTER_PREFIX}/{case_id}/")
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def _text(content: bytes) -> str:
    return " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())


def _register(cast, application, **dates):
    decision = application.decisions.exclude(reconsidered_by__isnull=False).order_by("decided_at").first()
    return appeals.register(actor=cast.registrar, application_id=application.pk, decision_id=decision.pk,
                            received_on=dates.get("received_on", timezone.localdate()),
                            notified_on=dates.get("notified_on"), summary=SUMMARY)


def test_fl45_forwarding_sends_the_court_a_stored_letter(make_application, cast, client):
    application = make_application(to=Status.REJECTED)
    decision = application.decisions.get()
    appeal = _register(cast, application)

    appeals.forward(actor=cast.officer, application_id=application.pk, appeal_id=appeal.pk,
                    court="Förvaltningsrätten i Malmö")

    letter = AppealLetter.objects.get(appeal=appeal)
    client_, bucket = _s3()
    stored = client_.get_object(Bucket=bucket, Key=default_storage._normalize_name(letter.file.name))["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == letter.sha256 and len(stored) == letter.size
    event = JournalEvent.objects.get(case_id=application.case_id, action=Event.FORWARD_APPEAL)
    assert event.payload["sha256"] == letter.sha256 and event.payload["letter"] == str(letter.pk)
    assert event.payload["court"] == "Förvaltningsrätten i Malmö"
    reader = PdfReader(io.BytesIO(stored))
    identification = reader.xmp_metadata.rdf_root.toxml()  # PDF/A-3b, as the decision letters
    assert re.search(r'pdfaid:part(="|>)3\b', identification) and re.search(r'pdfaid:conformance(="|>)B\b',
                                                                           identification)
    text = _text(stored)
    case = application.case
    for expected in ("Översändelse av överklagande", "Förvaltningsrätten i Malmö", application.organisation.name,
                     case.diarienummer, day(decision.decided_at, language="sv"),
                     day(appeal.received_on, language="sv"), day(appeal.deadline, language="sv"),
                     "kom in före utgången av överklagandetiden", "Brå har inte ändrat det överklagade beslutet",
                     "Överklagandet, inkommet", "Det överklagade beslutet", "med beslutsbrevet", "Ärendets diarieblad",
                     "Ansökan om ekonomiskt stöd"):
        assert expected in text, expected
    # The decision's own letter goes with it, named by its SHA-256.
    assert decision.letter.sha256 in text.replace(" ", "")
    assert DiariumEntry.objects.filter(case=case, direction="out", kind=DiariumEntry.Kind.LETTER,
                                       description__contains="översändelse").exists()

    # Staff download exactly the stored bytes from the case page; nobody else finds them.
    client.force_login(cast.officer)
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    url = reverse("workflows:appeal_letter", args=[application.pk, appeal.pk])
    assert url in page
    response = client.get(url)
    assert response.status_code == 200 and response.content == stored
    assert response["Content-Type"] == "application/pdf"
    # Issue 9: every read of a case is recorded, this document's too.
    read = CaseRead.objects.filter(case=case, kind=CaseRead.Kind.COURT_LETTER).get()
    assert read.reader_id == cast.officer.pk and read.object_id == letter.pk
    client.force_login(cast.signatory)
    assert client.get(url).status_code == 404


def test_fl45_a_foreign_or_missing_appeal_letter_answers_404(make_application, cast, client, malmo):
    application = make_application(to=Status.REJECTED)
    other = make_application(to=Status.REJECTED, organisation=malmo, title="Annat projekt")
    appeal = _register(cast, other)
    appeals.forward(actor=cast.officer, application_id=other.pk, appeal_id=appeal.pk)
    client.force_login(cast.officer)
    assert client.get(reverse("workflows:appeal_letter", args=[other.pk, appeal.pk])).status_code == 200
    # The other case's letter through this case's address, and an id that does not exist.
    assert client.get(reverse("workflows:appeal_letter", args=[application.pk, appeal.pk])).status_code == 404
    assert client.get(reverse("workflows:appeal_letter", args=[application.pk, uuid.uuid4()])).status_code == 404


def test_fl45_the_forwarding_letter_is_never_overwritten(make_application, cast):
    application = make_application(to=Status.REJECTED)
    appeal = _register(cast, application)
    appeals.forward(actor=cast.registrar, application_id=application.pk, appeal_id=appeal.pk)
    letter = AppealLetter.objects.get(appeal=appeal)

    with pytest.raises(DocumentExists):  # S3 refuses a second object under its key
        document_put(key=letter.file.name, content=b"%PDF-1.7 something else", content_type="application/pdf")
    assert hashlib.sha256(default_storage.open(letter.file.name).read()).hexdigest() == letter.sha256
    for statement in (  # and the database refuses to change or remove the row that names it
        lambda: AppealLetter.objects.filter(pk=letter.pk).update(sha256="0" * 64),
        lambda: AppealLetter.objects.filter(pk=letter.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()
    assert AppealLetter.objects.get(pk=letter.pk).sha256 == letter.sha256
    with pytest.raises(TransitionNotAllowed):  # forwarded once: no second letter
        appeals.forward(actor=cast.registrar, application_id=application.pk, appeal_id=appeal.pk)
    assert _objects(application.case_id) == [default_storage._normalize_name(letter.file.name)]


def test_fl45_a_changed_letter_object_is_refused_not_served(make_application, cast, client):
    application = make_application(to=Status.REJECTED)
    appeal = _register(cast, application)
    appeals.forward(actor=cast.officer, application_id=application.pk, appeal_id=appeal.pk)
    letter = AppealLetter.objects.get(appeal=appeal)
    client_, bucket = _s3()
    forged = b"%PDF-1.4\n% not what Bra sent\n"
    client_.put_object(Bucket=bucket, Key=default_storage._normalize_name(letter.file.name), Body=forged)

    client.force_login(cast.officer)
    response = client.get(reverse("workflows:appeal_letter", args=[application.pk, appeal.pk]))

    assert response.status_code == 500 and forged not in response.content
    assert "stämmer inte med den som registrerades" in response.content.decode()


def test_fl39_the_letter_says_the_appeal_covers_the_reconsidered_decision(make_application, cast):
    application = make_application(to=Status.REJECTED)
    appeal = _register(cast, application)
    perform(actor=cast.officer, application=application, node=None, action="propose_reconsideration", data={
        "outcome": "granted", "amount": Decimal("300000"), "conditions": "", "appeal": appeal.pk,
        "reasons": "Vid omprövningen visar protokollet att verksamheten är ny från i år och inte ryms i "
                   "socialförvaltningens ordinarie budget; hela det sökta beloppet beviljas."})
    new = perform(actor=cast.decision_maker, application=application, node="decide_reconsideration",
                  action="reconsider", data={})

    appeals.forward(actor=cast.officer, application_id=application.pk, appeal_id=appeal.pk)

    letter = AppealLetter.objects.get(appeal=appeal)
    text = _text(default_storage.open(letter.file.name).read())
    assert "39 § förvaltningslagen omfatta det nya beslutet" in text
    assert f"Beslutet efter omprövning {day(new.decided_at, language='sv')} med beslutsbrevet" in text
    event = JournalEvent.objects.get(case_id=application.case_id, action=Event.FORWARD_APPEAL)
    assert event.payload["covers"] == str(new.pk)


def test_fl45_a_late_appeal_is_still_refused_forwarding_and_nothing_is_stored(make_application, cast):
    application = make_application(to=Status.REJECTED)
    from tests.workflows.test_appeals import _decided_days_ago

    decided_on = _decided_days_ago(application, 40)
    appeal = _register(cast, application, notified_on=decided_on)
    assert not appeal.timely

    with pytest.raises(TransitionNotAllowed) as refused:
        appeals.forward(actor=cast.registrar, application_id=application.pk, appeal_id=appeal.pk)

    assert "lämnas inte över" in str(refused.value.message)
    assert Appeal.objects.get(pk=appeal.pk).state == Appeal.State.REGISTERED
    assert not AppealLetter.objects.filter(appeal=appeal).exists()
    assert _objects(application.case_id) == []
    assert not JournalEvent.objects.filter(case_id=application.case_id, action=Event.FORWARD_APPEAL).exists()


def test_fl45_a_letter_written_on_a_case_that_changed_is_not_recorded(make_application, cast):
    """Written before the locks: if the case changed meanwhile (here a diarium entry), the
    forwarding is refused under the locks, and the letter's object is removed."""
    application = make_application(to=Status.REJECTED)
    appeal = _register(cast, application)
    letter = appeal_services.appeal_letter_prepare(actor=cast.officer, application=application, appeal_id=appeal.pk)
    assert _objects(application.case_id) == [default_storage._normalize_name(letter.key)]
    diarium.register_item(actor=cast.registrar, application_id=application.pk, data={
        "direction": "in", "kind": DiariumEntry.Kind.EMAIL, "entry_date": timezone.localdate(),
        "counterpart": "Stockholms stad", "description": "Kompletterande synpunkter på överklagandet"})

    with pytest.raises(Conflict), transaction.atomic():
        locked = appeals._locked(cast.officer, application.pk)
        appeal_services.appeal_forward(actor=cast.officer, application=locked, appeal_id=appeal.pk, letter=letter)
    appeal_services.appeal_letter_discard(letter)

    assert _objects(application.case_id) == []
    assert Appeal.objects.get(pk=appeal.pk).state == Appeal.State.REGISTERED
    appeals.forward(actor=cast.officer, application_id=application.pk, appeal_id=appeal.pk)  # written anew
    assert "Kompletterande synpunkter" in _text(default_storage.open(AppealLetter.objects.get().file.name).read())
