import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from workflows.models import ScheduledRun
from workflows.scheduler import default_jobs, run_due, serve


class Command(BaseCommand):
    help = (
        "Run every clock of the system (outbox sweep, deadlines, attachment cleanup, journal "
        "checkpoints; workflows/scheduler.py) at its due times until stopped. Any number may run "
        "at once: each due run fires once. --once runs what is due now and exits (cron, tests)."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="run the jobs due now, then exit (1 if one failed)")
        mode.add_argument("--status", action="store_true", help="list the jobs, their schedule and last runs")
        parser.add_argument(
            "--poll-seconds", type=float, default=30.0, help="look for due jobs at least this often (default 30)"
        )

    def handle(self, *args, once=False, status=False, poll_seconds=30.0, **options):
        if status:
            self._status()
            return
        if once:
            runs = run_due()
            for run in runs:
                self.stdout.write(f"{run.job} (due {timezone.localtime(run.due_at):%Y-%m-%d %H:%M}): {run.outcome}")
            failed = [run.job for run in runs if run.outcome == ScheduledRun.Outcome.FAILED]
            if failed:
                raise CommandError(f"Failed: {', '.join(failed)} (their errors are on the runs; --status).")
            if not runs:
                self.stdout.write("Nothing due.")
            return
        stop = threading.Event()

        def stop_after_this_job(signum, frame):
            stop.set()  # a job already running finishes and is recorded first

        signal.signal(signal.SIGTERM, stop_after_this_job)
        signal.signal(signal.SIGINT, stop_after_this_job)
        self.stdout.write(f"Scheduler started: {', '.join(f'{job.name} ({job.schedule})' for job in default_jobs())}.")
        serve(stop=stop, poll_seconds=poll_seconds)
        self.stdout.write("Scheduler stopped.")

    def _status(self):
        now = timezone.now()
        for job in default_jobs():
            state = "" if job.enabled() else " [off here]"
            self.stdout.write(
                f"{job.name}: {job.schedule}, next {timezone.localtime(job.next_due(now)):%Y-%m-%d %H:%M}{state}"
                f" - {job.what}"
            )
            for run in ScheduledRun.objects.filter(job=job.name).order_by("-due_at")[:3]:
                finished = f"{timezone.localtime(run.finished_at):%H:%M:%S}" if run.finished_at else "-"
                first_error_line = run.error.splitlines()[0] if run.error else ""
                self.stdout.write(
                    f"    due {timezone.localtime(run.due_at):%Y-%m-%d %H:%M} "
                    f"started {timezone.localtime(run.started_at):%H:%M:%S} finished {finished} "
                    f"{run.outcome} {run.claimed_by} {first_error_line}".rstrip()
                )
