"""Every illegal transition is refused with a clear error and leaves no event; roles and
four eyes are enforced in the services, not only in the pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from arenden.errors import ErrorCode, NotAllowed, ServiceError, TransitionNotAllowed
from arenden.journal import journal_append
from arenden.models import JournalEvent
from arenden.services import conflict_declare
from bidrag import services
from bidrag.models import Application, Decision, Proposal
from bidrag.models.application import Status
from workflows import actions

pytestmark = pytest.mark.django_db


def events(application) -> int:
    return JournalEvent.objects.filter(case_id=application.case_id).count()


# (state, service call that is illegal in that state)
ILLEGAL = [
    (Status.DRAFT, lambda c, app: services.application_register(actor=c.registrar, application=app)),
    (Status.DRAFT, lambda c, app: services.application_decide(actor=c.decision_maker, application=app)),
    (Status.SUBMITTED, lambda c, app: services.application_start_assessment(actor=c.officer, application=app)),
    (Status.IN_REVIEW, lambda c, app: services.application_decide(actor=c.decision_maker, application=app)),
    (Status.IN_REVIEW, lambda c, app: services.report_submit(actor=c.signatory, application=app, summary="x", actual_costs=Decimal(1))),
    (Status.IN_ASSESSMENT, lambda c, app: services.disbursement_prepare(actor=c.officer, application=app)),
    (Status.GRANTED, lambda c, app: services.application_withdraw(actor=c.signatory, application=app)),
    (Status.GRANTED, lambda c, app: services.application_submit(actor=c.signatory, application=app)),
    (Status.CLOSED, lambda c, app: services.application_request_supplement(
        actor=c.officer, application=app, deadline=timezone.localdate() + timedelta(days=9), request_text="x")),
    (Status.REJECTED, lambda c, app: services.report_approve(actor=c.officer, application=app)),
    (Status.WITHDRAWN, lambda c, app: services.application_register(actor=c.registrar, application=app)),
]


@pytest.mark.parametrize("state, call_service", ILLEGAL)
def test_illegal_transition_is_refused_without_event(make_application, cast, state, call_service):
    application = make_application(to=state)
    before = events(application)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        call_service(cast, application)
    assert excinfo.value.http_status == 409
    assert str(excinfo.value.message)  # a sentence the user can read
    assert events(application) == before
    assert Application.objects.get(pk=application.pk).status == state


def test_fsm_field_cannot_be_set_directly(draft):
    with pytest.raises(AttributeError):
        draft.status = Status.GRANTED


@pytest.mark.parametrize(
    "who, call_service",
    [
        ("applicant", lambda c, app: services.application_register(actor=c.applicant, application=app)),
        ("officer", lambda c, app: services.application_register(actor=c.officer, application=app)),
        ("auditor", lambda c, app: services.application_register(actor=c.auditor, application=app)),
        ("finance", lambda c, app: services.application_register(actor=c.finance, application=app)),
    ],
)
def test_only_the_registrar_registers(make_application, cast, who, call_service):
    application = make_application(to=Status.SUBMITTED)
    with pytest.raises(NotAllowed):
        call_service(cast, application)
    assert Application.objects.get(pk=application.pk).status == Status.SUBMITTED


def test_roles_per_step(make_application, cast, malmo):
    application = make_application(to=Status.DECISION_PROPOSED)
    for actor in [cast.officer, cast.registrar, cast.finance, cast.auditor, cast.signatory]:
        with pytest.raises(NotAllowed):
            services.application_decide(actor=actor, application=application)
    assert not Decision.objects.filter(application=application).exists()
    granted = make_application(to=Status.GRANTED, title="Beviljat", organisation=malmo)
    with pytest.raises(NotAllowed):
        services.disbursement_prepare(actor=cast.finance, application=granted)


def test_only_a_signatory_submits(draft, cast):
    with pytest.raises(NotAllowed) as excinfo:
        services.application_submit(actor=cast.applicant, application=draft)
    assert "firmatecknare" in str(excinfo.value.message)
    assert Application.objects.get(pk=draft.pk).status == Status.DRAFT


def test_decision_maker_cannot_decide_own_proposal(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    cast.officer2.groups.add(Group.objects.get(name="beslutsfattare"))
    both = type(cast.officer2).objects.get(pk=cast.officer2.pk)  # fresh: roles are cached per user object
    actions.task_perform(
        actor=both, application=application, node="assess", action="propose_decision",
        data={"outcome": Proposal.Outcome.REJECTED, "reasons": "Skäl"},
    )
    before = events(application)
    with pytest.raises(NotAllowed) as excinfo:
        actions.task_perform(actor=both, application=application, node="decide", action="decide", data={})
    assert excinfo.value.code == ErrorCode.FOUR_EYES
    assert events(application) == before
    assert Application.objects.get(pk=application.pk).status == Status.DECISION_PROPOSED
    actions.task_perform(actor=cast.decision_maker, application=application, node="decide", action="decide", data={})
    assert Application.objects.get(pk=application.pk).status == Status.REJECTED


def test_attester_cannot_be_preparer(make_application, cast):
    application = make_application(to=Status.GRANTED)
    cast.officer.groups.add(Group.objects.get(name="ekonomi"))
    preparer = type(cast.officer).objects.get(pk=cast.officer.pk)
    disbursement = services.disbursement_prepare(actor=preparer, application=application)
    with pytest.raises(NotAllowed) as excinfo:
        services.disbursement_attest(actor=preparer, application=application, disbursement=disbursement)
    assert excinfo.value.code == ErrorCode.FOUR_EYES
    disbursement.refresh_from_db()
    assert disbursement.status == "planned"
    services.disbursement_attest(actor=cast.finance, application=application, disbursement=disbursement)


def test_declared_conflict_of_interest_bars_the_decision_maker(make_application, cast):
    application = make_application(to=Status.DECISION_PROPOSED)
    conflict_declare(actor=cast.decision_maker, case=application.case, reason="Närstående i projektgruppen")
    with pytest.raises(NotAllowed) as excinfo:
        services.application_decide(actor=cast.decision_maker, application=application)
    assert excinfo.value.code == ErrorCode.CONFLICT_OF_INTEREST


def test_partial_grant_needs_conditions_and_cannot_exceed_request(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT, amount=Decimal("300000"))
    with pytest.raises(ServiceError, match="villkor"):
        services.proposal_create(actor=cast.officer, application=application, kind="decision", outcome="granted",
                                 amount=Decimal("100000"), reasons="Delvis")
    with pytest.raises(ServiceError, match="överstiga"):
        services.proposal_create(actor=cast.officer, application=application, kind="decision", outcome="granted",
                                 amount=Decimal("300001"), reasons="För mycket")
    with pytest.raises(ServiceError, match="FL 32"):
        services.proposal_create(actor=cast.officer, application=application, kind="decision", outcome="rejected", reasons=" ")
    assert Application.objects.get(pk=application.pk).status == Status.IN_ASSESSMENT


def test_journal_append_continues_the_chain(draft, cast):
    event = journal_append(actor=cast.officer, case=draft.case, action="note")
    assert event.seq == 2 and event.prev_hash == draft.case.journal.get(seq=1).hash


def test_task_of_another_queue_cannot_be_claimed(make_application, cast):
    application = make_application(to=Status.SUBMITTED)
    with pytest.raises(NotAllowed):
        actions.task_claim(actor=cast.officer, application=application, node="register")
    actions.task_claim(actor=cast.registrar, application=application, node="register")
    with pytest.raises(NotAllowed):
        actions.task_perform(actor=cast.auditor, application=application, node="register", action="register", data={})
