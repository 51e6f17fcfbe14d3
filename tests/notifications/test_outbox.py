"""The outbox: notices are written in the transaction of the change they report, delivered
after commit by the task worker over real SMTP, and survive a mail outage."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from arenden.models import DiarieSerial, JournalEvent
from bidrag.models import Membership, Organisation
from bidrag.models.application import Status
from bidrag.services.common import applicant_recipients
from notifications.models import OutboxMessage
from notifications.services import _schedule, outbox_deliver, outbox_deliver_due, outbox_enqueue
from tests.domain import perform, submit
from tests.harness.ports import free_port


def _reference(application) -> str:
    return f"application:{application.pk}"


def _expected_recipients(application) -> set[str]:
    members = Membership.objects.filter(organisation=application.organisation).values_list("user__email", flat=True)
    return {application.organisation.email, *members} - {""}


def _point_mail_at(settings, host: str, port: int) -> None:
    """Aim Django's default mailer (Django 6.1 MAILERS, or the EMAIL_* settings) at host:port."""
    if hasattr(settings, "MAILERS"):
        default = settings.MAILERS["default"]
        settings.MAILERS = {
            **settings.MAILERS,
            "default": {**default, "OPTIONS": {**default.get("OPTIONS", {}), "host": host, "port": port}},
        }
    else:
        settings.EMAIL_HOST, settings.EMAIL_PORT = host, port


def _kinds(application) -> list[str]:
    """The applicant's notices in the order written, one entry per notice (not per recipient)."""
    kinds = []
    for kind in OutboxMessage.objects.filter(reference=_reference(application)).order_by("created_at").values_list("kind", flat=True):
        if not kinds or kinds[-1] != kind:
            kinds.append(kind)
    return kinds


# -- written in the same transaction -------------------------------------------------------


def test_submission_writes_one_receipt_per_recipient(draft, cast, django_capture_on_commit_callbacks):
    recipients = _expected_recipients(draft)
    assert recipients == {draft.organisation.email, cast.signatory.email, cast.applicant.email}
    assert len(recipients) == 3

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        application = submit(actor=cast.signatory, application=draft, idempotency_key="k1")

    messages = list(OutboxMessage.objects.filter(reference=_reference(application)))
    assert len(messages) == len(recipients)
    assert sorted(m.recipient for m in messages) == sorted(recipients)  # exactly one each
    assert {m.kind for m in messages} == {"submitted_receipt"}
    assert {m.status for m in messages} == {OutboxMessage.Status.PENDING}
    assert {m.attempts for m in messages} == {0}
    diarienummer = application.case.diarienummer
    assert diarienummer
    for message in messages:
        assert diarienummer in message.subject and diarienummer in message.body
    # Delivery is scheduled only for after the commit, one task per message.
    scheduled = [cb for cb in callbacks if getattr(cb, "func", None) is _schedule]
    assert sorted(cb.args[0] for cb in scheduled) == sorted(m.pk for m in messages)

    # The same submission arriving again (double click) writes no second receipt.
    submit(actor=cast.signatory, application=draft, idempotency_key="k1")
    assert OutboxMessage.objects.filter(reference=_reference(application)).count() == len(recipients)


def test_rolled_back_submission_leaves_no_outbox_row_and_no_state_change(draft, cast, django_capture_on_commit_callbacks):
    year = timezone.localtime().year
    serial_before = DiarieSerial.objects.filter(year=year).values_list("last_serial", flat=True).first()

    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(Boom), transaction.atomic():
            submitted = submit(actor=cast.signatory, application=draft, idempotency_key="k1")
            assert submitted.status == Status.SUBMITTED
            assert OutboxMessage.objects.filter(reference=_reference(draft)).count() == 3  # written, inside
            raise Boom

    assert not OutboxMessage.objects.filter(reference=_reference(draft)).exists()
    assert callbacks == []  # no delivery was scheduled for the rolled-back notices
    draft.refresh_from_db()
    draft.case.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert draft.submitted_at is None
    assert draft.case.diarienummer is None
    assert not JournalEvent.objects.filter(case=draft.case, action="submit").exists()
    assert DiarieSerial.objects.filter(year=year).values_list("last_serial", flat=True).first() == serial_before


# -- delivered by the worker over SMTP -----------------------------------------------------


def test_receipt_is_mailed_by_the_worker(draft, cast, smtp_backend, task_worker):
    application = submit(actor=cast.signatory, application=draft, idempotency_key="k1")
    diarienummer = application.case.diarienummer
    recipients = _expected_recipients(application)
    # Committed, not yet sent: delivery is the worker's job, after the commit.
    assert set(OutboxMessage.objects.filter(reference=_reference(application)).values_list("status", flat=True)) == {
        OutboxMessage.Status.PENDING
    }
    assert smtp_backend.messages == []

    task_worker.run_batch()
    mails = smtp_backend.wait_for(len(recipients))
    assert len(mails) == len(recipients)
    assert sorted(r for mail in mails for r in mail.rcpt_tos) == sorted(recipients)
    for mail in mails:
        assert mail.subject == f"Mottagningsbekräftelse – {diarienummer}"
        assert f"Diarienummer: {diarienummer}." in mail.body
        assert "Trygg i Stockholm" in mail.body
        assert mail.message["X-Bidrag-Reference"] == _reference(application)
        assert "no-reply@bra.se" in mail.mail_from

    messages = OutboxMessage.objects.filter(reference=_reference(application))
    assert messages.count() == len(recipients)
    for message in messages:
        assert message.status == OutboxMessage.Status.SENT
        assert message.sent_at is not None and message.sent_at <= timezone.now()
        assert message.attempts == 1
        assert message.last_error == ""
        assert message.next_attempt_at is None

    # Nothing is sent twice: a second worker run and a sweep find nothing to do.
    task_worker.run_batch()
    assert outbox_deliver_due() == 0
    assert len(smtp_backend.messages) == len(recipients)


def test_mail_outage_keeps_the_receipt_pending_until_smtp_is_back(draft, cast, settings, smtp_backend, task_worker):
    _point_mail_at(settings, smtp_backend.host, free_port())  # nothing listens there

    application = submit(actor=cast.signatory, application=draft, idempotency_key="k1")
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED  # the outage does not stop the submission
    assert application.case.diarienummer

    task_worker.run_batch()
    messages = list(OutboxMessage.objects.filter(reference=_reference(application)))
    assert len(messages) == 3
    now = timezone.now()
    for message in messages:
        assert message.status == OutboxMessage.Status.PENDING
        assert message.attempts == 1
        assert message.last_error  # e.g. "ConnectionRefusedError: [Errno 111] Connection refused"
        assert message.sent_at is None
        assert message.next_attempt_at is not None
        assert message.next_attempt_at > now
        assert message.next_attempt_at <= now + timedelta(seconds=settings.OUTBOX_RETRY_SECONDS)
    assert smtp_backend.messages == []

    # SMTP is back; the retry is not due yet, so the sweep leaves the messages alone.
    _point_mail_at(settings, smtp_backend.host, smtp_backend.port)
    assert outbox_deliver_due() == 0
    assert smtp_backend.messages == []

    OutboxMessage.objects.filter(reference=_reference(application)).update(next_attempt_at=now - timedelta(seconds=1))
    assert outbox_deliver_due() == 3
    mails = smtp_backend.wait_for(3)
    assert all(application.case.diarienummer in mail.subject for mail in mails)
    for message in OutboxMessage.objects.filter(reference=_reference(application)):
        assert message.status == OutboxMessage.Status.SENT
        assert message.attempts == 2
        assert message.sent_at is not None
        assert message.last_error == ""


def test_message_is_a_dead_letter_after_the_maximum_attempts_with_growing_backoff(db, settings, smtp_backend):
    _point_mail_at(settings, smtp_backend.host, free_port())
    [message] = outbox_enqueue(
        kind="test", reference="test:outage", recipients=["kansli@example.se"], subject="Prov", body="Prov"
    )
    maximum = settings.OUTBOX_MAX_ATTEMPTS
    assert maximum >= 2
    delays = []
    for attempt in range(1, maximum + 1):
        # Not yet due is not delivered, even by its own id; make each retry due now.
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
        before = timezone.now()
        result = outbox_deliver(message_id=message.pk)
        assert result is not None and result.attempts == attempt
        assert result.last_error
        if attempt < maximum:
            assert result.status == OutboxMessage.Status.PENDING
            delays.append(result.next_attempt_at - before)
    assert result.status == OutboxMessage.Status.DEAD
    assert result.next_attempt_at is None
    base = timedelta(seconds=settings.OUTBOX_RETRY_SECONDS)
    for n, delay in enumerate(delays):
        expected = base * 2**n
        assert expected <= delay < expected + timedelta(seconds=5), (n, delay)

    # A dead letter: neither a direct attempt nor the sweep sends it, even with SMTP back, until a
    # person sends it again (tests/notifications/test_dead_letters.py).
    _point_mail_at(settings, smtp_backend.host, smtp_backend.port)
    assert outbox_deliver(message_id=message.pk) is None
    assert outbox_deliver_due() == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.DEAD, maximum)
    assert smtp_backend.messages == []


# -- every applicant-facing transition ----------------------------------------------------


def test_every_applicant_facing_transition_writes_its_notice(make_application, cast, stockholm, malmo):
    closed = make_application(to=Status.CLOSED, organisation=stockholm)
    assert _kinds(closed) == ["submitted_receipt", "decision", "payment", "report_approved"]
    recipients = _expected_recipients(closed)
    for kind in _kinds(closed):
        rows = OutboxMessage.objects.filter(reference=_reference(closed), kind=kind)
        assert sorted(rows.values_list("recipient", flat=True)) == sorted(recipients), kind
        assert all(closed.case.diarienummer in row.subject for row in rows)
    decision = OutboxMessage.objects.filter(reference=_reference(closed), kind="decision").first()
    assert "Beviljad" in decision.subject
    assert "250\u00a0000\u00a0kr" in decision.body and "Skäl:" in decision.body and "överklaga" in decision.body

    supplement = make_application(to=Status.AWAITING_SUPPLEMENT, organisation=malmo)
    assert _kinds(supplement) == ["submitted_receipt", "supplement_requested"]
    request = OutboxMessage.objects.filter(reference=_reference(supplement), kind="supplement_requested").first()
    assert "Bifoga en uppdaterad lägesbild." in request.body and "Svara senast" in request.body

    others = iter(Organisation.objects.filter(orgnr__startswith="2").exclude(pk__in=[stockholm.pk, malmo.pk]).order_by("orgnr"))
    communicated = make_application(to=Status.AWAITING_COMMENTS, organisation=next(others))
    assert _kinds(communicated) == ["submitted_receipt", "communication"]

    rejected = make_application(to=Status.REJECTED, organisation=next(others))
    assert _kinds(rejected) == ["submitted_receipt", "decision"]
    assert "Avslag" in OutboxMessage.objects.filter(reference=_reference(rejected), kind="decision").first().subject

    returned = make_application(to=Status.REPORT_REVIEW, organisation=next(others))
    perform(actor=cast.officer, application=returned, node="review_report", action="return_report",
                 data={"comment": "Redovisa kostnaderna per kostnadsslag."})
    assert _kinds(returned) == ["submitted_receipt", "decision", "payment", "report_returned"]

    # Each notice went to everyone who represents the applicant, and to no one else.
    for application in (supplement, communicated, rejected, returned):
        assert set(OutboxMessage.objects.filter(reference=_reference(application)).values_list("recipient", flat=True)) == (
            set(applicant_recipients(application))
        )
    assert Decimal("250000") == closed.decisions.get().amount
