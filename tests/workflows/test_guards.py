"""Every illegal transition is refused at the door with a clear error and leaves no event;
roles, four eyes and jäv hold there, not only in the pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from arenden.errors import ErrorCode, NotAllowed, ServiceError, TransitionNotAllowed
from arenden.journal import CaseEvent, journal_append
from arenden.models import JournalEvent
from bidrag.models import Application, Decision
from bidrag.models.application import Status
from tests.domain import perform, refusal, to_queue
from workflows import door

pytestmark = pytest.mark.django_db


def events(application) -> int:
    return JournalEvent.objects.filter(case_id=application.case_id).count()


SOON = timezone.localdate() + timedelta(days=9)

# (state, who, node, action, data): an action that does not apply in that state.
ILLEGAL = [
    (Status.DRAFT, "registrar", "register", "register", {}),
    (Status.DRAFT, "decision_maker", "decide", "decide", {}),
    (Status.SUBMITTED, "officer", "review", "start_assessment", {}),
    (Status.IN_REVIEW, "decision_maker", "decide", "decide", {}),
    (Status.IN_REVIEW, "signatory", "await_report", "submit_report", {"summary": "x", "actual_costs": Decimal(1)}),
    (Status.IN_ASSESSMENT, "officer", "prepare_payment", "prepare_disbursement", {}),
    (Status.GRANTED, "signatory", None, "withdraw", {}),
    (Status.GRANTED, "signatory", "start", "submit", {}),
    (Status.CLOSED, "officer", "review", "request_supplement", {"deadline": SOON, "request_text": "x"}),
    (Status.REJECTED, "officer", "review_report", "approve_report", {}),
    (Status.WITHDRAWN, "registrar", "register", "register", {}),
]


@pytest.mark.parametrize("state, who, node, action, data", ILLEGAL)
def test_illegal_transition_is_refused_without_event(make_application, cast, state, who, node, action, data):
    application = make_application(to=state)
    before = events(application)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        perform(actor=getattr(cast, who), application=application, node=node, action=action, data=data)
    assert excinfo.value.http_status == 409
    assert str(excinfo.value.message)  # a sentence the user can read
    assert events(application) == before
    assert Application.objects.get(pk=application.pk).status == state


def test_fsm_field_cannot_be_set_directly(draft):
    with pytest.raises(AttributeError):
        draft.status = Status.GRANTED


@pytest.mark.parametrize("who", ["applicant", "signatory", "officer", "auditor", "finance", "admin"])
def test_only_the_registrar_registers(make_application, cast, who):
    application = make_application(to=Status.SUBMITTED)
    with pytest.raises(NotAllowed):
        perform(actor=getattr(cast, who), application=application, node="register", action="register")
    assert Application.objects.get(pk=application.pk).status == Status.SUBMITTED


def test_only_a_signatory_submits(draft, cast):
    with pytest.raises(NotAllowed) as excinfo:
        perform(actor=cast.applicant, application=draft, node="start", action="submit")
    assert "firmatecknare" in str(excinfo.value.message)
    assert Application.objects.get(pk=draft.pk).status == Status.DRAFT


def test_mf21_decision_maker_cannot_decide_own_proposal(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    cast.officer2.groups.add(Group.objects.get(name="beslutsfattare"))
    both = type(cast.officer2).objects.get(pk=cast.officer2.pk)  # fresh: roles are cached per user object
    to_queue(application)  # the assessment was Hanna's: released, another officer takes it
    perform(actor=both, application=application, node="assess", action="propose_decision",
            data=refusal())
    before = events(application)
    with pytest.raises(NotAllowed) as excinfo:
        perform(actor=both, application=application, node="decide", action="decide")
    assert excinfo.value.code == ErrorCode.FOUR_EYES
    assert events(application) == before
    assert Application.objects.get(pk=application.pk).status == Status.DECISION_PROPOSED
    perform(actor=cast.decision_maker, application=application, node="decide", action="decide")
    assert Application.objects.get(pk=application.pk).status == Status.REJECTED


def test_fl16_declared_conflict_of_interest_bars_the_decision_maker(make_application, cast):
    application = make_application(to=Status.DECISION_PROPOSED)
    door.declare_conflict(actor=cast.decision_maker, application_id=application.pk, reason="Närstående i projektgruppen")
    with pytest.raises(NotAllowed) as excinfo:
        perform(actor=cast.decision_maker, application=application, node="decide", action="decide")
    assert excinfo.value.code == ErrorCode.CONFLICT_OF_INTEREST
    assert not Decision.objects.filter(application=application).exists()


def test_fl32_partial_grant_needs_conditions_and_cannot_exceed_request(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT, amount=Decimal("300000"))

    def propose(**data):
        perform(actor=cast.officer, application=application, node="assess", action="propose_decision", data=data)

    with pytest.raises(ServiceError, match="villkor"):
        propose(outcome="granted", amount=Decimal("100000"), reasons="Delvis")
    with pytest.raises(ServiceError, match="överstiga"):
        propose(outcome="granted", amount=Decimal("300001"), reasons="För mycket")
    with pytest.raises(ServiceError, match="FL 32"):
        propose(outcome="rejected", reasons=" ")
    assert Application.objects.get(pk=application.pk).status == Status.IN_ASSESSMENT


def test_journal_append_continues_the_chain(draft, cast):
    event = journal_append(actor=cast.officer, case=draft.case, action=CaseEvent.CLOSE)
    assert event.seq == 2 and event.prev_hash == draft.case.journal.get(seq=1).hash


def test_journal_action_must_be_an_event_name(draft, cast):
    with pytest.raises(TypeError):
        journal_append(actor=cast.officer, case=draft.case, action="note")


def test_task_of_another_queue_cannot_be_claimed(make_application, cast):
    application = make_application(to=Status.SUBMITTED)
    with pytest.raises(NotAllowed):
        door.claim(actor=cast.officer, application_id=application.pk, node="register")
    door.claim(actor=cast.registrar, application_id=application.pk, node="register")
    with pytest.raises(NotAllowed):
        perform(actor=cast.auditor, application=application, node="register", action="register")
