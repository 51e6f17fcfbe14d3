"""Mail is not lost after a long outage: after OUTBOX_MAX_ATTEMPTS a message is a dead letter,
listed on its own admin page, and a person sends it again (admin action or
``manage.py outbox_resend``), recorded with who did it; it then arrives once."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from notifications.models import DeadLetter, OutboxMessage, OutboxResend
from notifications.services import outbox_deliver_due, outbox_enqueue
from tests.harness.ports import free_port

Status = OutboxMessage.Status


def _aim(settings, server, port=None) -> None:
    settings.MAILERS = {**settings.MAILERS, "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": server.host, "port": port or server.port, "use_tls": False, "use_ssl": False, "timeout": 2},
    }}


def _outage_of_sixty(settings, smtp_server) -> list[OutboxMessage]:
    """60 messages through an outage longer than the whole backoff schedule."""
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_SECONDS = 0
    _aim(settings, smtp_server, port=free_port())  # nothing listens there
    messages = [
        outbox_enqueue(kind="test", reference=f"test:outage:{i}", recipients=[f"kansli{i}@example.se"],
                       subject=f"Prov {i}", body="Prov")[0]
        for i in range(60)
    ]
    for _ in range(settings.OUTBOX_MAX_ATTEMPTS + 1):
        assert outbox_deliver_due() == 0
    return messages


def test_an_outage_longer_than_the_backoff_makes_dead_letters_and_resend_delivers_each_once(
    db, settings, smtp_server, admin_user
):
    messages = _outage_of_sixty(settings, smtp_server)
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.DEAD, 3)}
    assert DeadLetter.objects.count() == 60
    assert outbox_deliver_due() == 0  # dead letters are not retried by themselves...

    _aim(settings, smtp_server)  # SMTP is back
    today = timezone.localdate().isoformat()
    call_command("outbox_resend", "--since", today, "--until", today, "--by", admin_user.username)
    assert not DeadLetter.objects.exists()
    assert outbox_deliver_due() == 60
    assert outbox_deliver_due() == 0

    mails = smtp_server.wait_for(60)
    ids = [str(mail.message["Message-ID"]) for mail in mails]
    assert sorted(ids) == sorted(m.message_id for m in messages)  # all arrived, none twice
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}
    resends = OutboxResend.objects.all()
    assert resends.count() == 60
    assert {(r.by_id, r.via, r.attempts_before) for r in resends} == {(admin_user.pk, OutboxResend.Via.COMMAND, 3)}
    assert all("ConnectionRefusedError" in r.last_error for r in resends)


def test_resend_command_takes_only_the_period_asked_for(db, settings, smtp_server, admin_user):
    _outage_of_sixty(settings, smtp_server)
    earlier = list(OutboxMessage.objects.order_by("created_at").values_list("pk", flat=True)[:10])
    OutboxMessage.objects.filter(pk__in=earlier).update(created_at=timezone.now() - timedelta(days=3))
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    two_days_ago = (timezone.localdate() - timedelta(days=2)).isoformat()
    call_command("outbox_resend", "--since", two_days_ago, "--until", yesterday, "--by", admin_user.username)
    assert DeadLetter.objects.count() == 60  # nothing was written then

    four_days_ago = (timezone.localdate() - timedelta(days=4)).isoformat()
    out = io.StringIO()
    call_command("outbox_resend", "--since", four_days_ago, "--until", yesterday, "--by", admin_user.username,
                 "--dry-run", stdout=out)
    assert "10 dead letter(s) would be sent again." in out.getvalue()
    assert DeadLetter.objects.count() == 60 and not OutboxResend.objects.exists()
    call_command("outbox_resend", "--since", four_days_ago, "--until", yesterday, "--by", admin_user.username)
    assert set(OutboxMessage.objects.filter(status=Status.PENDING).values_list("pk", flat=True)) == set(earlier)
    assert DeadLetter.objects.count() == 50

    with pytest.raises(CommandError, match="No user"):
        call_command("outbox_resend", "--since", four_days_ago, "--until", yesterday, "--by", "nobody")
    with pytest.raises(CommandError, match="after"):
        call_command("outbox_resend", "--since", yesterday, "--until", four_days_ago, "--by", admin_user.username)


def test_dead_letter_admin_lists_them_and_sends_again_recording_who(db, settings, smtp_server, admin_client,
                                                                     admin_user):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    _aim(settings, smtp_server, port=free_port())
    [dead] = outbox_enqueue(kind="test", reference="t:1", recipients=["dod@example.se"], subject="Död", body="x")
    assert outbox_deliver_due() == 0
    _aim(settings, smtp_server)
    [sent] = outbox_enqueue(kind="test", reference="t:2", recipients=["levande@example.se"], subject="Ok", body="x")
    assert outbox_deliver_due() == 1

    page = admin_client.get(reverse("admin:notifications_deadletter_changelist"))
    assert page.status_code == 200
    assert "dod@example.se" in page.text and "levande@example.se" not in page.text
    assert "send_again" in page.text  # the action is offered

    answer = admin_client.post(
        reverse("admin:notifications_deadletter_changelist"),
        {"action": "send_again", "_selected_action": [str(dead.pk)]},
        follow=True,
    )
    assert answer.status_code == 200
    dead.refresh_from_db()
    assert dead.status == Status.PENDING and dead.attempts == 0
    [resend] = OutboxResend.objects.filter(message=dead)
    assert (resend.by, resend.via, resend.attempts_before) == (admin_user, OutboxResend.Via.ADMIN, 1)

    # Sending a message that was delivered "again" from the full list changes nothing.
    admin_client.post(reverse("admin:notifications_outboxmessage_changelist"),
                      {"action": "send_again", "_selected_action": [str(sent.pk)]}, follow=True)
    sent.refresh_from_db()
    assert sent.status == Status.SENT and not OutboxResend.objects.filter(message=sent).exists()

    assert outbox_deliver_due() == 1
    arrived = smtp_server.wait_for(2)
    assert sorted(str(m.message["Message-ID"]) for m in arrived) == sorted([dead.message_id, sent.message_id])
    page = admin_client.get(reverse("admin:notifications_outboxmessage_change", args=[dead.pk]))
    assert page.status_code == 200 and admin_user.username in page.text  # the resend is shown on the message
