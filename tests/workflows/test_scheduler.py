"""The one scheduler for every clock (workflows/scheduler.py), on the real PostgreSQL.

Two schedulers at once (threads, and two `manage.py scheduler --once` processes) run each
due job once; a failing job is recorded and runs again at its next due time; every clock is
driven through time with the scheduler's own `now=`, running the real commands.
"""

import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from bidrag.models import Application
from bidrag.models.application import Status
from tests.harness.worker import MANAGE_PY, worker_environ
from workflows.models import ScheduledRun
from workflows.scheduler import Job, default_jobs, run_due

pytestmark = pytest.mark.django_db(transaction=True)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KEY = "test-only-journal-checkpoint-key-scheduler-0123456789"
ALL_JOBS = {"deliver_outbox", "letters_issue", "journal_checkpoint", "run_deadlines", "send_reminders",
            "attachments_cleanup", "productions_cleanup", "send_staff_digest"}


def at(text: str) -> datetime:
    """A wall-clock time in Stockholm, '2027-06-24 23:58'."""
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


@pytest.fixture
def checkpoints(settings, seaweedfs):
    """The journal checkpoint job can run: a test key, a prefix of this test's own in S3."""
    settings.JOURNAL_CHECKPOINT_KEY = KEY
    settings.JOURNAL_CHECKPOINT_PREFIX = f"test-checkpoints/{uuid.uuid4().hex}/"
    return settings


def ran(runs) -> set[str]:
    return {run.job for run in runs}


class Counting:
    """A job body that counts its calls and takes a moment, so that racers overlap."""

    def __init__(self, seconds=0.3, fail_first=0):
        self.calls = 0
        self.seconds = seconds
        self.fail_first = fail_first
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self.calls += 1
            call = self.calls
        time.sleep(self.seconds)
        if call <= self.fail_first:
            raise RuntimeError(f"SMTP relay refused us (call {call})")
        return f"call {call}\n"


def _race(count, target):
    """Run target() in `count` threads released at the same moment; each on its own connection."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def racer():
        try:
            barrier.wait()
            results.append(target())
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


# -- two schedulers at once ----------------------------------------------------------------


def test_two_schedulers_at_the_same_due_time_run_each_job_once():
    sweep, daily = Counting(), Counting()
    jobs = [
        Job(name="sweep", run=sweep, what="test", every=timedelta(minutes=5)),
        Job(name="daily", run=daily, what="test", daily_at=clock(0, 5)),
    ]
    now = at("2027-06-25 10:02")

    results = _race(2, lambda: run_due(now=now, jobs=jobs))

    assert (sweep.calls, daily.calls) == (1, 1)
    assert sorted(run.job for runs in results for run in runs) == ["daily", "sweep"]
    rows = ScheduledRun.objects.order_by("job")
    assert [(r.job, r.due_at, r.outcome) for r in rows] == [
        ("daily", at("2027-06-25 00:05"), ScheduledRun.Outcome.SUCCEEDED),
        ("sweep", at("2027-06-25 10:00"), ScheduledRun.Outcome.SUCCEEDED),
    ]
    assert all(r.finished_at >= r.started_at and r.output == "call 1\n" for r in rows)


def test_two_scheduler_processes_run_each_real_job_once(checkpoints, make_application):
    waiting = make_application(to=Status.AWAITING_SUPPLEMENT)
    Application.objects.filter(pk=waiting.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    # Both processes must see the same five-minute due time: start clear of a boundary.
    while (seconds := timezone.now().timestamp() % 300) > 270 or seconds < 2:
        time.sleep(1)
    env = worker_environ(
        {"JOURNAL_CHECKPOINT_KEY": KEY, "JOURNAL_CHECKPOINT_PREFIX": checkpoints.JOURNAL_CHECKPOINT_PREFIX}
    )
    command = [sys.executable, str(MANAGE_PY), "scheduler", "--once", "--skip-checks"]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]

    assert [process.returncode for process in processes] == [0, 0], outputs
    rows = list(ScheduledRun.objects.all())
    assert sorted(row.job for row in rows) == sorted(ALL_JOBS), outputs
    assert {row.outcome for row in rows} == {ScheduledRun.Outcome.SUCCEEDED}, [row.error for row in rows]
    # The deadline clock returned the case once: one journal event, not two.
    waiting.refresh_from_db()
    assert waiting.status == Status.IN_REVIEW
    assert waiting.case.journal.filter(action="deadline_passed").count() == 1
    # Whoever ran what, it was run by one of the two.
    assert len({row.claimed_by.split(":")[1] for row in rows}) in (1, 2)


# -- failures -------------------------------------------------------------------------------


def test_a_failing_job_is_recorded_and_retried_at_its_next_due_time():
    relay = Counting(seconds=0, fail_first=1)
    jobs = [Job(name="sweep", run=relay, what="test", every=timedelta(minutes=5))]

    [first] = run_due(now=at("2027-06-25 10:01"), jobs=jobs)
    assert first.outcome == ScheduledRun.Outcome.FAILED
    row = ScheduledRun.objects.get(pk=first.pk)
    assert row.outcome == ScheduledRun.Outcome.FAILED and row.finished_at is not None
    assert row.error.startswith("RuntimeError: SMTP relay refused us (call 1)") and "Traceback" in row.error

    # Not again for the same due time, however often the scheduler looks ...
    assert run_due(now=at("2027-06-25 10:04"), jobs=jobs) == []
    assert relay.calls == 1
    # ... but at the next one, and the failed run stays on record.
    [second] = run_due(now=at("2027-06-25 10:05"), jobs=jobs)
    assert second.outcome == ScheduledRun.Outcome.SUCCEEDED and relay.calls == 2
    assert list(ScheduledRun.objects.order_by("due_at").values_list("outcome", flat=True)) == ["failed", "succeeded"]


def test_scheduler_once_exits_with_an_error_naming_the_failed_job(settings):
    settings.JOURNAL_CHECKPOINT_KEY = ""  # production without its key: the checkpoint job must fail, loudly
    settings.JOURNAL_CHECKPOINT_BUCKET = "somewhere"
    with pytest.raises(CommandError, match="journal_checkpoint"):
        call_command("scheduler", "--once")
    failed = ScheduledRun.objects.get(job="journal_checkpoint")
    assert failed.outcome == ScheduledRun.Outcome.FAILED and "JOURNAL_CHECKPOINT_KEY" in failed.error
    others = ScheduledRun.objects.exclude(job="journal_checkpoint")
    assert {r.outcome for r in others} == {ScheduledRun.Outcome.SUCCEEDED}  # one failure stops no other job


def test_a_run_left_running_by_a_dead_scheduler_is_abandoned_and_the_job_runs_again():
    sweep = Counting(seconds=0)
    jobs = [Job(name="sweep", run=sweep, what="test", every=timedelta(minutes=5), timeout=timedelta(minutes=30))]
    now = timezone.now()
    dead = ScheduledRun.objects.create(
        job="sweep", due_at=now - timedelta(hours=2), started_at=now - timedelta(hours=2), claimed_by="gone:1:1"
    )
    [run] = run_due(now=now, jobs=jobs)
    dead.refresh_from_db()
    assert dead.outcome == ScheduledRun.Outcome.ABANDONED and "stopped before it recorded" in dead.error
    assert run.outcome == ScheduledRun.Outcome.SUCCEEDED and sweep.calls == 1


def test_a_run_still_going_holds_back_the_next_due_time_until_it_ends():
    sweep = Counting(seconds=0)
    jobs = [Job(name="sweep", run=sweep, what="test", every=timedelta(minutes=5))]
    now = timezone.now()
    going = ScheduledRun.objects.create(
        job="sweep", due_at=now - timedelta(minutes=5), started_at=now - timedelta(minutes=4), claimed_by="busy:1:1"
    )
    assert run_due(now=now, jobs=jobs) == [] and sweep.calls == 0
    ScheduledRun.objects.filter(pk=going.pk).update(outcome=ScheduledRun.Outcome.SUCCEEDED, finished_at=now)
    assert ran(run_due(now=now, jobs=jobs)) == {"sweep"} and sweep.calls == 1


# -- every clock, through time ---------------------------------------------------------------


def test_every_clock_fires_at_its_due_times(checkpoints):
    # The first look runs every job once, for its latest due time.
    assert ran(run_due(now=at("2027-06-24 23:58"))) == ALL_JOBS
    assert run_due(now=at("2027-06-24 23:59")) == []
    # Midnight: a five-minute sweep, the ten-minute letter sweep and the hourly checkpoint.
    assert ran(run_due(now=at("2027-06-25 00:00"))) == {"deliver_outbox", "letters_issue", "journal_checkpoint"}
    assert run_due(now=at("2027-06-25 00:04:59")) == []
    # 00:05 Stockholm: the deadline clock, with the sweep.
    assert ran(run_due(now=at("2027-06-25 00:05"))) == {"deliver_outbox", "run_deadlines"}
    assert ran(run_due(now=at("2027-06-25 00:07"))) == set()
    # A scheduler away from 00:07 to 03:31 runs each job once, for its latest due time only.
    assert ran(run_due(now=at("2027-06-25 03:31"))) == {
        "deliver_outbox", "letters_issue", "journal_checkpoint", "attachments_cleanup"}
    # The next day's deadline clock, not before.
    assert "run_deadlines" not in ran(run_due(now=at("2027-06-26 00:04")))
    assert "run_deadlines" in ran(run_due(now=at("2027-06-26 00:05")))

    runs = ScheduledRun.objects.filter(job="run_deadlines").order_by("due_at")
    assert [timezone.localtime(r.due_at) for r in runs] == [
        at("2027-06-24 00:05"), at("2027-06-25 00:05"), at("2027-06-26 00:05")
    ]
    assert {r.outcome for r in ScheduledRun.objects.all()} == {ScheduledRun.Outcome.SUCCEEDED}
    assert "case(s) returned to handling" in runs.last().output
    assert "Checkpoint s3://" in ScheduledRun.objects.filter(job="journal_checkpoint").last().output
    assert "Attachments cleanup:" in ScheduledRun.objects.get(job="attachments_cleanup", due_at=at("2027-06-25 03:30")).output


def test_the_deadline_clock_returns_a_passed_case_when_it_runs(make_application):
    waiting = make_application(to=Status.AWAITING_SUPPLEMENT)
    Application.objects.filter(pk=waiting.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    deadlines = [job for job in default_jobs() if job.name == "run_deadlines"]
    [run] = run_due(jobs=deadlines)
    assert run.outcome == ScheduledRun.Outcome.SUCCEEDED and "1 case(s)" in run.output
    waiting.refresh_from_db()
    assert waiting.status == Status.IN_REVIEW
    assert run_due(jobs=deadlines) == []  # once a day


def test_the_quick_start_without_s3_skips_the_checkpoint_and_production_does_not(settings):
    settings.DEBUG, settings.JOURNAL_CHECKPOINT_BUCKET = True, ""
    assert "journal_checkpoint" not in ran(run_due(now=at("2027-06-25 10:00")))
    settings.DEBUG = False
    assert [job.name for job in default_jobs() if job.enabled()] == [job.name for job in default_jobs()]


@pytest.mark.parametrize(
    ("now", "due", "next_due"),
    [
        # Summer time starts 2027-03-28 at 02:00 (to 03:00), ends 2027-10-31 at 03:00 (to 02:00).
        ("2027-03-28 03:29", "2027-03-27 03:30", "2027-03-28 03:30"),
        ("2027-03-28 03:30", "2027-03-28 03:30", "2027-03-29 03:30"),
        ("2027-10-31 03:31", "2027-10-31 03:30", "2027-11-01 03:30"),
    ],
)
def test_a_daily_job_keeps_to_stockholm_wall_clock_time_across_summer_time(now, due, next_due):
    job = Job(name="daily", run=lambda: "", what="test", daily_at=clock(3, 30))
    assert job.due_at(at(now)) == at(due) and job.next_due(at(now)) == at(next_due)
    assert job.due_at(at(now)).tzinfo == UTC


def test_scheduler_status_lists_every_job_and_its_last_runs(checkpoints, capsys):
    call_command("scheduler", "--once")
    call_command("scheduler", "--status")
    out = capsys.readouterr().out
    for name in ALL_JOBS:
        assert name in out
    assert "daily 00:05 Europe/Stockholm" in out and "every 5 min" in out and "succeeded" in out


def test_the_long_running_scheduler_runs_due_jobs_and_stops_on_sigterm(checkpoints):
    env = worker_environ(
        {"JOURNAL_CHECKPOINT_KEY": KEY, "JOURNAL_CHECKPOINT_PREFIX": checkpoints.JOURNAL_CHECKPOINT_PREFIX}
    )
    process = subprocess.Popen(
        [sys.executable, str(MANAGE_PY), "scheduler", "--skip-checks", "--poll-seconds", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while ScheduledRun.objects.exclude(outcome=ScheduledRun.Outcome.RUNNING).count() < len(ALL_JOBS):
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the scheduler ran nothing within 60 s"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "Scheduler started" in output and "Scheduler stopped." in output
    assert {r.outcome for r in ScheduledRun.objects.all()} == {ScheduledRun.Outcome.SUCCEEDED}


def test_once_stopped_a_scheduler_starts_no_further_job_of_its_tick():
    stop = threading.Event()
    second = Counting(seconds=0)

    def first():
        stop.set()  # SIGTERM arrives while this job runs
        return "done\n"

    jobs = [
        Job(name="first", run=first, what="test", every=timedelta(minutes=5)),
        Job(name="second", run=second, what="test", every=timedelta(minutes=5)),
    ]
    assert ran(run_due(now=at("2027-06-25 10:00"), jobs=jobs, stop=stop)) == {"first"}
    assert second.calls == 0 and ScheduledRun.objects.get().outcome == ScheduledRun.Outcome.SUCCEEDED
