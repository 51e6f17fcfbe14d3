"""One scheduler for every clock of the system (issue 8).

Every job that runs on a clock is declared here, in `default_jobs()`, and nowhere else:
the outbox sweep every few minutes, the deadline clock, the reminders and the orphan cleanup daily, the
journal checkpoint hourly. `manage.py scheduler` runs them (a long-running process, or
`--once` from cron); any number of schedulers may run at the same time, on one host or many.

Each job has due times: an interval job every `every` counted from the Unix epoch (so every
five minutes means :00, :05, …), a daily job at a wall-clock time in Europe/Stockholm. At any
moment a job's due time is the latest one not after now; it fires once per due time:

* The claim is a row, `ScheduledRun(job, due_at)`, under a unique constraint. The scheduler
  that inserts it runs the job; every other one gets an IntegrityError and skips it. The
  claim commits before the job starts, so it holds whatever the job does and however long.
* The row is the operator's record: started, finished, outcome (running, succeeded, failed,
  abandoned), the command's output and the error with its traceback.
* A failed run stays failed; the job runs again at its next due time (a new row). A
  scheduler that was stopped for a day runs each job once when it comes back, for the
  latest due time only: the jobs catch up by themselves (every one of them handles all
  that is due, not one period's share).
* While a job's run is still going, a scheduler does not start another run of that job;
  the due time is claimed as soon as the run ends (so a slow sweep delays, never doubles).
  A run still marked running after the job's `timeout` belonged to a scheduler that died:
  it is marked abandoned and the job runs again.

The jobs are the management commands themselves, called through call_command: each one
keeps its own guarantees (the outbox's SKIP LOCKED claims, the door's locks for deadlines),
so even two runs at once would be safe; the claim makes it one.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from .models import ScheduledRun

logger = logging.getLogger("workflows.scheduler")

STOCKHOLM = ZoneInfo("Europe/Stockholm")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_TEXT = 20_000  # characters of output or traceback kept on a run


def command(name: str, *args: str) -> Callable[[], str]:
    """A job that runs `manage.py name args…` and returns what it printed."""

    def run() -> str:
        out = io.StringIO()
        call_command(name, *args, stdout=out, stderr=out)
        return out.getvalue()

    run.__name__ = name
    return run


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], str]
    what: str
    every: timedelta | None = None  # an interval job: every this long, from the Unix epoch
    daily_at: time | None = None  # a daily job: at this wall-clock time in Europe/Stockholm
    timeout: timedelta = timedelta(hours=1)  # a run still "running" after this was abandoned
    enabled: Callable[[], bool] = field(default=_always)

    def __post_init__(self) -> None:
        if (self.every is None) == (self.daily_at is None):
            raise ValueError(f"job {self.name}: give exactly one of every= and daily_at=")
        if self.every is not None and self.every <= timedelta(0):
            raise ValueError(f"job {self.name}: every= must be positive")

    def due_at(self, now: datetime) -> datetime:
        """The latest due time not after `now` (aware)."""
        if self.every is not None:
            return _EPOCH + ((now - _EPOCH) // self.every) * self.every
        assert self.daily_at is not None
        local = now.astimezone(STOCKHOLM)
        due = datetime.combine(local.date(), self.daily_at, tzinfo=STOCKHOLM)
        if due > now:
            due = datetime.combine(local.date() - timedelta(days=1), self.daily_at, tzinfo=STOCKHOLM)
        return due.astimezone(UTC)

    def next_due(self, now: datetime) -> datetime:
        """The first due time after `now`."""
        if self.every is not None:
            return self.due_at(now) + self.every
        assert self.daily_at is not None
        local = now.astimezone(STOCKHOLM)
        due = datetime.combine(local.date(), self.daily_at, tzinfo=STOCKHOLM)
        if due <= now:
            due = datetime.combine(local.date() + timedelta(days=1), self.daily_at, tzinfo=STOCKHOLM)
        return due.astimezone(UTC)

    @property
    def schedule(self) -> str:
        if self.every is not None:
            minutes = self.every.total_seconds() / 60
            return f"every {minutes:g} min"
        assert self.daily_at is not None
        return f"daily {self.daily_at:%H:%M} Europe/Stockholm"


def _checkpoint_bucket_or_production() -> bool:
    # The quick start (DEBUG, local files) has no S3 to write checkpoints to; in production a
    # missing bucket or key must show, as a failed run, not be skipped.
    return bool(settings.JOURNAL_CHECKPOINT_BUCKET) or not settings.DEBUG


def default_jobs() -> tuple[Job, ...]:
    """Every clock of the system, in the order a tick runs them (the most frequent first)."""
    return (
        Job(
            name="deliver_outbox",
            run=command("deliver_outbox"),
            what="Send due e-mail whose task was lost, take over messages whose worker died, requeue dead workers' tasks.",
            every=timedelta(minutes=settings.SCHEDULER_OUTBOX_SWEEP_MINUTES),
        ),
        Job(
            name="letters_issue",
            run=command("letters_issue"),
            what="Store the letter of any decision still without one (its task was lost or failed).",
            every=timedelta(minutes=10),
        ),
        Job(
            name="journal_checkpoint",
            run=command("journal_checkpoint"),
            what="Verify the journal and write a signed checkpoint of every chain's head to S3.",
            every=timedelta(hours=1),
            enabled=_checkpoint_bucket_or_production,
        ),
        Job(
            name="run_deadlines",
            run=command("run_deadlines"),
            what="Return cases whose supplement or comment deadline has passed to the case officer.",
            daily_at=time(0, 5),
            timeout=timedelta(hours=6),
        ),
        Job(
            name="send_reminders",
            run=command("send_reminders"),
            what="Remind applicants of deadlines (7 and 1 days before) and final reports (30 and 7 days before, overdue).",
            daily_at=time(7, 0),
            timeout=timedelta(hours=6),
        ),
        Job(
            name="send_staff_digest",
            run=command("send_staff_digest"),
            what="Notices of cases reaching the FL 12 § six-month mark; each member of staff's daily digest e-mail.",
            daily_at=time(6, 30),
            timeout=timedelta(hours=6),
        ),
        Job(
            name="attachments_cleanup",
            run=command("attachments_cleanup"),
            what="Remove attachment objects in S3 that no attachment refers to, after the grace period.",
            daily_at=time(3, 30),
            timeout=timedelta(hours=6),
        ),
        Job(
            name="productions_cleanup",
            run=command("productions_cleanup"),
            what="Remove produced ZIPs (Lämna ut handlingar) in S3 that no journal event records, after the grace period.",
            daily_at=time(3, 45),
            timeout=timedelta(hours=6),
        ),
    )


def scheduler_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _abandon_stale(job: Job) -> None:
    cutoff = timezone.now() - job.timeout
    ScheduledRun.objects.filter(job=job.name, outcome=ScheduledRun.Outcome.RUNNING, started_at__lt=cutoff).update(
        outcome=ScheduledRun.Outcome.ABANDONED,
        finished_at=timezone.now(),
        error=f"Still running after {job.timeout}: the scheduler that ran it stopped before it recorded the end.",
    )


def _claim(job: Job, due: datetime, claimed_by: str) -> ScheduledRun | None:
    """The run of `job` for `due`, if this scheduler is the one to run it; else None."""
    _abandon_stale(job)
    if ScheduledRun.objects.filter(job=job.name, due_at=due).exists():
        return None  # run (or running) already; the constraint below would say the same
    if ScheduledRun.objects.filter(job=job.name, outcome=ScheduledRun.Outcome.RUNNING).exists():
        return None  # an earlier due time's run is still going: claim when it ends
    try:
        with transaction.atomic():
            return ScheduledRun.objects.create(
                job=job.name, due_at=due, started_at=timezone.now(), claimed_by=claimed_by[:255]
            )
    except IntegrityError:
        return None  # another scheduler claimed it a moment ago


def _execute(job: Job, run: ScheduledRun) -> ScheduledRun:
    logger.info("scheduler: %s (due %s) started", job.name, run.due_at.isoformat())
    try:
        output = job.run() or ""
    except Exception as exc:  # noqa: BLE001 - any failure of a job is recorded, and the next due time retries
        run.outcome = ScheduledRun.Outcome.FAILED
        run.error = (f"{type(exc).__name__}: {exc}\n\n" + traceback.format_exc())[-_MAX_TEXT:]
        run.output = ""
        logger.exception("scheduler: %s (due %s) failed", job.name, run.due_at.isoformat())
    else:
        run.outcome = ScheduledRun.Outcome.SUCCEEDED
        run.output = output[-_MAX_TEXT:]
        logger.info("scheduler: %s (due %s) succeeded", job.name, run.due_at.isoformat())
    run.finished_at = timezone.now()
    run.save(update_fields=["outcome", "output", "error", "finished_at"])
    return run


def run_due(
    *,
    now: datetime | None = None,
    jobs: Sequence[Job] | None = None,
    claimed_by: str | None = None,
    stop: threading.Event | None = None,
) -> list[ScheduledRun]:
    """Run every job whose latest due time (at `now`, default the real time) has no run yet.

    Returns the runs this call made, finished (succeeded or failed). Jobs run one after
    another in this thread; a job's failure is recorded and the next job still runs. Once
    `stop` is set no further job starts (the one running finishes and is recorded).
    """
    now = now or timezone.now()
    identity = claimed_by or scheduler_identity()
    runs = []
    for job in default_jobs() if jobs is None else jobs:
        if stop is not None and stop.is_set():
            break
        if not job.enabled():
            continue
        run = _claim(job, job.due_at(now), identity)
        if run is not None:
            runs.append(_execute(job, run))
    return runs


def seconds_until_next(*, now: datetime | None = None, jobs: Sequence[Job] | None = None) -> float:
    now = now or timezone.now()
    upcoming = [job.next_due(now) for job in (default_jobs() if jobs is None else jobs) if job.enabled()]
    return max(0.0, (min(upcoming) - now).total_seconds()) if upcoming else float("inf")


def serve(*, stop: threading.Event, poll_seconds: float = 30.0, jobs: Sequence[Job] | None = None) -> None:
    """Run due jobs until `stop` is set: at each due time, and every `poll_seconds` at least
    (a run that was still going, or another scheduler's clock, may leave a due time open)."""
    while not stop.is_set():
        try:
            run_due(jobs=jobs, stop=stop)
        except Exception:  # noqa: BLE001 - e.g. the database away for a moment; try again at the next tick
            logger.exception("scheduler: a tick failed")
        finally:
            close_old_connections()
        stop.wait(max(1.0, min(poll_seconds, seconds_until_next(jobs=jobs))))
