"""The rules of law, as a matrix generated from the flow declaration (DESIGN.md §3).

For every action of every node (and the process-wide ones): every person of the cast, the
clock and a stranger try it; those the declaration does not name are refused. Those it
names are refused too when the task is someone else's, when they have declared jäv
(FL 16–18 §§) and when four eyes bars them (Myndighetsförordningen 21 §) — and succeed
otherwise. Every refusal leaves the database exactly as it was.

A node without a recipe below fails the test: a new step must say how to reach it.
"""

from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from arenden.errors import ErrorCode, NotAllowed
from arenden.journal import journal_append
from arenden.models import Attachment, Case, ConflictOfInterest, DiariumEntry, JournalEvent
from bidrag.models import Application, Decision, Disbursement, Membership, Proposal, Repayment, Report
from bidrag.models.application import FINAL, Status
from bidrag.models.assessment import Score, criteria_of
from bidrag.roles import Role
from notifications.models import OutboxMessage
from tests.domain import REFUSAL_REASONS, perform, refusal, to_queue
from workflows import demo, door
from workflows.door import nodes
from workflows.flows import ApplicationFlow
from workflows.queue_entries import queue_sync
from workflows.selectors import active_tasks
from workflows.steps import Party, Step

pytestmark = pytest.mark.django_db

SOON = timezone.localdate() + timedelta(days=14)
# FL 37 §: the decision changed into a grant of what was asked (from a rejection, or up
# from the demo's partial grant), as the reconsideration form cleans it.
RECONSIDERED = {"outcome": "granted", "amount": Decimal("300000"), "conditions": "",
                "reasons": "Vid omprövningen visar protokollet att verksamheten är ny från i år och inte ryms i "
                           "socialförvaltningens ordinarie budget; hela det sökta beloppet beviljas.",
                "why": "Kommunen har visat att verksamheten är ny.", "detriment_ground": ""}

# How to reach each node: (state to drive to, then steps (who, node, action, data)).
RECIPES = {
    "start": (Status.DRAFT, []),
    "register": (Status.SUBMITTED, []),
    "review": (Status.IN_REVIEW, []),
    "await_supplement": (Status.AWAITING_SUPPLEMENT, ["deadline_passed"]),
    "dismiss": (Status.IN_REVIEW, [("officer", "review", "propose_dismissal", {"reasons": REFUSAL_REASONS})]),
    "assess": (Status.IN_ASSESSMENT, []),
    "await_comments": (Status.AWAITING_COMMENTS, ["deadline_passed"]),
    "decide": (Status.DECISION_PROPOSED, []),
    "prepare_payment": (Status.GRANTED, []),
    "attest_payment": (Status.GRANTED, [("officer", "prepare_payment", "prepare_disbursement", {})]),
    "pay": (Status.GRANTED, [("officer", "prepare_payment", "prepare_disbursement", {}),
                             ("finance", "attest_payment", "attest_disbursement", {})]),
    "await_report": (Status.IN_PROGRESS, []),
    "review_change": (Status.IN_PROGRESS, [("signatory", "await_report", "request_change", demo.change_request)]),
    "review_report": (Status.REPORT_REVIEW, []),
    "claim_repayment": (Status.REPORT_REVIEW, [
        ("officer", "review_report", "propose_repayment", {"amount": Decimal("1000"), "reasons": REFUSAL_REASONS})]),
    "settle_repayment": (Status.REPAYMENT_CLAIMED, []),
    "decide_waiver": (Status.REPAYMENT_CLAIMED, [
        ("finance", "settle_repayment", "propose_waiver", {"reasons": "Särskilda skäl"})]),
    "decide_reconsideration": (Status.REJECTED, [("officer", None, "propose_reconsideration", RECONSIDERED)]),
    None: (Status.IN_REVIEW, []),  # the process-wide actions (withdraw)
}
# A process-wide action that needs more than RECIPES[None]: the state it is taken in.
PROCESS_RECIPES = {
    "propose_reconsideration": (Status.GRANTED, []),  # a decision to reconsider, a case still open
}

# Valid input for each action, as its form would clean it.
DATA = {
    "submit": {"idempotency_key": "matrix"},
    "register": {"note": ""},
    "start_assessment": {},
    "score": lambda application: {"scores": {c["code"]: (4, "Väl underbyggt") for c in criteria_of(application.call)}},
    "request_supplement": {"deadline": SOON, "request_text": "Bifoga lägesbilden"},
    "propose_dismissal": {"reasons": REFUSAL_REASONS},
    "receive_supplement": {"answer": "Här är den"},
    "receive_comments": {"answer": "Inget att tillägga"},
    "deadline_passed": {},
    "dismiss": {},
    "return_proposal": {"comment": "Motivera bättre"},
    "propose_decision": refusal(),
    "communicate": {"deadline": SOON, "request_text": "Yttra er"},
    "decide": {},
    "prepare_disbursement": {},
    "attest_disbursement": {},
    "stop_disbursement": {"note": "Felaktigt konto"},
    "pay_disbursement": {"payment_reference": "PAIN-1"},
    "submit_report": demo.final_report,  # per budget line, with a fresh ledger file each time
    "request_change": demo.change_request,
    "submit_interim_report": demo.final_report,  # the same content, so far
    "approve_change": {"comment": ""},
    "reject_change": {"comment": "Inköpet ryms inte i projektets syfte"},
    "propose_repayment": {"amount": Decimal("1000"), "reasons": REFUSAL_REASONS},
    "approve_report": {"note": ""},
    "return_report": {"comment": "Bifoga huvudbok"},
    "claim_repayment": {},
    "register_repayment": {"note": ""},
    "propose_waiver": {"reasons": "Särskilda skäl"},
    "waive_repayment": {},
    "withdraw": {"reason": "Annan finansiering"},
    "propose_reconsideration": RECONSIDERED,
    "reconsider": {},
}


# The states the application can be in while the flow waits at a node: where the gateways
# must route each state. Read from the recipes; a repayment may also be proposed while the
# project runs.
NODE_STATES = {node: {state} for node, (state, _steps) in RECIPES.items() if node}
NODE_STATES["claim_repayment"].add(Status.IN_PROGRESS)
NODE_STATES["review_change"] = {Status.CHANGE_REVIEW}  # the recipe's request moves it there
# A reconsideration's decision step opens after any decision it may change.
NODE_STATES["decide_reconsideration"] = {Status.GRANTED, Status.REJECTED, Status.DISMISSED}
# The one step a final state may have open: a decision reconsidered (FL 37 §), whose own
# route ends the process again or, granted, goes on to payment.
OPEN_WHEN_FINAL = {"decide_reconsideration"}


def matrix():
    cases = [(name, action.name) for name, node in nodes().items() for action in node.actions]
    cases += [(None, action.name) for action in ApplicationFlow.process_actions]
    return cases


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    """Run a block and undo all it wrote (a savepoint inside the test's transaction)."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def snapshot(application) -> tuple:
    app = Application.objects.get(pk=application.pk)
    case = Case.objects.get(pk=app.case_id)
    return (
        app.status, app.deadline, case.closed_at, case.journal_seq,
        JournalEvent.objects.filter(case=case).count(),
        DiariumEntry.objects.filter(case=case).count(),
        Attachment.objects.filter(case=case).count(),
        ConflictOfInterest.objects.filter(case=case).count(),
        sorted((str(p.pk), p.is_open) for p in Proposal.objects.filter(application=app)),
        Decision.objects.filter(application=app).count(),
        sorted(Score.objects.filter(assessment__application=app).values_list("assessment_id", "criterion", "value")),
        sorted((str(d.pk), d.status) for d in Disbursement.objects.filter(application=app)),
        sorted((str(r.pk), r.status) for r in Report.objects.filter(application=app)),
        sorted((str(r.pk), r.status) for r in Repayment.objects.filter(application=app)),
        [(t.pk, t.status, t.owner_id) for t in active_tasks(app)],
        OutboxMessage.objects.count(),
    )


@pytest.fixture
def people(cast, stockholm, malmo):
    """Everyone who might try: the cast, a stranger, an officer who is also auditor, the clock."""
    User = type(cast.officer)
    stranger = User.objects.create_user("stranger", first_name="Sven", last_name="Främling")
    Membership.objects.create(organisation=malmo, user=stranger, role=Membership.Role.SIGNATORY)
    dual = User.objects.create_user("dubbelroll", first_name="Dora", last_name="Dubbel")
    dual.groups.add(*Group.objects.filter(name__in=[Role.CASE_OFFICER, Role.FINANCE, Role.AUDITOR]))
    people = {name: getattr(cast, name) for name in [
        "registrar", "officer", "officer2", "decision_maker", "finance", "finance2", "auditor", "admin",
        "applicant", "signatory"]}
    people.update({"stranger": stranger, "officer_and_auditor": dual, "clock": None})
    return people


def declared_for(action, name: str, actor) -> bool:
    """Whom the declaration names (not the policy code under test)."""
    if action.is_clock_action:
        return actor is None
    if actor is None or name in {"auditor", "admin", "officer_and_auditor", "stranger"}:
        return False
    if action.is_applicant_action:
        return name == "signatory" or (Party.MEMBER in action.by and name == "applicant")
    roles = {g.name for g in actor.groups.all()}
    return bool(roles & {r.value for r in action.staff_roles})


def _records(spec, application) -> int:
    from django.apps import apps

    return apps.get_model("bidrag", spec.creates).objects.filter(application=application).count() if spec.creates else 0


def reach(node, make_application, cast, action=None):
    state, steps = PROCESS_RECIPES.get(action, RECIPES[node]) if node is None else RECIPES[node]
    application = make_application(to=state)
    for step in steps:
        if step == "deadline_passed":
            Application.objects.filter(pk=application.pk).update(deadline=timezone.localdate() - timedelta(days=1))
            queue_sync(application.pk)  # time travel: the queue's row follows the deadline
            continue
        who, at, action, data = step
        data = data(application) if callable(data) else data
        perform(actor=getattr(cast, who), application=application, node=at, action=action, data=data)
    to_queue(application)  # the matrix is about an unassigned task; who holds it is tested apart
    return application


def attempt(actor, application, node, action):
    data = DATA[action]
    data = data(application) if callable(data) else dict(data)
    return perform(actor=actor, application=application, node=node, action=action, data=data)


def assert_refused(actor, application, node, action, code=None):
    before = snapshot(application)
    with pytest.raises(NotAllowed) as excinfo:
        attempt(actor, application, node, action)
    assert excinfo.value.http_status == 403
    assert str(excinfo.value.message)
    if code is not None:
        assert excinfo.value.code == code, (action, excinfo.value.code)
    assert snapshot(application) == before, f"{action}: a refusal changed the database"


@pytest.mark.parametrize("node, action", matrix(), ids=[f"{n}-{a}" for n, a in matrix()])
def test_policy_matrix(node, action, make_application, cast, people):
    assert node in RECIPES, f"no recipe to reach node {node!r}: add one"
    assert action in DATA, f"no sample input for action {action!r}: add one"
    application = reach(node, make_application, cast, action)
    flow_node, spec = door.find(node, action)
    task = next((t for t in active_tasks(application) if t.flow_task.name == node), None)
    allowed = [name for name, actor in people.items() if declared_for(spec, name, actor)]
    assert allowed, f"nobody may take {action}"

    for name, actor in people.items():
        if name not in allowed:
            assert_refused(actor, application, node, action)
            if isinstance(flow_node, Step) and actor is not None:
                before = snapshot(application)
                with pytest.raises(NotAllowed):
                    door.claim(actor=actor, application_id=application.pk, node=node)
                assert snapshot(application) == before

    for name in allowed:
        actor = people[name]
        if actor is None:
            continue
        others = [people[o] for o in allowed if o != name and people[o] is not None]
        if isinstance(flow_node, Step) and others:
            with rolled_back():  # someone else's task
                door.claim(actor=others[0], application_id=application.pk, node=node)
                assert_refused(actor, application, node, action)
        if not spec.is_applicant_action:
            with rolled_back():  # FL 16 §: declared jäv bars from everything on the case
                door.declare_conflict(actor=actor, application_id=application.pk, reason="Närstående")
                assert_refused(actor, application, node, action, ErrorCode.CONFLICT_OF_INTEREST)
                if isinstance(flow_node, Step):
                    with pytest.raises(NotAllowed):
                        door.claim(actor=actor, application_id=application.pk, node=node)
        for event in sorted(spec.four_eyes):
            with rolled_back():  # four eyes: took part in a way that bars this action
                journal_append(actor=actor, case=application.case, action=event)
                assert_refused(actor, application, node, action, ErrorCode.FOUR_EYES)

    for name in allowed:  # and with none of that, each one named may take it...
        actor = people[name]
        took_part = actor is not None and JournalEvent.objects.filter(
            case_id=application.case_id, actor_id=actor.pk, action__in=spec.four_eyes).exists()
        if took_part:  # ...unless the recipe itself made them take part (e.g. who attested, to pay)
            assert_refused(actor, application, node, action, ErrorCode.FOUR_EYES)
            continue
        with rolled_back():
            created = _records(spec, application)
            if isinstance(flow_node, Step):  # their own task: taken from the queue first
                door.claim(actor=actor, application_id=application.pk, node=node)
            attempt(actor, application, node, action)
            if spec.creates:
                assert _records(spec, application) == created + 1, f"{action} created no {spec.creates}"
            status = Application.objects.get(pk=application.pk).status
            now_open = active_tasks(application)
            if task is not None:
                assert task.pk not in [t.pk for t in now_open], "the task was not completed"
            for t in now_open:  # the gateways routed the new state to a node that belongs to it
                assert status in NODE_STATES[t.flow_task.name], f"{action}: {status} routed to {t.flow_task.name}"
            if status in FINAL:
                assert {t.flow_task.name for t in now_open} <= OPEN_WHEN_FINAL, (
                    f"{action}: {status} is final, yet {now_open} are open")
