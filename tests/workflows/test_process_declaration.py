"""The process is declared once, on the flow: derived checks that the FSM, the flow's
actions, the queues and the services agree, so a renamed node or transition cannot
silently lose its actions (DESIGN.md §3)."""

import inspect

import pytest

from arenden.models import JournalEvent
from bidrag import services
from bidrag.events import Event
from bidrag.models import Application, Disbursement, Report
from bidrag.models.application import Status
from bidrag.roles import ROLE_PERMISSIONS
from bidrag.services.common import OutsideTheDoor
from workflows.door import nodes
from workflows.flows import ApplicationFlow
from workflows.selectors import active_tasks
from workflows.steps import Step, Wait, fsm_transitions

MODELS = {"Application": Application, "Disbursement": Disbursement, "Report": Report}


def all_actions():
    seen = []
    for node in nodes().values():
        for action in node.actions:
            if all(action is not other for other in seen):
                seen.append(action)
    for action in ApplicationFlow.process_actions:
        if all(action is not other for other in seen):
            seen.append(action)
    return seen


def _split(name: str):
    model, _, transition = name.rpartition(".")
    return MODELS[model or "Application"], transition


def test_every_action_names_an_existing_transition_or_the_record_it_creates():
    from django.apps import apps

    for action in all_actions():
        assert action.transitions or action.creates, f"{action.name} declares neither a transition nor a record"
        for name in action.transitions:
            model, transition = _split(name)
            assert transition in fsm_transitions(model), f"{action.name} names {name}, which {model.__name__} lacks"
        if action.creates:
            assert apps.get_model("bidrag", action.creates), action.creates


@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS.keys())
def test_every_fsm_transition_is_taken_by_exactly_one_human_action(model):
    prefix = "" if model is Application else f"{model.__name__}."
    for transition in fsm_transitions(model):
        takers = [
            a for a in all_actions()
            if not a.is_clock_action and f"{prefix}{transition}" in a.transitions
        ]
        assert len(takers) == 1, f"{model.__name__}.{transition} is taken by {[a.name for a in takers]}"


def test_every_action_is_an_event_and_one_name_per_action():
    names = {}
    for action in all_actions():
        assert isinstance(action.name, Event)
        names.setdefault(action.name, []).append(action)
    # The same name on several nodes is the same declared action (e.g. return_proposal),
    # except the clock's deadline_passed, which takes each waiting step's own transition.
    for name, declared in names.items():
        assert len(declared) == 1 or name == Event.DEADLINE_PASSED, f"{name} is declared {len(declared)} times"


def test_every_step_sits_in_the_queue_of_its_actions_role():
    for node in nodes().values():
        if isinstance(node, Step):
            (role,) = {r for a in node.actions for r in a.by}
            assert node._owner_permission == f"bidrag.{ROLE_PERMISSIONS[role][0]}", node.name
        elif isinstance(node, Wait):
            assert not getattr(node, "_owner_permission", None), node.name


def test_the_waiver_is_decided_in_the_decision_makers_queue(make_application, cast):
    from tests.domain import perform
    from workflows.selectors import queue_tasks

    application = make_application(to=Status.REPAYMENT_CLAIMED)
    perform(actor=cast.finance, application=application, node="settle_repayment", action="propose_waiver",
            data={"reasons": "Särskilda skäl"})
    [task] = active_tasks(application)
    assert task.flow_task.name == "decide_waiver"
    from bidrag.roles import Role

    assert task in queue_tasks(actor=cast.decision_maker, role=Role.DECISION_MAKER)


def _kwargs_for(service, cast, application):
    kwargs = {}
    for name, parameter in inspect.signature(service).parameters.items():
        if parameter.default is not inspect.Parameter.empty:
            continue
        kwargs[name] = {"actor": cast.officer, "application": application}.get(name)
    return kwargs


@pytest.mark.parametrize("service", services.STATE_CHANGING, ids=lambda s: s.__name__)
def test_state_changing_services_refuse_outside_the_door(make_application, cast, service):
    application = make_application(to=Status.IN_REVIEW)
    before = (Application.objects.get(pk=application.pk).status, JournalEvent.objects.count(),
              [t.status for t in active_tasks(application)])
    with pytest.raises(OutsideTheDoor):
        service(**_kwargs_for(service, cast, application))
    after = (Application.objects.get(pk=application.pk).status, JournalEvent.objects.count(),
             [t.status for t in active_tasks(application)])
    assert after == before
