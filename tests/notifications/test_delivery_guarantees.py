"""What the outbox guarantees, against real SMTP servers on loopback that misbehave:

* no SMTP inside the transaction that holds the row, a stable Message-ID on the site's domain;
* a server that takes the message and answers late gets it once (we wait for the end of
  DATA); one slower still gets at most one copy per attempt that ended unanswered;
* a worker SIGKILLed mid-send: the lease runs out and the next run takes the message over
  without a human, with at most one extra copy, and no task stays RUNNING.
"""

import io
import os
import signal
import time

import pytest
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from notifications.models import OutboxMessage
from notifications.services import OUTBOX_TASK_PATHS, outbox_deliver, outbox_deliver_due, outbox_enqueue
from tests.harness.ports import free_port

from .servers import MisbehavingSMTPServer

Status = OutboxMessage.Status


def _aim(settings, server, *, timeout: float | None = None, port: int | None = None) -> None:
    """The default mailer pointed at ``server`` (or at ``port``, where nothing listens)."""
    options = {"host": server.host, "port": port or server.port, "use_tls": False, "use_ssl": False}
    if timeout is not None:
        options["timeout"] = timeout
    settings.MAILERS = {**settings.MAILERS, "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                                        "OPTIONS": options}}


@pytest.fixture
def server():
    with MisbehavingSMTPServer() as smtp:
        yield smtp


def _three(count: int = 3) -> list[OutboxMessage]:
    return [
        outbox_enqueue(kind="test", reference="test:guarantee", recipients=[f"mottagare{i}@example.se"],
                       subject=f"Prov {i}", body="Prov")[0]
        for i in range(count)
    ]


def test_each_message_has_one_message_id_on_the_sites_domain_on_every_attempt(db, settings, server):
    settings.OUTBOX_RETRY_SECONDS = 0
    _aim(settings, server, timeout=2)
    server.refuse_next = 1  # the first attempt is refused (451), the second taken
    [message] = _three(1)
    assert message.message_id.endswith("@bra.se>") and "localhost" not in message.message_id

    first = outbox_deliver(message_id=message.pk)
    assert first is not None and first.status == Status.PENDING and "451" in first.last_error
    second = outbox_deliver(message_id=message.pk)
    assert second is not None and second.status == Status.SENT and second.attempts == 2

    offered = [str(mail.message["Message-ID"]) for mail in server.seen]
    assert offered == [message.message_id, message.message_id]  # refused and taken: the same Message-ID
    assert server.copies() == {message.message_id: 1}
    assert second.unconfirmed_attempts == 0


def test_the_message_id_domain_is_the_sites_host_when_one_is_configured(db, settings):
    settings.OUTBOX_MESSAGE_ID_DOMAIN = "bidrag.bra.se"
    [message] = outbox_enqueue(kind="test", reference="t", recipients=["a@example.se"], subject="s", body="b")
    assert message.message_id.startswith("<") and message.message_id.endswith("@bidrag.bra.se>")


@pytest.mark.django_db(transaction=True)
def test_no_smtp_while_the_outbox_row_is_locked(settings, server):
    """While the server holds the end of the message, another connection can lock the row at
    once (NOWAIT) and sees it claimed: the claim committed before SMTP began."""
    import threading

    from django.db import connections, transaction

    _aim(settings, server, timeout=0.5)
    settings.OUTBOX_SMTP_DATA_TIMEOUT = 5
    server.answer_after = 1.5
    [message] = _three(1)
    observed: dict = {}

    def look_while_the_server_waits():
        try:
            server.wait_for(1, timeout=5)
            with transaction.atomic():
                row = OutboxMessage.objects.select_for_update(nowait=True).get(pk=message.pk)
                observed["row"] = (row.status, row.claimed_until)
        except Exception as exc:  # reported below
            observed["error"] = exc
        finally:
            connections.close_all()

    looker = threading.Thread(target=look_while_the_server_waits)
    looker.start()
    result = outbox_deliver(message_id=message.pk)
    looker.join(10)
    assert "error" not in observed, observed.get("error")
    status, claimed_until = observed["row"]
    assert status == Status.SENDING and claimed_until > timezone.now()
    assert result is not None and result.status == Status.SENT
    assert server.copies() == {message.message_id: 1}


def test_a_server_that_answers_after_the_client_timeout_gets_three_messages_once_each(db, settings, server):
    """The finding: 3 messages became 15 copies, the outbox saying `failed`. The client's
    timeout (here 0.3 s) governs the conversation, but the answer to the end of DATA is
    awaited OUTBOX_SMTP_DATA_TIMEOUT (here 3 s) and the server answers after 1 s."""
    _aim(settings, server, timeout=0.3)
    settings.OUTBOX_SMTP_DATA_TIMEOUT = 3
    settings.OUTBOX_RETRY_SECONDS = 0
    server.answer_after = 1.0
    messages = _three()

    assert outbox_deliver_due() == 3
    assert outbox_deliver_due() == 0
    copies = server.copies()
    assert copies == {m.message_id: 1 for m in messages}
    for row in OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]):
        assert (row.status, row.attempts, row.unconfirmed_attempts, row.last_error) == (Status.SENT, 1, 0, "")


def test_a_server_slower_than_the_data_timeout_gets_at_most_one_copy_per_unanswered_attempt(db, settings, server):
    """Beyond what SMTP can tell us: every attempt the server took but did not answer is counted
    as unconfirmed, and the copies of each Message-ID never exceed that count (plus one, had
    an attempt been answered); after OUTBOX_MAX_ATTEMPTS it is a dead letter, not retried forever."""
    _aim(settings, server, timeout=0.3)
    settings.OUTBOX_SMTP_DATA_TIMEOUT = 0.3
    settings.OUTBOX_RETRY_SECONDS = 0
    settings.OUTBOX_MAX_ATTEMPTS = 2
    server.answer_after = 1.0
    messages = _three()

    assert outbox_deliver_due() == 0
    assert outbox_deliver_due() == 0
    assert outbox_deliver_due() == 0  # dead letters: nothing more goes out
    copies = server.copies()
    assert sum(copies.values()) == 6  # not 15: two attempts per message, one copy each
    for row in OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]):
        assert row.status == Status.DEAD
        assert row.attempts == row.unconfirmed_attempts == 2
        assert "UnconfirmedDelivery" in row.last_error
        assert copies[row.message_id] <= row.unconfirmed_attempts


def _wait(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
    return value


@pytest.mark.task_backends("database", reason="a SIGKILLed db_worker's DBTaskResult left RUNNING; RQ's: test_rq_backend.py")
def test_a_worker_killed_mid_send_is_taken_over_when_its_lease_runs_out(transactional_db, settings, server,
                                                                        task_worker):
    """The finding: a SIGKILLed worker left its task RUNNING forever and a restarted worker never
    retried it. The worker is killed while the server holds the first message's end of DATA;
    a new worker run finds the lease watchdog the claim queued and takes the message over."""
    _aim(settings, server)
    server.answer_after = 5.0  # never answers before the kill
    task_worker.extra_env = {"OUTBOX_LEASE_SECONDS": "1.5", "OUTBOX_SMTP_DATA_TIMEOUT": "10"}
    messages = _three()  # committed: delivery tasks queued after the commit

    task_worker.start()
    server.wait_for(1, timeout=20)
    killed_pid = task_worker.process.pid
    os.kill(killed_pid, signal.SIGKILL)
    task_worker.process.wait(5)
    task_worker.process = None

    [claimed] = OutboxMessage.objects.filter(status=Status.SENDING)
    assert claimed.claimed_until is not None and claimed.attempts == 1
    assert claimed.claimed_by.endswith(f":{killed_pid}")
    left_running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, task_path__in=OUTBOX_TASK_PATHS)
    assert left_running.count() == 1
    assert OutboxMessage.objects.filter(status=Status.PENDING).count() == 2

    # The server is well again; nobody touches the rows. After the lease, a worker run:
    server.answer_after = 0
    _wait(lambda: timezone.now() > claimed.claimed_until + timezone.timedelta(seconds=1.2))
    task_worker.run_batch()

    rows = {m.pk: m for m in OutboxMessage.objects.all()}
    assert {m.status for m in rows.values()} == {Status.SENT}
    taken_over = rows[claimed.pk]
    assert (taken_over.attempts, taken_over.unconfirmed_attempts) == (2, 1)
    copies = server.copies()
    assert set(copies) == {m.message_id for m in messages}
    for row in rows.values():
        assert copies[row.message_id] <= 1 + row.unconfirmed_attempts  # the stated guarantee
    assert copies[taken_over.message_id] == 2  # the killed attempt's copy (the server had it) and ours
    assert sum(copies.values()) == 4
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists()


def test_a_sweep_after_the_outage_still_takes_over_an_abandoned_claim(db, settings, server):
    """A claim left behind (its worker gone, its watchdog lost with a non-database backend) is
    due again for every delivery run once the lease has run out, and not before."""
    _aim(settings, server, timeout=2)
    settings.OUTBOX_LEASE_SECONDS = 60
    [message] = _three(1)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, attempts=1, claimed_until=timezone.now() + timezone.timedelta(seconds=30),
        claimed_by="gone:1",
    )
    assert outbox_deliver_due() == 0  # the lease still holds
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_until=timezone.now() - timezone.timedelta(seconds=1))
    assert outbox_deliver_due() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.unconfirmed_attempts) == (Status.SENT, 2, 1)
    assert server.copies() == {message.message_id: 1}


def test_an_abandoned_claim_at_the_last_attempt_becomes_a_dead_letter(db, settings, server):
    _aim(settings, server, port=free_port())
    settings.OUTBOX_MAX_ATTEMPTS = 2
    [message] = _three(1)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, attempts=2, claimed_until=timezone.now() - timezone.timedelta(seconds=1),
        claimed_by="gone:2",
    )
    assert outbox_deliver_due() == 0
    message.refresh_from_db()
    assert message.status == Status.DEAD and message.unconfirmed_attempts == 1 and "gone:2" in message.last_error


def test_a_lease_shorter_than_an_smtp_conversation_is_warned_about(settings, server):
    from notifications.apps import outbox_lease_check

    _aim(settings, server, timeout=10)
    settings.OUTBOX_SMTP_DATA_TIMEOUT = 300
    settings.OUTBOX_LEASE_SECONDS = 420
    assert outbox_lease_check() == []
    settings.OUTBOX_LEASE_SECONDS = 300
    [warning] = outbox_lease_check()
    assert warning.id == "notifications.W001" and "360" in warning.msg


def test_deliver_outbox_requeues_tasks_a_dead_worker_left_running_and_takes_over_its_message(db, settings, server):
    from django.core.management import call_command

    from notifications.tasks import deliver_outbox_message

    _aim(settings, server, timeout=2)
    settings.OUTBOX_LEASE_SECONDS = 60
    [message] = _three(1)
    long_ago = timezone.now() - timezone.timedelta(seconds=61)
    OutboxMessage.objects.filter(pk=message.pk).update(status=Status.SENDING, attempts=1, claimed_until=long_ago,
                                                       claimed_by="gone:3")
    result = deliver_outbox_message.enqueue(str(message.pk))
    DBTaskResult.objects.filter(pk=result.id).update(status=TaskResultStatus.RUNNING, started_at=long_ago)
    recent = deliver_outbox_message.enqueue(str(message.pk))  # a live worker's: younger than a lease
    DBTaskResult.objects.filter(pk=recent.id).update(status=TaskResultStatus.RUNNING, started_at=timezone.now())

    out = io.StringIO()
    call_command("deliver_outbox", stdout=out)
    assert "Delivered 1 message(s); 1 task(s)" in out.getvalue()
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.READY  # to be run again, harmlessly
    assert DBTaskResult.objects.get(pk=recent.id).status == TaskResultStatus.RUNNING
    message.refresh_from_db()
    assert (message.status, message.unconfirmed_attempts) == (Status.SENT, 1)
    assert server.copies() == {message.message_id: 1}


def test_other_mailers_get_the_same_message_id_too(db, settings):
    from django.core import mail

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    [message] = _three(1)
    assert outbox_deliver_due() == 1
    [sent] = mail.outbox
    assert sent.extra_headers["Message-ID"] == message.message_id
    assert sent.message()["Message-ID"] == message.message_id


@pytest.mark.django_db(transaction=True)
def test_two_delivery_runs_at_once_send_each_message_once(settings, server):
    """SKIP LOCKED claims: two runs side by side (threads, each its own connection) share the
    messages out between them and neither sends one the other has claimed."""
    import threading

    from django.db import connections

    _aim(settings, server, timeout=2)
    server.answer_after = 0.02  # long enough for the runs to overlap
    messages = _three(20)
    counts: list[int] = []

    def run():
        try:
            counts.append(outbox_deliver_due())
        finally:
            connections.close_all()

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(30)
    assert sum(counts) == 20 and len(counts) == 2
    assert server.copies() == {m.message_id: 1 for m in messages}
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}
