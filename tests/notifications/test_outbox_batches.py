"""The outbox delivered in batches (issue 8, throughput): a run claims a batch of due messages
in one short transaction (``SKIP LOCKED``, one lease and one watchdog for the batch), sends
them over one SMTP connection with no transaction open, and records what the server took in
one short transaction per batch; a cursor on (created_at, id) takes it through every due
message once. Against real SMTP servers on loopback and real PostgreSQL row locks."""

import threading

import pytest
from django.db import connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.models import OutboxMessage
from notifications.services import _claim_batch, outbox_deliver_due, outbox_enqueue

from .servers import MisbehavingSMTPServer

Status = OutboxMessage.Status
WATCHDOG = "notifications.tasks.take_over_outbox_messages"


def _aim(settings, server, *, timeout: float = 2) -> None:
    options = {"host": server.host, "port": server.port, "use_tls": False, "use_ssl": False, "timeout": timeout}
    settings.MAILERS = {**settings.MAILERS, "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                                        "OPTIONS": options}}


@pytest.fixture
def server():
    with MisbehavingSMTPServer() as smtp:
        yield smtp


def _messages(count: int) -> list[OutboxMessage]:
    return [
        outbox_enqueue(kind="test", reference="test:batch", recipients=[f"mottagare{i}@example.se"],
                       subject=f"Prov {i}", body="Prov")[0]
        for i in range(count)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_batch_claim_never_hands_the_same_message_to_two_runs(settings):
    """Two runs claim at the same moment (threads, each its own database connection): the row
    locks (SKIP LOCKED) share the 30 messages out, none to both; each claim counts its
    attempts, leases its rows and queues one watchdog with exactly its messages."""
    messages = _messages(30)
    start = threading.Barrier(2)
    claims: list[list] = [[], []]

    def run(n: int) -> None:
        try:
            start.wait(5)
            while (claim := _claim_batch(OutboxMessage.objects.all(), size=7, cursor=None)).messages:
                claims[n].append(claim)
        finally:
            connections.close_all()

    runs = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(30)

    every = [m.pk for run_claims in claims for claim in run_claims for m in claim.messages]
    assert sorted(every) == sorted(m.pk for m in messages)  # each message claimed, and only once
    rows = OutboxMessage.objects.all()
    assert {(r.status, r.attempts) for r in rows} == {(Status.SENDING, 1)}
    by_token = {claim.token: {m.pk for m in claim.messages} for run_claims in claims for claim in run_claims}
    for row in rows:
        assert row.pk in by_token[row.claim_token] and row.claimed_until > timezone.now()
    watchdogs = DBTaskResult.objects.filter(task_path=WATCHDOG)
    assert watchdogs.count() == len(by_token)  # one a claim, not one a message
    assert sorted(sorted(w.args_kwargs["args"][0]) for w in watchdogs) == sorted(
        sorted(str(pk) for pk in ids) for ids in by_token.values()
    )


def test_a_batch_where_smtp_refuses_one_recipient_records_it_failed_and_the_rest_sent(db, settings, server):
    """The server refuses one recipient (550 at RCPT): that message is kept for a retry with the
    server's answer, the others of the batch are sent, all over the one connection."""
    _aim(settings, server)
    messages = _messages(6)
    server.refuse_recipients = {"mottagare2@example.se"}

    assert outbox_deliver_due() == 5
    rows = {r.recipient: r for r in OutboxMessage.objects.all()}
    refused = rows.pop("mottagare2@example.se")
    assert (refused.status, refused.attempts, refused.unconfirmed_attempts) == (Status.PENDING, 1, 0)
    assert "550" in refused.last_error and refused.next_attempt_at > timezone.now()
    assert refused.claim_token is None and refused.claimed_until is None
    assert {(r.status, r.attempts, r.last_error) for r in rows.values()} == {(Status.SENT, 1, "")}
    assert server.copies() == {m.message_id: 1 for m in messages if m.recipient != "mottagare2@example.se"}
    assert server.greetings == 1  # the refusal did not cost the batch its connection


def test_the_cursor_reaches_every_due_message_when_more_are_due_than_one_batch_holds(db, settings, server):
    """23 due messages, batches of 5: one run sends every one, each once. A message refused and
    due again at once (no backoff) is not tried a second time in the same run: the cursor
    has passed it; the next run sends it."""
    _aim(settings, server)
    settings.OUTBOX_RETRY_SECONDS = 0
    messages = _messages(23)
    server.refuse_next = 1  # the oldest message's first attempt

    assert outbox_deliver_due(batch=5) == 22
    first = OutboxMessage.objects.get(pk=messages[0].pk)
    assert (first.status, first.attempts) == (Status.PENDING, 1) and "451" in first.last_error
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 22
    assert DBTaskResult.objects.filter(task_path=WATCHDOG).count() == 5  # ceil(23 / 5) claims

    assert outbox_deliver_due(batch=5) == 1
    assert server.copies() == {m.message_id: 1 for m in messages}
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}
    assert server.greetings == 2  # one connection a run


def test_claimed_messages_are_released_unsent_when_their_lease_would_end_before_a_conversation(db, settings, server):
    """A slow server: after the first message of a batch, what is left of the lease no longer
    holds a whole SMTP conversation, so the rest of the batch is given back (attempt not
    counted, due at once) rather than sent when another run may take it over."""
    _aim(settings, server, timeout=0.05)
    settings.OUTBOX_SMTP_DATA_TIMEOUT = 1.5  # a conversation: 1.5 + 6 * 0.05 = 1.8 s
    settings.OUTBOX_LEASE_SECONDS = 2.0
    server.answer_after = 0.4
    messages = _messages(3)

    assert outbox_deliver_due() == 1
    rows = {r.pk: r for r in OutboxMessage.objects.all()}
    assert rows[messages[0].pk].status == Status.SENT
    for message in messages[1:]:
        row = rows[message.pk]
        assert (row.status, row.attempts, row.claim_token, row.claimed_by) == (Status.PENDING, 0, None, "")
    assert server.copies() == {messages[0].message_id: 1}


def test_a_delivery_task_sends_the_other_due_messages_over_its_connection(transactional_db, settings, server,
                                                                           task_worker):
    """One task per message is queued; the first to run sends its own message, then the others
    due, over the same connection (two claims: its own, then the batch of the rest); the
    other tasks find their messages sent and end."""
    _aim(settings, server)
    messages = _messages(5)
    task_worker.run_batch()

    assert server.copies() == {m.message_id: 1 for m in messages}
    assert server.greetings == 1
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}
    assert task_worker.task_count(WATCHDOG) == 2  # DBTaskResult rows, or RQ jobs in Redis


def test_every_attempt_sends_the_bytes_written_with_the_message(db, settings, server):
    """Rendered once when written (``raw``): a refused attempt and the next one offer the server
    the same message, byte for byte, with the message's Message-ID."""
    from notifications.services import outbox_deliver

    _aim(settings, server)
    settings.OUTBOX_RETRY_SECONDS = 0
    server.refuse_next = 1
    [message] = _messages(1)
    assert message.raw is not None and message.message_id.encode() in bytes(message.raw)

    assert outbox_deliver(message_id=message.pk).status == Status.PENDING
    assert outbox_deliver(message_id=message.pk).status == Status.SENT
    first, second = server.seen
    assert first.raw == second.raw
    assert str(second.message["Message-ID"]) == message.message_id and second.subject == "Prov 0"
    assert second.rcpt_tos == ("mottagare0@example.se",)


def test_a_message_written_without_its_bytes_is_rendered_when_sent(db, settings, server):
    """Rows written before ``raw`` existed: rendered at the attempt, the same Message-ID, dated
    when they were written."""
    from email.utils import format_datetime

    _aim(settings, server)
    [message] = _messages(1)
    OutboxMessage.objects.filter(pk=message.pk).update(raw=None)
    assert outbox_deliver_due() == 1
    [mail] = server.messages
    assert str(mail.message["Message-ID"]) == message.message_id
    assert str(mail.message["Date"]) == format_datetime(message.created_at)
    assert mail.body.strip() == "Prov"


def test_a_sweep_killed_mid_batch_is_taken_over_when_its_lease_runs_out(transactional_db, settings, server):
    """``manage.py deliver_outbox`` SIGKILLed while the server holds the first message of its
    batch: the whole batch stays claimed (nothing recorded), and once the lease has run out the
    next run takes every message over, each counted unconfirmed; only the message the server
    had arrives twice, within ``1 + unconfirmed_attempts``."""
    import os
    import signal
    import subprocess
    import sys

    from tests.harness.worker import BASE_DIR, MANAGE_PY, worker_environ

    _aim(settings, server)
    server.answer_after = 5.0  # never answers before the kill
    messages = _messages(5)
    env = worker_environ({"OUTBOX_LEASE_SECONDS": "1.5", "OUTBOX_SMTP_DATA_TIMEOUT": "10"})
    sweep = subprocess.Popen([sys.executable, str(MANAGE_PY), "deliver_outbox"], cwd=BASE_DIR, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server.wait_for(1, timeout=30)
    finally:
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.wait(10)

    rows = list(OutboxMessage.objects.all())
    assert {(r.status, r.attempts) for r in rows} == {(Status.SENDING, 1)}  # one claim held all five
    assert {r.claimed_by.rpartition(":")[2] for r in rows} == {str(sweep.pid)}
    until = max(r.claimed_until for r in rows)

    server.answer_after = 0
    while timezone.now() <= until:
        threading.Event().wait(0.1)
    assert outbox_deliver_due() == 5

    copies = server.copies()
    for row in OutboxMessage.objects.all():
        assert (row.status, row.attempts, row.unconfirmed_attempts) == (Status.SENT, 2, 1)
        assert copies[row.message_id] <= 1 + row.unconfirmed_attempts
    assert copies[messages[0].message_id] == 2  # the killed attempt's copy (the server had it) and ours
    assert sum(copies.values()) == 6
