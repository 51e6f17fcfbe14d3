from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bidrag.models import Application
from bidrag.models.application import Status
from tests.domain import perform
from workflows.queue_entries import queue_sync
from workflows.selectors import active_tasks

pytestmark = pytest.mark.django_db


def test_passed_deadline_returns_the_case_to_the_officer(make_application, malmo, capsys):
    waiting = make_application(to=Status.AWAITING_SUPPLEMENT)
    not_yet = make_application(to=Status.AWAITING_COMMENTS, organisation=malmo)
    Application.objects.filter(pk=waiting.pk).update(deadline=timezone.localdate() - timedelta(days=1))

    call_command("run_deadlines")

    waiting.refresh_from_db()
    not_yet.refresh_from_db()
    assert waiting.status == Status.IN_REVIEW
    assert [t.flow_task.name for t in active_tasks(waiting)] == ["review"]
    event = waiting.case.journal.order_by("-seq").first()
    assert event.action == "deadline_passed" and event.actor is None and event.payload["deadline_passed"] is True
    assert waiting.case.diarium_entries.filter(description__startswith="Svarsfristen gick ut").exists()
    assert not_yet.status == Status.AWAITING_COMMENTS
    assert "1 case(s)" in capsys.readouterr().out


def test_the_clock_cannot_answer_before_the_deadline(make_application):
    from arenden.errors import ValidationFailed

    application = make_application(to=Status.AWAITING_SUPPLEMENT)
    with pytest.raises(ValidationFailed):
        perform(actor=None, application=application, node="await_supplement", action="deadline_passed")
    assert Application.objects.get(pk=application.pk).status == Status.AWAITING_SUPPLEMENT


def test_only_the_clock_takes_the_clock_action_and_the_clock_nothing_else(make_application, cast):
    from arenden.errors import NotAllowed

    application = make_application(to=Status.AWAITING_SUPPLEMENT)
    Application.objects.filter(pk=application.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    queue_sync(application.pk)  # time travel: the queue's row follows the deadline
    with pytest.raises(NotAllowed):
        perform(actor=cast.officer, application=application, node="await_supplement", action="deadline_passed")
    with pytest.raises(NotAllowed):
        perform(actor=None, application=application, node="await_supplement", action="receive_supplement",
                data={"answer": "x"})
    assert Application.objects.get(pk=application.pk).status == Status.AWAITING_SUPPLEMENT
