"""seed_demo queues nothing to send (its addresses are nobody's), and a second supplement
request can be told from the first by its subject."""

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from arenden.calendar import working_deadline
from arenden.formatting import day
from bidrag.models.application import Status
from notifications.models import OutboxMessage
from notifications.services import OUTBOX_TASK_PATHS, _schedule, outbox_deliver_due
from tests.domain import perform


def test_seed_demo_leaves_no_message_waiting_to_be_sent(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("seed_demo", "--force")
    demo = OutboxMessage.objects.all()
    assert demo.count() > 50  # the demo's applications wrote their notices, as any would
    assert set(demo.values_list("status", flat=True)) == {OutboxMessage.Status.NOT_SENT}
    assert all(note.startswith("seed_demo") for note in demo.values_list("note", flat=True))
    assert [cb for cb in callbacks if getattr(cb, "func", None) is _schedule] == []
    assert not DBTaskResult.objects.filter(task_path__in=OUTBOX_TASK_PATHS).exists()
    assert outbox_deliver_due() == 0


def test_repeated_supplement_requests_have_distinguishable_subjects(make_application, cast, malmo):
    application = make_application(to=Status.AWAITING_SUPPLEMENT, organisation=malmo)
    perform(actor=cast.signatory, application=application, node="await_supplement", action="receive_supplement",
            data={"answer": "Här är lägesbilden."})
    # A deadline on a weekend or holiday moves to the next working day (arenden.calendar).
    later = working_deadline(timezone.localdate() + timedelta(days=30))
    perform(actor=cast.officer, application=application, node="review", action="request_supplement",
            data={"deadline": later, "request_text": "Bifoga också budgeten per år."})

    requests = OutboxMessage.objects.filter(reference=f"application:{application.pk}", kind="supplement_requested")
    subjects = list(dict.fromkeys(requests.order_by("created_at").values_list("subject", flat=True)))
    assert len(subjects) == 2, subjects
    diarienummer = application.case.diarienummer
    assert all(diarienummer in subject for subject in subjects)
    assert day(later, language="sv") in subjects[1]
    assert subjects[1] == f"Begäran om komplettering, svara senast {day(later, language='sv')} – {diarienummer}"
