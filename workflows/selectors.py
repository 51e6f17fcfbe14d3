"""Reads for queues and case pages, scoped to the acting user."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import CharField, DecimalField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from viewflow.workflow.models import Task

from arenden.keyset import count_up_to, window_up_to
from arenden.models import ConflictOfInterest, JournalEvent
from bidrag.locks import ACTIVE_TASK
from bidrag.models import Application
from bidrag.models.application import WITHDRAWABLE
from bidrag.roles import ROLE_PERMISSIONS, Role, user_roles
from bidrag.selectors import case_search
from bidrag.services.clocks import RISK_MARGIN, UNDECIDED

from . import policy
from .door import nodes
from .flows import ApplicationFlow
from .models import QueueEntry
from .queue_entries import NO_DEADLINE, STOCKHOLM

QUEUE_ROLES = [Role.REGISTRAR, Role.CASE_OFFICER, Role.DECISION_MAKER, Role.FINANCE]


def queue_roles(*, actor) -> list[Role]:
    """The role queues the actor works in; a team lead (arbetsledare) sees every one, to
    assign its tasks."""
    roles = user_roles(actor)
    if Role.TEAM_LEAD in roles:
        return list(QUEUE_ROLES)
    return [role for role in QUEUE_ROLES if role in roles]


# The queue's order, oldest first, the task's id breaking ties: the index queue_by_created
# (workflows.models.QueueEntry) serves it per permission from either end.
QUEUE_ORDER = ("created", "pk")


def _barred(actor) -> Exists:
    """FL 16 §: the cases on which the actor declared jäv (not ruled away): an anti-join of
    the actor's few declarations against the queue's rows, by case."""
    return Exists(
        ConflictOfInterest.objects.filter(user=actor, case_id=OuterRef("case_id")).exclude(ruling__upheld=False)
    )


def _open_entries(*, actor, role: Role) -> QuerySet[QueueEntry]:
    """The rows of one of the actor's role queues (its open human tasks)."""
    if role not in queue_roles(actor=actor):
        return QueueEntry.objects.none()
    permissions = [f"bidrag.{codename}" for codename in ROLE_PERMISSIONS[role]]
    # One permission per queue: an equality, so each sort's index (permission, key, task) is the page's order.
    by_permission = Q(permission=permissions[0]) if len(permissions) == 1 else Q(permission__in=permissions)
    return QueueEntry.objects.filter(by_permission).exclude(_barred(actor))


def queue_tasks(*, actor, role: Role) -> QuerySet[Task]:
    """Open human tasks of one of the actor's role queues, oldest first, with their owners."""
    return (
        Task.objects.filter(queue_entry__in=_open_entries(actor=actor, role=role))
        .select_related("owner").order_by(*QUEUE_ORDER)
    )


def queue_rows(entries) -> list[dict]:
    """Each row of a queue page with its task and what it shows of the application
    (diarienummer, organisation, title; the rest is the row's QueueEntry): one query of
    plain values for the page's applications."""
    applications = {
        row["pk"]: row
        for row in Application.objects.filter(pk__in=[entry.application_id for entry in entries]).values(
            "pk", "title", diarienummer=F("case__diarienummer"), organisation_name=F("organisation__name"))
    }
    why = _why_overdue(entries)
    return [{"task": entry.task, "entry": entry, "application": applications[entry.application_id],
             "overdue": why.get(entry.pk, [])} for entry in entries]


class Overdue(StrEnum):
    """Why a row is under "Försenade" (_overdue), as the queue page names it."""

    LONG_IN_QUEUE = "long"  # longer than QUEUE_TARGET_DAYS in the queue
    AT_RISK = "fl11"  # FL 11 §: near or past the call's target time, undecided
    DEMANDED = "fl12"  # FL 12 §: the applicant demanded a decision, not yet answered


def _why_overdue(entries, now: datetime | None = None) -> dict[int, list[Overdue]]:
    """Per row of a page (by task id), why it is overdue, as _overdue judges it."""
    now = now or timezone.now()
    today = timezone.localdate(now, STOCKHOLM)
    why: dict[int, list[Overdue]] = {}
    for entry in entries:
        reasons = []
        if entry.created < now - timedelta(days=QUEUE_TARGET_DAYS):
            reasons.append(Overdue.LONG_IN_QUEUE)
        if entry.status in UNDECIDED and entry.target_on <= today + RISK_MARGIN:
            reasons.append(Overdue.AT_RISK)
        if entry.demanded:
            reasons.append(Overdue.DEMANDED)
        if reasons:
            why[entry.pk] = reasons
    return why


# --- The queues of a role (issue 7): which tasks, filtered and sorted as the page asks.


class QueueKind(StrEnum):
    ALL = "alla"
    UNASSIGNED = "ej-tilldelade"
    MINE = "mina"
    OVERDUE = "forsenade"
    WAITING = "vantar-pa-sokanden"


class QueueSort(StrEnum):
    QUEUED = "i-kon"  # oldest task first
    RECEIVED = "inkom"  # the application's submission, oldest first
    DEADLINE = "svarsfrist"  # the applicant's deadline, nearest first; none last
    AMOUNT = "belopp"  # the requested amount as submitted, largest first


# Each sort is one of QueueEntry's indexes (permission, key, task): a keyset (arenden.keyset)
# over one task per row, walked from the cursor in either direction.
SORT_ORDERS: dict[QueueSort, tuple[str, ...]] = {
    QueueSort.QUEUED: QUEUE_ORDER,
    QueueSort.RECEIVED: ("received", "pk"),
    QueueSort.DEADLINE: ("deadline", "pk"),
    QueueSort.AMOUNT: ("-requested", "-pk"),
}

# A task waits too long in a queue after this many days (no step has a due date of its own;
# the applicant's svarsfrist is the deadline of the waiting tasks).
QUEUE_TARGET_DAYS = int(getattr(settings, "BIDRAG_QUEUE_TARGET_DAYS", 14))


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


def _waiting_entries(*, actor) -> QuerySet[QueueEntry]:
    """Cases waiting for the applicant's answer (supplement or FL 25 § comments); for a case
    officer those they asked for (the last human step before the wait was theirs), for a
    team lead all."""
    waits = QueueEntry.objects.filter(is_wait=True).exclude(_barred(actor))
    if Role.TEAM_LEAD in user_roles(actor):
        return waits
    return waits.filter(asked_by=actor)


def _overdue(now: datetime) -> Q:
    """Overdue: a task waiting longer than QUEUE_TARGET_DAYS; a case at risk of passing its
    call's target time (FL 11 §: undecided and within RISK_MARGIN of it, or past it); a case
    whose applicant demanded a decision that is not yet answered (FL 12 §). Each from the
    row itself, through an index of its own."""
    today = timezone.localdate(now, STOCKHOLM)
    return (Q(created__lt=now - timedelta(days=QUEUE_TARGET_DAYS))
            | Q(target_on__lte=today + RISK_MARGIN, status__in=UNDECIDED)
            | Q(demanded=True))


def _kind_entries(*, actor, role: Role, kind: QueueKind, base: QuerySet[QueueEntry] | None = None,
                  now: datetime | None = None) -> QuerySet[QueueEntry]:
    """The rows of one kind of queue; `base` is the role's open rows when already built."""
    if kind not in queue_kinds(actor=actor, role=role):
        return QueueEntry.objects.none()
    if kind == QueueKind.WAITING:
        return _waiting_entries(actor=actor)
    entries = _open_entries(actor=actor, role=role) if base is None else base
    if kind == QueueKind.UNASSIGNED:
        return entries.filter(owner__isnull=True)
    if kind == QueueKind.MINE:
        return entries.filter(owner=actor)
    if kind == QueueKind.OVERDUE:
        return entries.filter(_overdue(now or timezone.now()))
    return entries


def requested_as_submitted():
    """The requested amount the applicant signed (SubmittedVersion.content's total), read
    through the expression index workflows_submitted_total (migration workflows 0004)."""
    return Cast(KT("content__total"), DecimalField(max_digits=14, decimal_places=2))


def _narrowing(queue_filter: QueueFilter) -> Q | None:
    """The filter's conditions on the queue's rows, or None when it filters nothing."""
    f = queue_filter
    conditions = Q()
    if f.call_id:
        conditions &= Q(call_id=f.call_id)
    if f.scheme_id:
        conditions &= Q(call__scheme_id=f.scheme_id)  # calls and organisations are small tables: joined
    if f.track_id:
        conditions &= Q(track_id=f.track_id)
    if f.status:
        conditions &= Q(status=f.status)
    if f.deadline_from:
        conditions &= Q(deadline__gte=f.deadline_from, deadline__lt=NO_DEADLINE)
    if f.deadline_to:
        conditions &= Q(deadline__lte=f.deadline_to)
    if f.kommunkod:
        conditions &= Q(organisation__kommunkod=f.kommunkod)
    if f.county:
        conditions &= Q(organisation__kommunkod__startswith=f.county)
    if f.amount_min is not None:
        conditions &= Q(requested__gte=f.amount_min)
    if f.amount_max is not None:
        conditions &= Q(requested__lte=f.amount_max)
    return conditions or None


@dataclass(frozen=True)
class QueueQuery:
    """One queue as the page reads it: the rows (unordered: what is counted), any search as
    alternatives for arenden.keyset's any_of, and the sort."""

    entries: QuerySet[QueueEntry]
    any_of: list[Q] | None
    sort: QueueSort
    narrowed: bool = False  # filtered or searched: its count is not its queue's (queue_kind_counts)

    @property
    def ordering(self) -> tuple[str, ...]:
        return SORT_ORDERS[self.sort]


def queue_query(*, actor, role: Role, kind: QueueKind = QueueKind.ALL, queue_filter: QueueFilter | None = None,
                sort: QueueSort = QueueSort.QUEUED) -> QueueQuery:
    """A role's queue of one kind, filtered and searched; page it with keyset_page(
    queue_page_entries(query), ordering=query.ordering, any_of=query.any_of), count it with queue_total."""
    queue_filter = queue_filter or QueueFilter()
    entries = _kind_entries(actor=actor, role=role, kind=kind)
    narrowing = _narrowing(queue_filter)
    if narrowing is not None:
        entries = entries.filter(narrowing)
    any_of = None
    if queue_filter.query:
        any_of = [Q(application_id__in=Application.objects.filter(q).values("pk")) for q in case_search(queue_filter.query)]
    return QueueQuery(entries=entries, any_of=any_of, sort=sort, narrowed=narrowing is not None or any_of is not None)


def queue_page_entries(query: QueueQuery) -> QuerySet[QueueEntry]:
    """What a queue page reads of each row: its task with the task's owner."""
    return query.entries.select_related("task", "task__owner").only(
        "task", "created", "application", "case", "status", "received", "deadline", "requested", "target_on",
        "demanded",
        "task__id", "task__flow_task", "task__flow_task_type", "task__status", "task__created",
        "task__owner_permission", "task__process_id", "task__owner__id", "task__owner__username",
        "task__owner__first_name", "task__owner__last_name",
    )


def queue_total(query: QueueQuery, *, limit: int) -> int:
    """The queue's rows, counted up to limit + 1 in the queue's own index order."""
    return count_up_to(query.entries, limit, ordering=QUEUE_ORDER, any_of=query.any_of)


# queue_kind_counts' statements by what they are built from: compiling five querysets costs
# more than running them, and a page asks for the same ones on every reload. Bounded.
_COUNT_STATEMENTS: dict[tuple, tuple[str, list]] = {}
_COUNT_STATEMENTS_MAX = 1024


def queue_kind_counts(*, actor, role: Role, limit: int) -> dict[QueueKind, int]:
    """Each queue of the role counted up to limit + 1 (the tabs), in one statement.

    The statement depends only on the actor, their roles, the role, the limit and the time
    (the overdue conditions); taken to the minute, the same page reloaded reuses it."""
    kinds = queue_kinds(actor=actor, role=role)
    now = timezone.now().replace(second=0, microsecond=0)
    key = (connection.alias, actor.pk, role, tuple(kinds), user_roles(actor), limit, now)
    statement = _COUNT_STATEMENTS.get(key)
    if statement is None:
        base = _open_entries(actor=actor, role=role)
        windows = [window_up_to(_kind_entries(actor=actor, role=role, kind=kind, base=base, now=now), limit,
                                ordering=QUEUE_ORDER) for kind in kinds]
        statement = _count_statement(windows)
        if len(_COUNT_STATEMENTS) >= _COUNT_STATEMENTS_MAX:
            _COUNT_STATEMENTS.clear()
        _COUNT_STATEMENTS[key] = statement
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return dict(zip(kinds, [int(n) for n in row], strict=True))


def _count_statement(querysets: Sequence[QuerySet]) -> tuple[str, list]:
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
    return f"SELECT {', '.join(parts)}", params


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
    case_ids = {row["entry"].case_id for row in rows}
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
        task, case_id = row["task"], row["entry"].case_id
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
