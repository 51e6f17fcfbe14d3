"""The queues' rows (workflows.models.QueueEntry): each open task beside what its queue
filters and sorts by, so that every sort is an index walked from the cursor (issue 7).

The rows are derived. `queue_sync` rewrites one application's rows from viewflow's task
table and the application, inside the transaction of every door action that changes
either (workflows.door); `queue_rebuild` does it for many at once (the migration, a bulk
seed, `manage.py queue_rebuild`), and `queue_drift` says where the rows differ from what
they should be (tested after every step of the flow; the command prints it).
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import DecimalField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from bidrag.models import Application, DecisionDemand, SubmittedVersion

from .models import QueueEntry

# The steps where the case waits for the applicant's answer (workflows.flows' Waits).
WAITING_NODES = ("await_supplement", "await_comments")
NO_DEADLINE = date(9999, 12, 31)
NOT_RECEIVED = datetime(1970, 1, 1, tzinfo=UTC)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
BATCH = 2000

_FIELDS = ("task", "permission", "is_wait", "owner", "asked_by", "created", "application", "case", "organisation",
           "call", "track", "status", "received", "deadline", "requested", "target_on", "demanded")


def _open() -> Q:
    """The tasks with a queue row: open human tasks, and the applicant's open waits."""
    from .flows import ApplicationFlow

    waits = [getattr(ApplicationFlow, name) for name in WAITING_NODES]
    return (Q(flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED])
            | Q(flow_task_type="FUNCTION", status=STATUS.NEW, flow_task__in=waits))


def _expected(application_ids: Iterable) -> list[QueueEntry]:
    """The rows the applications' open tasks should have, computed from scratch."""
    ids = list(application_ids)
    applications = {
        row["pk"]: row
        for row in Application.objects.filter(pk__in=ids).values(
            "pk", "case_id", "organisation_id", "call_id", "track_id", "status", "submitted_at", "deadline",
            "process__pk", "call__target_days",
        )
    }
    demanded = set(DecisionDemand.objects.filter(application_id__in=ids, answer=DecisionDemand.Answer.OPEN)
                   .values_list("application_id", flat=True))
    # As submitted: the total the applicant signed (SubmittedVersion.content).
    requested = dict(
        SubmittedVersion.objects.filter(application_id__in=ids)
        .annotate(total=Cast(KT("content__total"), DecimalField(max_digits=14, decimal_places=2)))
        .values_list("application_id", "total")
    )
    by_process = {row["process__pk"]: row for row in applications.values() if row["process__pk"] is not None}
    if not by_process:
        return []
    tasks = list(
        Task.objects.filter(_open(), process_id__in=list(by_process))
        .values("pk", "process_id", "flow_task_type", "owner_permission", "owner_id", "created")
    )
    asked = {}
    if any(t["flow_task_type"] == "FUNCTION" for t in tasks):
        # Who asked: the owner of the case's latest human task before the wait.
        for process_id, owner_id in (
            Task.objects.filter(process_id__in=[t["process_id"] for t in tasks if t["flow_task_type"] == "FUNCTION"],
                                flow_task_type="HUMAN", owner__isnull=False)
            .order_by("process_id", "-created", "-pk").values_list("process_id", "owner_id")
        ):
            asked.setdefault(process_id, owner_id)
    entries = []
    for task in tasks:
        app = by_process[task["process_id"]]
        wait = task["flow_task_type"] == "FUNCTION"
        entries.append(QueueEntry(
            task_id=task["pk"], permission="" if wait else (task["owner_permission"] or ""), is_wait=wait,
            owner_id=None if wait else task["owner_id"], asked_by_id=asked.get(task["process_id"]) if wait else None,
            created=task["created"], application_id=app["pk"], case_id=app["case_id"],
            organisation_id=app["organisation_id"], call_id=app["call_id"], track_id=app["track_id"],
            status=app["status"], received=app["submitted_at"] or NOT_RECEIVED, deadline=app["deadline"] or NO_DEADLINE,
            requested=requested.get(app["pk"]) or Decimal("0"),
            target_on=_target_on(app["submitted_at"], app["call__target_days"]),
            demanded=app["pk"] in demanded,
        ))
    return entries


def _target_on(received: datetime | None, target_days: int) -> date:
    """FL 9 §: the day Brå aims to have decided by, as bidrag.services.clocks.target_date counts it."""
    if received is None:
        return NO_DEADLINE
    return timezone.localdate(received, STOCKHOLM) + timedelta(days=target_days)


def queue_sync(application_id) -> None:
    """Rewrite the application's queue rows; inside the caller's transaction (the door's)."""
    QueueEntry.objects.filter(application_id=application_id).delete()
    QueueEntry.objects.bulk_create(_expected([application_id]))


def queue_rebuild(application_ids: Iterable | None = None) -> int:
    """Rewrite the rows of these applications (of every submitted one when None), in
    batches; returns how many rows there are now."""
    if application_ids is None:
        QueueEntry.objects.all().delete()
        application_ids = Application.objects.filter(process__isnull=False).values_list("pk", flat=True)
    ids = list(application_ids)
    written = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        QueueEntry.objects.filter(application_id__in=chunk).delete()
        written += len(QueueEntry.objects.bulk_create(_expected(chunk), batch_size=BATCH))
    return written


def _as_tuple(entry: QueueEntry) -> tuple:
    return tuple(getattr(entry, f"{name}_id" if name in {"task", "owner", "asked_by", "application", "case",
                                                          "organisation", "call", "track"} else name)
                 for name in _FIELDS)


def queue_drift(application_ids: Iterable | None = None) -> list[str]:
    """Where the stored rows differ from what they should be: one line per task, empty when
    none. Of these applications, or of every application with a process."""
    if application_ids is None:
        application_ids = Application.objects.filter(process__isnull=False).values_list("pk", flat=True)
    ids = list(application_ids)
    problems = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        expected = {e.task_id: _as_tuple(e) for e in _expected(chunk)}
        stored = {e.task_id: _as_tuple(e) for e in QueueEntry.objects.filter(application_id__in=chunk)}
        for task_id in sorted(expected.keys() | stored.keys()):
            if expected.get(task_id) != stored.get(task_id):
                problems.append(f"task {task_id}: stored {stored.get(task_id)}, expected {expected.get(task_id)}")
    return problems
