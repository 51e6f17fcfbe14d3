"""Reads for queues and case pages, scoped to the acting user."""

from django.db.models import Exists, OuterRef, QuerySet
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from arenden.models import ConflictOfInterest
from bidrag.locks import ACTIVE_TASK
from bidrag.models.application import WITHDRAWABLE
from bidrag.roles import ROLE_PERMISSIONS, Role, user_roles
from bidrag.selectors import requested_total_subquery

from . import policy
from .door import nodes
from .flows import ApplicationFlow

QUEUE_ROLES = [Role.REGISTRAR, Role.CASE_OFFICER, Role.DECISION_MAKER, Role.FINANCE]


def queue_roles(*, actor) -> list[Role]:
    roles = user_roles(actor)
    return [role for role in QUEUE_ROLES if role in roles]


def queue_tasks(*, actor, role: Role) -> QuerySet[Task]:
    """Open human tasks of one of the actor's role queues, oldest first, with all the page shows."""
    if role not in queue_roles(actor=actor):
        return Task.objects.none()
    permissions = [f"bidrag.{codename}" for codename in ROLE_PERMISSIONS[role]]
    app = "process__applicationprocess__application"
    # FL 16 §: a case on which the actor has declared jäv (not ruled away) is not in their queue.
    barred = ConflictOfInterest.objects.filter(case_id=OuterRef(f"{app}__case_id"), user=actor).exclude(
        ruling__upheld=False
    )
    return (
        Task.objects.filter(flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED], owner_permission__in=permissions)
        .exclude(Exists(barred))
        .select_related("owner", f"{app}__case", f"{app}__organisation", f"{app}__call")
        .annotate(requested_total=requested_total_subquery(f"{app}__pk"))
        .order_by("created", "pk")
    )


def task_application(task):
    return task.process.applicationprocess.application


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
