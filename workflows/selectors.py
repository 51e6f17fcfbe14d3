"""Reads for queues and case pages, scoped to the acting user."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import CharField, DateField, DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from arenden.keyset import count_up_to, window_up_to
from arenden.models import ConflictOfInterest, JournalEvent
from bidrag.locks import ACTIVE_TASK
from bidrag.models import Application, SubmittedVersion
from bidrag.models.application import WITHDRAWABLE
from bidrag.roles import ROLE_PERMISSIONS, Role, user_roles
from bidrag.selectors import STAFF_ROW_FIELDS, case_search, requested_total_subquery

from . import policy
from .door import nodes
from .flows import ApplicationFlow

QUEUE_ROLES = [Role.REGISTRAR, Role.CASE_OFFICER, Role.DECISION_MAKER, Role.FINANCE]


def queue_roles(*, actor) -> list[Role]:
    """The role queues the actor works in; a team lead (arbetsledare) sees every one, to
    assign its tasks."""
    roles = user_roles(actor)
    if Role.TEAM_LEAD in roles:
        return list(QUEUE_ROLES)
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
    return Task.objects.filter(
        by_permission, flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED]
    ).exclude(_barred(actor))


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
    amount, svarsfrist): one query for the page's applications, by the tasks' processes,
    instead of joining every page row through viewflow's process tables."""
    applications = {
        application.process_pk: application
        for application in Application.objects.filter(process__in=[task.process_id for task in tasks])
        .select_related("case", "organisation")
        .only(*STAFF_ROW_FIELDS, "deadline", "organisation__kommunkod")
        .annotate(process_pk=F("process__pk"), requested_total=requested_total_subquery())
    }
    return [{"task": task, "application": applications[task.process_id]} for task in tasks]


def queue_count(*, actor, role: Role, limit: int) -> int:
    """How many tasks the queue holds, counted no further than limit + 1 (count_up_to)."""
    return count_up_to(_open_tasks(actor=actor, role=role), limit, ordering=QUEUE_ORDER)


# --- The queues of a role (issue 7): which tasks, filtered and sorted as the page asks.


class QueueKind(StrEnum):
    ALL = "alla"
    UNASSIGNED = "ej-tilldelade"
    MINE = "mina"
    OVERDUE = "forsenade"
    WAITING = "vantar-pa-sokanden"


class QueueSort(StrEnum):
    QUEUED = "i-kon"  # oldest task first: the index workflows_open_human_tasks
    RECEIVED = "inkom"  # the application's submission, oldest first
    DEADLINE = "svarsfrist"  # the applicant's deadline, nearest first; none last
    AMOUNT = "belopp"  # the requested amount as submitted, largest first


# Each sort ends in the task's id: a keyset (arenden.keyset) over one task per row.
SORT_ORDERS: dict[QueueSort, tuple[str, ...]] = {
    QueueSort.QUEUED: QUEUE_ORDER,
    QueueSort.RECEIVED: ("received", "pk"),
    QueueSort.DEADLINE: ("deadline_at", "pk"),
    QueueSort.AMOUNT: ("-requested", "-pk"),
}

# A task waits too long in a queue after this many days (no step has a due date of its own;
# the applicant's svarsfrist is the deadline of the waiting tasks).
QUEUE_TARGET_DAYS = int(getattr(settings, "BIDRAG_QUEUE_TARGET_DAYS", 14))
# The steps where the case waits for the applicant's answer (workflows.flows' Waits).
WAITING_NODES = ("await_supplement", "await_comments")
NO_DEADLINE = date(9999, 12, 31)


@dataclass(frozen=True)
class QueueFilter:
    """What the queue's filter form asks for; empty values filter nothing."""

    call_id: object = None
    scheme_id: int | None = None
    track_id: object = None
    status: str = ""
    county: str = ""  # länskod, the kommunkod's first two digits
    kommunkod: str = ""
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    deadline_from: date | None = None
    deadline_to: date | None = None
    query: str = ""


def queue_kinds(*, actor, role: Role) -> list[QueueKind]:
    """The queues of a role the actor is offered: a team lead holds no tasks (no "mine");
    only the case officer asks the applicant and waits for the answer."""
    kinds = [QueueKind.ALL, QueueKind.UNASSIGNED]
    if role in user_roles(actor):
        kinds.append(QueueKind.MINE)
    kinds.append(QueueKind.OVERDUE)
    if role == Role.CASE_OFFICER:
        kinds.append(QueueKind.WAITING)
    return kinds


def _barred(actor) -> Exists:
    """FL 16 §: the cases on which the actor declared jäv (not ruled away), by the task's process."""
    return Exists(
        ConflictOfInterest.objects.filter(user=actor, case__application__process=OuterRef("process_id"))
        .exclude(ruling__upheld=False)
    )


def _waiting_tasks(*, actor) -> QuerySet[Task]:
    """Cases waiting for the applicant's answer (supplement or FL 25 § comments); for a case
    officer those they asked for (the last human step before the wait was theirs), for a
    team lead all. The partial index workflows_open_waits holds only the open waits."""
    from .flows import ApplicationFlow

    waits = Task.objects.filter(
        flow_task_type="FUNCTION", status=STATUS.NEW,
        flow_task__in=[getattr(ApplicationFlow, name) for name in WAITING_NODES],
    ).exclude(_barred(actor))
    if Role.TEAM_LEAD in user_roles(actor):
        return waits
    asker = (
        Task.objects.filter(process_id=OuterRef("process_id"), flow_task_type="HUMAN", owner__isnull=False)
        .order_by("-created", "-pk").values("owner_id")[:1]
    )
    return waits.annotate(asked_by=Subquery(asker)).filter(asked_by=actor.pk)


def _kind_tasks(*, actor, role: Role, kind: QueueKind, base: QuerySet[Task] | None = None) -> QuerySet[Task]:
    """The tasks of one kind of queue; `base` is the role's open tasks when already built."""
    if kind not in queue_kinds(actor=actor, role=role):
        return Task.objects.none()
    if kind == QueueKind.WAITING:
        return _waiting_tasks(actor=actor)
    tasks = _open_tasks(actor=actor, role=role) if base is None else base
    if kind == QueueKind.UNASSIGNED:
        return tasks.filter(owner__isnull=True)
    if kind == QueueKind.MINE:
        return tasks.filter(owner=actor)
    if kind == QueueKind.OVERDUE:
        return tasks.filter(created__lt=timezone.now() - timedelta(days=QUEUE_TARGET_DAYS))
    return tasks


def requested_as_submitted():
    """The requested amount the applicant signed (SubmittedVersion.content's total), read
    through the expression index workflows_submitted_total (migration workflows 0004)."""
    return Cast(KT("content__total"), DecimalField(max_digits=14, decimal_places=2))


def _applications(queue_filter: QueueFilter) -> QuerySet[Application] | None:
    """The applications the filter lets through, or None when it filters none of them."""
    f = queue_filter
    conditions = Q()
    if f.call_id:
        conditions &= Q(call_id=f.call_id)
    if f.scheme_id:
        conditions &= Q(call__scheme_id=f.scheme_id)
    if f.track_id:
        conditions &= Q(track_id=f.track_id)
    if f.status:
        conditions &= Q(status=f.status)
    if f.deadline_from:
        conditions &= Q(deadline__gte=f.deadline_from)
    if f.deadline_to:
        conditions &= Q(deadline__lte=f.deadline_to)
    if f.kommunkod:
        conditions &= Q(organisation__kommunkod=f.kommunkod)
    if f.county:
        conditions &= Q(organisation__kommunkod__startswith=f.county)
    if f.amount_min is not None or f.amount_max is not None:  # the expression index workflows_submitted_total
        amounts = SubmittedVersion.objects.alias(total=requested_as_submitted())
        if f.amount_min is not None:
            amounts = amounts.filter(total__gte=f.amount_min)
        if f.amount_max is not None:
            amounts = amounts.filter(total__lte=f.amount_max)
        conditions &= Q(pk__in=amounts.values("application_id"))
    if not conditions:
        return None
    return Application.objects.filter(conditions)


# A filter that lets this few applications through hands the queue their processes as a
# list; a commoner one stays a subquery (the queue's index, probed row by row, finds a page
# of them at once).
FEW_APPLICATIONS = 1000


def _of_processes(applications: QuerySet[Application]) -> Q:
    """Tasks of the filtered applications. The planner cannot tell a municipality's 300
    applications from a call's 50 000 (at 100 000 it hashed the whole queue for the one and
    sorted it: 100 ms), so they are counted first, up to FEW_APPLICATIONS + 1 (one small
    query): few, and their processes go in as a list the task table's process index reads;
    many, and the queue's own index is walked with a semi-join probe per task."""
    processes = applications.order_by().values_list("process__pk", flat=True)
    few = list(processes[: FEW_APPLICATIONS + 1])
    if len(few) <= FEW_APPLICATIONS:
        return Q(process_id__in=few)
    return Q(process_id__in=processes)


def _of_applications(applications: QuerySet[Application]) -> Q:
    """Tasks of these applications, by their processes: a semi-join the planner may read
    from either side (the queue's index, or the few applications a rare filter finds)."""
    return Q(process_id__in=applications.values("process__pk"))


def _sort_keys(tasks: QuerySet[Task], sort: QueueSort) -> QuerySet[Task]:
    """The application's value a sort orders by, as an annotation of each task."""
    of_task = Application.objects.filter(process__pk=OuterRef("process_id"))
    if sort == QueueSort.RECEIVED:
        return tasks.annotate(received=Subquery(of_task.values("submitted_at")[:1]))
    if sort == QueueSort.DEADLINE:
        return tasks.annotate(deadline_at=Coalesce(Subquery(of_task.values("deadline")[:1]), Value(NO_DEADLINE),
                                                   output_field=DateField()))
    if sort == QueueSort.AMOUNT:
        submitted = SubmittedVersion.objects.filter(application__process__pk=OuterRef("process_id"))
        return tasks.annotate(requested=Coalesce(
            Subquery(submitted.annotate(total=requested_as_submitted()).values("total")[:1]), Value(Decimal("0")),
            output_field=DecimalField(max_digits=14, decimal_places=2)))
    return tasks


@dataclass(frozen=True)
class QueueQuery:
    """One queue as the page reads it: the tasks (unordered, without sort keys: what is
    counted), any search as alternatives for arenden.keyset's any_of, and the sort."""

    tasks: QuerySet[Task]
    any_of: list[Q] | None
    sort: QueueSort
    narrowed: bool = False  # filtered or searched: its count is not its queue's (queue_kind_counts)

    @property
    def ordering(self) -> tuple[str, ...]:
        return SORT_ORDERS[self.sort]


def queue_query(*, actor, role: Role, kind: QueueKind = QueueKind.ALL, queue_filter: QueueFilter | None = None,
                sort: QueueSort = QueueSort.QUEUED) -> QueueQuery:
    """A role's queue of one kind, filtered and searched; page it with keyset_page(query.tasks
    .select_related…, ordering=query.ordering, any_of=query.any_of), count it with queue_total."""
    queue_filter = queue_filter or QueueFilter()
    tasks = _kind_tasks(actor=actor, role=role, kind=kind)
    applications = _applications(queue_filter)
    if applications is not None:
        tasks = tasks.filter(_of_processes(applications))
    any_of = None
    if queue_filter.query:
        any_of = [_of_applications(Application.objects.filter(q)) for q in case_search(queue_filter.query)]
    return QueueQuery(tasks=tasks, any_of=any_of, sort=sort, narrowed=applications is not None or any_of is not None)


def queue_page_tasks(query: QueueQuery) -> QuerySet[Task]:
    """What a queue page reads of each task, with its owner and the sort's key."""
    return _sort_keys(query.tasks, query.sort).select_related("owner").only(
        "id", "flow_task", "flow_task_type", "status", "created", "owner_permission", "process_id",
        "owner__id", "owner__username", "owner__first_name", "owner__last_name",
    )


def queue_total(query: QueueQuery, *, limit: int) -> int:
    """The queue's tasks, counted up to limit + 1 in the queue's own index order."""
    return count_up_to(query.tasks, limit, ordering=QUEUE_ORDER, any_of=query.any_of)


def queue_kind_counts(*, actor, role: Role, limit: int) -> dict[QueueKind, int]:
    """Each queue of the role counted up to limit + 1 (the tabs), in one statement."""
    kinds = queue_kinds(actor=actor, role=role)
    base = _open_tasks(actor=actor, role=role)
    windows = [window_up_to(_kind_tasks(actor=actor, role=role, kind=kind, base=base), limit, ordering=QUEUE_ORDER)
               for kind in kinds]
    return dict(zip(kinds, _count_each(windows), strict=True))


def _count_each(querysets: Sequence[QuerySet]) -> list[int]:
    """COUNT(*) of each queryset, as one SELECT of scalar subqueries (one round trip)."""
    parts: list[str] = []
    params: list = []
    for queryset in querysets:
        if queryset.query.is_empty():
            parts.append("0")
            continue
        sql, sql_params = queryset.query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted)")
        params.extend(sql_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    return [int(n) for n in row]


JAV = "jäv"  # a declared conflict, beside the journal's actions in assignees' one query


def assignees(*, actor, role: Role, rows: list[dict]) -> dict[int, list]:
    """For a team lead's queue page: per task (by pk), whom it may be given to. People who
    hold the queue's role (never an auditor or administrator), without those barred by jäv
    on the case (FL 16 §) and those four eyes bar from any of the step's actions, as
    policy.check_assign judges; the door checks each assignment again. Two queries for
    the page, whatever its length."""
    if Role.TEAM_LEAD not in user_roles(actor) or not rows:
        return {}
    holders = list(
        get_user_model().objects.filter(is_active=True, is_superuser=False, groups__name=role.value)
        .exclude(groups__name__in=[Role.AUDITOR, Role.ADMINISTRATOR])
        .distinct().order_by("first_name", "last_name", "username")
    )
    case_ids = {row["application"].case_id for row in rows}
    by_name = nodes()
    barring = {str(event) for node in by_name.values() for action in node.actions for event in action.four_eyes}
    # One query for both: who declared jäv on the page's cases (not ruled away), and who of
    # the role's holders took part there in a way four eyes counts.
    declared = (
        ConflictOfInterest.objects.filter(case_id__in=case_ids).exclude(ruling__upheld=False)
        .annotate(what=Value(JAV, output_field=CharField())).values_list("case_id", "user_id", "what").order_by()
    )
    acted = (
        JournalEvent.objects.filter(case_id__in=case_ids, actor_id__in=[h.pk for h in holders], action__in=barring)
        .values_list("case_id", "actor_id", "action").order_by()
    )
    barred: set[tuple] = set()
    took_part: dict[tuple, set[str]] = {}
    for case_id, user_id, what in declared.union(acted).order_by():
        if what == JAV:
            barred.add((case_id, user_id))
        else:
            took_part.setdefault((case_id, user_id), set()).add(what)
    result: dict[int, list] = {}
    for row in rows:
        task, case_id = row["task"], row["application"].case_id
        node = by_name.get(task.flow_task.name if task.flow_task else "")
        if node is None or task.flow_task_type != "HUMAN":
            continue
        result[task.pk] = [
            person for person in holders
            if (case_id, person.pk) not in barred
            and not any({str(e) for e in action.four_eyes} & took_part.get((case_id, person.pk), set())
                        for action in node.actions)
        ]
    return result


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
