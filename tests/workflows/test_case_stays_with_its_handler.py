"""Issue 7: a case stays with the person handling it. The task a case officer's step opens
is theirs; the answer to their supplement request comes back to them; a step four eyes
deny them (deciding their own proposal, paying what they attested) goes to the queue; a
step the applicant takes is in no one's hands at Brå."""

import pytest
from django.utils import timezone

from bidrag.models.application import Status
from tests.domain import perform, refusal, to_queue
from workflows.selectors import active_tasks

pytestmark = pytest.mark.django_db


def holder(application, node):
    task = next(t for t in active_tasks(application) if t.flow_task.name == node)
    return task.owner


def test_the_officers_next_step_and_the_applicants_answer_stay_with_the_officer(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    to_queue(application)
    perform(actor=cast.officer2, application=application, node="review", action="request_supplement",
            data={"deadline": timezone.localdate() + timezone.timedelta(days=14), "request_text": "Skicka lägesbilden"})
    assert holder(application, "await_supplement") is None  # the applicant's step: no one at Brå holds it
    perform(actor=cast.signatory, application=application, node="await_supplement", action="receive_supplement",
            data={"answer": "Här"})
    assert holder(application, "review") == cast.officer2  # back to the one who asked, not to the queue
    perform(actor=cast.officer2, application=application, node="review", action="start_assessment")
    assert holder(application, "assess") == cast.officer2


def test_a_step_four_eyes_deny_goes_to_the_queue(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    to_queue(application)
    perform(actor=cast.officer, application=application, node="assess", action="propose_decision",
            data=refusal())
    assert holder(application, "decide") is None
