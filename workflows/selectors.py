"""Reads for queues and case pages, scoped to the acting user."""

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from arenden.keyset import count_up_to
from arenden.models import ConflictOfInterest
from bidrag.locks import ACTIVE_TASK
from bidrag.models import Application
from bidrag.models.application import WITHDRAWABLE
from bidrag.roles import ROLE_PERMISSIONS, Role, user_roles
from bidrag.selectors import STAFF_ROW_FIELDS, requested_total_subquery

from . import policy
from .door import nodes
from .flows import ApplicationFlow

QUEUE_ROLES = [Role.REGISTRAR, Role.CASE_OFFICER, Role.DECISION_MAKER, Role.FINANCE]


def queue_roles(*, actor) -> list[Role]:
    roles = user_roles(actor)
    return [role for role in QUEUE_ROLES if role in roles]


# The queue's order, oldest first; the partial index workflows_open_human_tasks
# (migration 0002) serves it per permission from either end, the id breaking ties.
QUEUE_ORDER = ("created", "pk")


def _open_tasks(*, actor, role: Role) -> QuerySet[Task]:
    """Open human tasks of one of the actor's role queues, without what the page shows."""
    if role not in queue_roles(actor=actor):
        return Task.objects.none()
    permissions = [f"bidrag.{codename}" for codename in ROLE_PERMISSIONS[role]]
    # One permission per queue: an equality, so the index's order (created, id) is the page's.
    by_permission = Q(owner_permission=permissions[0]) if len(permissions) == 1 else Q(owner_permission__in=permissions)
    # FL 16 §: a case on which the actor has declared jäv (not ruled away) is not in their
    # queue. Correlated on the task's own process_id, so the anti-join needs no join of
    # tasks to applications: the actor's few declarations against the queue's index.
    barred = ConflictOfInterest.objects.filter(
        user=actor, case__application__process=OuterRef("process_id")
    ).exclude(ruling__upheld=False)
    return Task.objects.filter(
        by_permission, flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED]
    ).exclude(Exists(barred))


def queue_tasks(*, actor, role: Role) -> QuerySet[Task]:
    """Open human tasks of one of the actor's role queues, oldest first, with their owners;
    queue_rows adds what the page shows of each one's case."""
    return (
        _open_tasks(actor=actor, role=role)
        .select_related("owner")
        .only("id", "flow_task", "flow_task_type", "status", "created", "owner_permission", "process_id",
              "owner__id", "owner__username", "owner__first_name", "owner__last_name")
        .order_by(*QUEUE_ORDER)
    )


def queue_rows(tasks) -> list[dict]:
    """Each task of a queue page with its application (case, organisation, requested
    amount): one query for the page's applications, by the tasks' processes, instead of
    joining every page row through viewflow's process tables."""
    applications = {
        application.process_pk: application
        for application in Application.objects.filter(process__in=[task.process_id for task in tasks])
        .select_related("case", "organisation")
        .only(*STAFF_ROW_FIELDS)
        .annotate(process_pk=F("process__pk"), requested_total=requested_total_subquery())
    }
    return [{"task": task, "application": applications[task.process_id]} for task in tasks]


def queue_count(*, actor, role: Role, limit: int) -> int:
    """How many tasks the queue holds, counted no further than limit + 1 (count_up_to)."""
    return count_up_to(_open_tasks(actor=actor, role=role), limit, ordering=QUEUE_ORDER)


def active_tasks(application) -> list[Task]:
    return list(
        Task.objects.filter(process__applicationprocess__application=application, status__in=ACTIVE_TASK)
        .select_related("owner")
        .order_by("created", "pk")
    )


def available_actions(*, actor, application, tasks=None) -> list[dict]:
    """What the actor may do now, as the door would judge it: only what they may take is offered."""
    by_name = nodes()
    result = []
    for task in active_tasks(application) if tasks is None else tasks:
        node = by_name.get(task.flow_task.name if task.flow_task else "")
        for action in node.actions if node else ():
            if policy.may_take(actor=actor, application=application, action=action, task=task):
                result.append({"task": task, "node": node.name, "action": action})
    if application.status in WITHDRAWABLE:
        for action in ApplicationFlow.process_actions:
            if policy.may_take(actor=actor, application=application, action=action):
                result.append({"task": None, "node": None, "action": action})
    return result


def claimable(*, actor, application, tasks) -> set:
    """The open tasks the actor may take from the queue."""
    by_name = nodes()
    result = set()
    for task in tasks:
        node = by_name.get(task.flow_task.name if task.flow_task else "")
        if node is None or task.owner_id or task.flow_task_type != "HUMAN":
            continue
        try:
            policy.check_claim(actor=actor, application=application, node=node, task=task)
        except policy.NotAllowed:
            continue
        result.add(task.pk)
    return result
