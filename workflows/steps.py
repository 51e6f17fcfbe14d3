"""The vocabulary the flow is written in: an Action, and the nodes that declare them.

A node of `workflows/flows.py` lists its actions where the node is declared:

    review = Step(_("Granska ansökan")).Actions(START_ASSESSMENT, REQUEST_SUPPLEMENT, …).Next(…)

so the flow class is the whole process: who may do what at each step, which service it
calls and which state transition it takes. A Step is a human task in one staff role's
queue; its viewflow permission is derived from its actions' role, so the two cannot drift.
A Wait is the process waiting for someone outside the queues (the applicant, the clock),
where staff actions may also be offered.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from viewflow.workflow import flow

from bidrag.events import Event
from bidrag.roles import ROLE_PERMISSIONS, STAFF_ROLES, Role


class Party(StrEnum):
    """Who acts, besides Brå's staff roles."""

    MEMBER = "member"  # anyone representing the applicant organisation
    SIGNATORY = "signatory"  # the organisation's firmatecknare
    CLOCK = "clock"  # the deadline clock (actor None)


Who = Role | Party


@dataclass(frozen=True, eq=False)
class Action:
    """One thing a person (or the clock) can do at a step.

    name         the event: URL slug, journal action, service suffix
    by           the roles or parties that may take it
    perform      (actor, application, data) -> result: calls the one service
    transitions  the FSM transitions it may take, "Model.name" (Application when bare);
                 the door refuses a service that moves the status any other way
    creates      for an action that starts a record rather than moving a state machine
                 (a proposal, a disbursement): the model it creates
    four_eyes    events on the case that bar the actor from this action (whoever took
                 part in one of them may not take this one)
    opens        for an action that belongs to no step: the step it opens beside whatever
                 the process expects, also after the process ended (a reconsideration); a
                 process-wide action without it ends the process (a withdrawal)
    """

    name: Event
    label: str
    by: tuple[Who, ...]
    perform: Callable
    transitions: tuple[str, ...] = ()
    creates: str = ""
    four_eyes: frozenset[Event] = frozenset()
    opens: str = ""
    form: type | None = None
    style: str = "primary"
    help: str = ""

    @property
    def is_applicant_action(self) -> bool:
        return bool({Party.MEMBER, Party.SIGNATORY} & set(self.by))

    @property
    def is_clock_action(self) -> bool:
        return self.by == (Party.CLOCK,)

    @property
    def staff_roles(self) -> frozenset[Role]:
        return frozenset(r for r in self.by if isinstance(r, Role))

    @property
    def application_transitions(self) -> tuple[str, ...]:
        return tuple(t for t in self.transitions if "." not in t)


class _Declares:
    actions: tuple[Action, ...] = ()

    def Actions(self, *actions: Action):  # noqa: N802 - viewflow's chained-call style
        names = [a.name for a in actions]
        if len(set(names)) != len(names):
            raise ValueError(f"an action is declared twice on one node: {names}")
        self.actions = tuple(actions)
        self._actions_declared()
        return self

    def _actions_declared(self) -> None:
        pass

    def action(self, name: str) -> Action | None:
        return next((a for a in self.actions if a.name == name), None)


class TaskView:
    """viewflow's View node wants a view; the case pages drive tasks through the door."""


class Step(_Declares, flow.View):
    """A human task in one staff role's queue."""

    def __init__(self, title, description=""):
        super().__init__(TaskView)
        self.Annotation(title=title, description=description)

    def _actions_declared(self) -> None:
        roles = {role for action in self.actions for role in action.by}
        if len(roles) != 1 or not roles <= STAFF_ROLES:
            raise ValueError(f"a Step's actions belong to one staff role's queue, found {roles}")
        (role,) = roles
        (codename,) = ROLE_PERMISSIONS[role]
        self.Permission(f"bidrag.{codename}")


class Wait(_Declares, flow.Handle):
    """Waiting for someone outside the queues: the applicant, or the clock."""

    def __init__(self, title, description=""):
        super().__init__()
        self.Annotation(title=title, description=description)


class Start(_Declares, flow.StartHandle):
    """The applicant's submission starts the process."""

    def __init__(self, func, title):
        super().__init__(func)
        self.Annotation(title=title)


def fsm_transitions(model) -> dict[str, list]:
    """Every transition of the model's status FSM: name -> its django-fsm Transition rows."""
    field = model._meta.get_field("status")
    found: dict[str, list] = {}
    for transition in field.get_all_transitions(model):
        found.setdefault(transition.name, []).append(transition)
    return found


def transition_targets(model, name: str, source: str) -> tuple[str, ...]:
    """The states transition `name` may lead to from `source` (none if it does not start there)."""
    method = getattr(model, name, None)
    meta = getattr(method, "_django_fsm", None)
    transition = meta.get_transition(source) if meta is not None else None
    if transition is None:
        return ()
    target = transition.target
    return tuple(getattr(target, "allowed_states", None) or (target,))
