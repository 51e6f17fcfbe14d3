"""The outbox on the RQ task backend (issue 8, scale-out): the same guarantees as on the
database backend, against a real Redis (a database of its own per test run) and real
``manage.py rqworker`` processes, delivering to a real SMTP server on loopback.

* tasks reach Redis only when the transaction that wrote their rows commits, never on a
  rollback; a Redis that does not answer at that moment costs nothing but a delay;
* every message arrives once; an SMTP outage delays them and loses or doubles none;
* a worker SIGKILLed with its work horse mid-send (a host dying) and restarted: RQ does not
  run the dead job again (it ends FAILED, abandoned); the outbox lease does what it does on
  the database backend, and every message arrives, the one in flight at most twice, as
  ``1 + unconfirmed_attempts`` states.

Redis is required: without one, every test here fails and says how to start it. The fixtures
``redis_database`` and ``rq_backend`` are in ``conftest.py``, where the tests that use
``task_worker`` run on this backend too.
"""

import io
import subprocess
import sys
import time

import django_rq
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from rq.job import Job

from notifications.models import OutboxMessage
from notifications.services import enqueue_with_this_transaction, outbox_deliver_due, outbox_enqueue
from notifications.tasks import deliver_outbox_message
from tests.harness.ports import free_port
from tests.harness.rq_worker import RQ_BACKEND, RedisDatabase, RedisUnavailable, RQWorker
from tests.harness.worker import BASE_DIR, MANAGE_PY, worker_environ

from .servers import MisbehavingSMTPServer

Status = OutboxMessage.Status


@pytest.fixture
def rq_worker(transactional_db, rq_backend, tmp_path):
    worker = RQWorker(rq_backend, tmp_path)
    yield worker
    worker.stop()


def _aim(settings, server) -> None:
    """The default mailer (and so a worker started after this) pointed at ``server``."""
    options = {"host": server.host, "port": server.port, "use_tls": False, "use_ssl": False}
    settings.MAILERS = {**settings.MAILERS, "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                                        "OPTIONS": options}}


def _messages(count: int) -> list[OutboxMessage]:
    return [
        outbox_enqueue(kind="test", reference="test:rq", recipients=[f"mottagare{i}@example.se"],
                       subject=f"Prov {i}", body="Prov")[0]
        for i in range(count)
    ]


def _rows() -> str:
    return "outbox: " + repr(list(OutboxMessage.objects.values_list("status", "attempts", "next_attempt_at",
                                                                    "last_error")))


def _queue():
    return django_rq.get_queue("default")


def _result(job_id: str):
    return deliver_outbox_message.get_backend().get_result(job_id)


def test_without_redis_the_tests_fail_saying_how_to_start_it():
    with pytest.raises(RedisUnavailable) as failure:
        RedisDatabase(f"redis://127.0.0.1:{free_port()}/0").claim()
    assert "Redis is required" in str(failure.value)
    assert "redis-server --bind 127.0.0.1 --port 6379" in str(failure.value)


def test_tasks_backend_rq_passes_the_system_checks(rq_backend):
    """TASKS_BACKEND=django_tasks_rq.RQBackend is enough: django_rq is installed with it and
    the queue every task uses is configured (the backend's own checks)."""
    env = worker_environ({"TASKS_BACKEND": RQ_BACKEND, "REDIS_URL": rq_backend.url})
    check = subprocess.run(
        [sys.executable, str(MANAGE_PY), "shell", "-c",
         "from django.core.management import call_command; from django.tasks import task_backends; b = task_backends['default']; "
         "call_command('check', fail_level='WARNING'); print(type(b).__module__, sorted(b.queues))"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "django_tasks_rq.backend ['default']" in check.stdout


def test_tasks_reach_redis_only_when_their_transaction_commits(transactional_db, rq_backend):
    with transaction.atomic():
        [message] = _messages(1)
        enqueue_with_this_transaction(deliver_outbox_message, message.pk)
        assert _queue().count == 0  # nothing a worker could run before the row is visible
    assert _queue().count == 2

    with pytest.raises(RuntimeError), transaction.atomic():
        _messages(1)
        enqueue_with_this_transaction(deliver_outbox_message, message.pk)
        raise RuntimeError("rolled back")
    assert _queue().count == 2
    assert [Job.fetch(i, connection=_queue().connection).args for i in _queue().job_ids] == [(str(message.pk),)] * 2


def test_a_deferred_task_is_never_due_in_rq_before_its_row_is(transactional_db, rq_backend):
    """RQ keeps a deferred task's time in whole seconds, rounded down; a retry queued for
    12:00:00.9 must not run at 12:00:00, find its message not yet due and do nothing (the
    message would wait for the sweep; the outage test lost its retry that way)."""
    [message] = _messages(1)
    run_after = timezone.now().replace(microsecond=900_000) + timezone.timedelta(seconds=30)
    enqueue_with_this_transaction(deliver_outbox_message, message.pk, run_after=run_after)
    [(_job_id, score)] = rq_backend.client().zrange("rq:scheduled:default", 0, -1, withscores=True)
    assert score >= run_after.timestamp()
    assert score - run_after.timestamp() < 1


def test_a_redis_that_does_not_answer_at_commit_leaves_the_change_for_the_sweep(transactional_db, settings, caplog):
    """The change commits and the caller sees no error; the row waits for the scheduler's
    outbox sweep, which delivers it (its own watchdog cannot be queued either, and need not)."""
    settings.RQ_QUEUES = {"default": {**settings.RQ_QUEUES["default"], "URL": f"redis://127.0.0.1:{free_port()}/0"}}
    settings.TASKS = {"default": {"BACKEND": RQ_BACKEND}}
    with MisbehavingSMTPServer() as server:
        _aim(settings, server)
        with transaction.atomic():
            [message] = _messages(1)
        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.PENDING, 0)
        assert "ConnectionError" in caplog.text

        assert outbox_deliver_due() == 1
        assert server.copies() == {message.message_id: 1}
    message.refresh_from_db()
    assert message.status == Status.SENT


def test_messages_arrive_through_redis_and_an_rq_worker(settings, rq_worker):
    with MisbehavingSMTPServer() as server:
        _aim(settings, server)
        messages = _messages(5)
        job_ids = list(_queue().job_ids)
        assert len(job_ids) == 5 and {_result(i).status for i in job_ids} == {TaskResultStatus.READY}

        rq_worker.start()
        rq_worker.wait_until(lambda: OutboxMessage.objects.filter(status=Status.SENT).count() == 5)
        assert server.copies() == {m.message_id: 1 for m in messages}
    rq_worker.wait_until(lambda: {_result(i).status for i in job_ids} == {TaskResultStatus.SUCCESSFUL})
    assert set(OutboxMessage.objects.values_list("attempts", "unconfirmed_attempts")) == {(1, 0)}
    # Each claim queued its lease watchdog on RQ's scheduler, for when the lease would end: the
    # first job claimed its own message, then the four others due in one batch; the other
    # jobs found their messages sent and claimed nothing.
    assert _queue().scheduled_job_registry.count == 2


def test_smtp_outage_then_recovery_on_rq_loses_and_doubles_nothing(settings, rq_worker):
    """SMTP refuses connections for a while: the retries wait in RQ's scheduler with growing
    backoff, and once the server is back every message arrives once."""
    server = MisbehavingSMTPServer()  # its port chosen, nothing listening on it yet
    _aim(settings, server)
    rq_worker.extra_env = {"OUTBOX_RETRY_SECONDS": "0.5", "OUTBOX_MAX_ATTEMPTS": "8"}
    messages = _messages(3)
    rq_worker.start()
    try:
        rq_worker.wait_until(
            lambda: OutboxMessage.objects.filter(status=Status.PENDING, attempts__gte=2).count() == 3
        )
        assert server.messages == []
        assert all("Connection refused" in m.last_error for m in OutboxMessage.objects.all())
        server.start()
        rq_worker.wait_until(lambda: OutboxMessage.objects.filter(status=Status.SENT).count() == 3, state=_rows)
        time.sleep(1)  # any late retry would show up as a second copy
        assert server.copies() == {m.message_id: 1 for m in messages}
    finally:
        server.stop()
    for row in OutboxMessage.objects.all():
        assert row.attempts >= 3 and row.unconfirmed_attempts == 0 and row.last_error == ""


def test_an_rq_worker_killed_mid_batch_and_restarted_delivers_every_message(settings, rq_worker):
    """The worker and its work horse are SIGKILLed while a slow server holds the first
    message's end of DATA. RQ's record of that job says RUNNING until RQ's own cleanup calls
    it abandoned (FAILED, not queued again). The restarted worker delivers the rest; the
    claimed message is taken over once its lease has run out, by the scheduler's outbox
    sweep (RQ's scheduler lock, held by the dead worker, keeps the lease watchdog waiting
    for a minute or more: README). Late watchdogs change nothing."""
    server = MisbehavingSMTPServer(answer_after=5.0).start()  # never answers before the kill
    try:
        _aim(settings, server)
        rq_worker.extra_env = {"OUTBOX_LEASE_SECONDS": "1.5", "OUTBOX_SMTP_DATA_TIMEOUT": "10"}
        messages = _messages(5)
        rq_worker.start()
        server.wait_for(1, timeout=60)
        killed = rq_worker.kill()
        assert len(killed) >= 2  # the worker and the horse that was sending

        [claimed] = OutboxMessage.objects.filter(status=Status.SENDING)
        assert claimed.attempts == 1 and int(claimed.claimed_by.rpartition(":")[2]) in killed
        assert OutboxMessage.objects.filter(status=Status.PENDING).count() == 4
        [running] = _queue().started_job_registry.get_job_ids()
        assert _result(running).status == TaskResultStatus.RUNNING
        assert _queue().count == 4

        server.answer_after = 0
        rq_worker.start()
        rq_worker.wait_until(lambda: OutboxMessage.objects.filter(status=Status.SENT).count() >= 4)

        rq_worker.wait_until(lambda: timezone.now() > claimed.claimed_until + timezone.timedelta(seconds=0.2))
        call_command("deliver_outbox", stdout=io.StringIO())  # the scheduler's sweep
        rows = {m.pk: m for m in OutboxMessage.objects.all()}
        assert {m.status for m in rows.values()} == {Status.SENT}
        taken_over = rows[claimed.pk]
        assert (taken_over.attempts, taken_over.unconfirmed_attempts) == (2, 1)

        # RQ's cleanup of the dead worker's job, as it runs once the job's heartbeat is overdue:
        registry = _queue().started_job_registry
        registry.cleanup(timestamp=time.time() + 3600)
        assert _result(running).status == TaskResultStatus.FAILED
        assert running in _queue().failed_job_registry.get_job_ids()
        assert running not in _queue().job_ids  # not run a second time by RQ

        # The lease watchdogs, as RQ's scheduler will queue them once it has its lock again:
        scheduled = _queue().scheduled_job_registry
        watchdogs = scheduled.get_job_ids()  # every claim's (unless the new worker got the lock)
        for job_id in watchdogs:
            scheduled.requeue(job_id)
        rq_worker.wait_until(lambda: all(_result(i).status == TaskResultStatus.SUCCESSFUL for i in watchdogs))
        copies = server.copies()
    finally:
        server.stop()

    assert set(copies) == {m.message_id for m in messages}
    for row in OutboxMessage.objects.all():
        assert row.status == Status.SENT
        assert copies[row.message_id] <= 1 + row.unconfirmed_attempts  # the stated guarantee
    assert copies[claimed.message_id] == 2  # the killed attempt's copy (the server had it) and the takeover's
    assert sum(copies.values()) == 6
