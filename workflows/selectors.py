"""Reads for queues and case pages, scoped to the acting user."""

from django.db.models import QuerySet
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from bidrag.roles import ROLE_PERMISSIONS, Role, user_roles
from bidrag.selectors import is_member, is_signatory, requested_total_subquery

from .actions import NODE_ACTIONS, active_tasks

QUEUE_ROLES = [Role.REGISTRAR, Role.CASE_OFFICER, Role.DECISION_MAKER, Role.FINANCE]
APPLICANT_SIGNATORY_ACTIONS = {"submit_report"}


def queue_roles(*, actor) -> list[Role]:
    roles = user_roles(actor)
    return [role for role in QUEUE_ROLES if role in roles]


def queue_tasks(*, actor, role: Role) -> QuerySet[Task]:
    """Open human tasks of one of the actor's role queues, oldest first, with all the page shows."""
    if role not in queue_roles(actor=actor):
        return Task.objects.none()
    permissions = [f"bidrag.{codename}" for codename in ROLE_PERMISSIONS[role]]
    app = "process__applicationprocess__application"
    return (
        Task.objects.filter(flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED], owner_permission__in=permissions)
        .select_related("owner", f"{app}__case", f"{app}__organisation", f"{app}__call")
        .annotate(requested_total=requested_total_subquery(f"{app}__pk"))
        .order_by("created", "pk")
    )


def task_application(task):
    return task.process.applicationprocess.application


def staff_actions(*, actor, application) -> list[dict]:
    """The actions the actor's roles allow on the application's open tasks."""
    roles = user_roles(actor)
    result = []
    for task in active_tasks(application):
        node = task.flow_task.name if task.flow_task else ""
        for action in NODE_ACTIONS.get(node, []):
            if action.applicant or not roles & set(action.roles):
                continue
            result.append({"task": task, "node": node, "action": action})
    return result


def applicant_actions(*, actor, application) -> list[dict]:
    if not is_member(actor=actor, application=application):
        return []
    signatory = is_signatory(actor=actor, application=application)
    result = []
    for task in active_tasks(application):
        node = task.flow_task.name if task.flow_task else ""
        for action in NODE_ACTIONS.get(node, []):
            if not action.applicant:
                continue
            if action.name in APPLICANT_SIGNATORY_ACTIONS and not signatory:
                continue
            result.append({"task": task, "node": node, "action": action})
    return result

