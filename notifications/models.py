import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A notification written in the same transaction as the change it reports.

    The worker delivers it after commit (notifications.services): claimed in a short
    transaction of its own with a lease, sent over SMTP outside any transaction, the result
    recorded in another. A mail outage leaves it pending; after OUTBOX_MAX_ATTEMPTS it is a
    dead letter that a person sends again (admin or ``manage.py outbox_resend``), never lost.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Väntar")
        SENDING = "sending", _("Skickas")
        SENT = "sent", _("Skickat")
        DEAD = "dead", _("Olevererat")
        NOT_SENT = "not_sent", _("Skickas inte")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("typ"), max_length=60)
    reference = models.CharField(_("avser"), max_length=120, db_index=True)
    recipient = models.EmailField(_("mottagare"))
    subject = models.CharField(_("ämne"), max_length=300)
    body = models.TextField(_("text"))
    # The same on every attempt, so a receiver can recognise a second copy (RFC 5322 3.6.4).
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    # The message as it goes over SMTP (RFC 5322, CRLF), rendered once when written: every
    # attempt sends the same bytes, and a delivery run renders nothing. Empty on rows written
    # before it existed, and on those never sent; those are rendered when sent.
    raw = models.BinaryField(_("meddelandet som det skickas"), null=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("försök"), default=0)
    # Attempts whose outcome nobody knows: the server had the whole message and did not answer
    # in time, or the worker stopped before it recorded the answer. Each may have left a copy.
    unconfirmed_attempts = models.PositiveIntegerField(_("obekräftade försök"), default=0)
    last_error = models.TextField(_("senaste fel"), blank=True)
    note = models.CharField(_("anteckning"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("nästa försök"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("upptaget till"), null=True, blank=True)
    claimed_by = models.CharField(_("upptaget av"), max_length=120, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("skickat"), null=True, blank=True)

    class Meta:
        verbose_name = _("utgående meddelande")
        verbose_name_plural = _("utgående meddelanden")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.kind} → {self.recipient} ({self.status})"


class DeadLetterManager(models.Manager["DeadLetter"]):
    def get_queryset(self):
        return super().get_queryset().filter(status=OutboxMessage.Status.DEAD)


class DeadLetter(OutboxMessage):
    """The outbox's dead letters, on an admin page of their own with "send again"."""

    objects = DeadLetterManager()

    class Meta:
        proxy = True
        verbose_name = _("olevererat meddelande")
        verbose_name_plural = _("olevererade meddelanden")


class OutboxResend(models.Model):
    """A dead letter sent again: who did it, when, how, and what it had been through."""

    class Via(models.TextChoices):
        ADMIN = "admin", _("administrationen")
        COMMAND = "command", _("kommandot outbox_resend")

    message = models.ForeignKey(OutboxMessage, on_delete=models.PROTECT, related_name="resends",
                                verbose_name=_("meddelande"))
    at = models.DateTimeField(_("tidpunkt"), auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                           verbose_name=_("av"))
    via = models.CharField(_("via"), max_length=10, choices=Via.choices)
    attempts_before = models.PositiveIntegerField(_("försök innan"))
    last_error = models.TextField(_("senaste fel"), blank=True)

    class Meta:
        verbose_name = _("omsändning")
        verbose_name_plural = _("omsändningar")
        ordering = ["at"]

    def __str__(self):
        return f"{self.message_id} ({self.at:%Y-%m-%d %H:%M})"


class MessageLanguage(models.Model):
    """The language a person's messages are written in (e-mail and notices); Swedish without one."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="message_language", verbose_name=_("användare"))
    language = models.CharField(_("språk"), max_length=8, choices=settings.LANGUAGES)
    updated_at = models.DateTimeField(_("ändrad"), auto_now=True)

    class Meta:
        verbose_name = _("språk för meddelanden")
        verbose_name_plural = _("språk för meddelanden")

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"


class Notice(models.Model):
    """A message to a person, shown in the service (the header's count, the list page), written
    with the e-mail of the same message, in the same transaction."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices",
                             verbose_name=_("mottagare"))
    kind = models.CharField(_("typ"), max_length=60)
    reference = models.CharField(_("avser"), max_length=120)
    subject = models.CharField(_("ämne"), max_length=300)
    body = models.TextField(_("text"))
    # A path on this site (the e-mail has the absolute address of the same page).
    link = models.CharField(_("länk"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)
    read_at = models.DateTimeField(_("läst"), null=True, blank=True)

    class Meta:
        verbose_name = _("meddelande i tjänsten")
        verbose_name_plural = _("meddelanden i tjänsten")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list page's keyset order, and the header's unread count (a partial index).
            models.Index(fields=["user", "-created_at", "-id"], name="notice_user_list"),
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="notice_user_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"


class ReminderSent(models.Model):
    """A reminder sent: the ``offset_days`` reminder of ``kind`` about ``reference`` (a date of
    an object: "application:<uuid>:deadline:2026-12-01"), once ever. The unique constraint, not
    a check in Python, makes it once: two schedulers at the same moment both INSERT … ON
    CONFLICT DO NOTHING, and only one gets its row back (notifications.reminders)."""

    kind = models.CharField(_("typ"), max_length=60)
    reference = models.CharField(_("avser"), max_length=200)
    # Days before the date it reminds of; negative once the date has passed (overdue).
    offset_days = models.IntegerField(_("dagar före"))
    sent_at = models.DateTimeField(_("skickad"))

    class Meta:
        verbose_name = _("skickad påminnelse")
        verbose_name_plural = _("skickade påminnelser")
        constraints = [
            models.UniqueConstraint(fields=["kind", "reference", "offset_days"], name="reminder_sent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference} ({self.offset_days:+d})"


class StaffDigestSetting(models.Model):
    """Whether a member of staff gets the daily digest by e-mail (on without a row). The
    notices in the service come either way; only the e-mail is theirs to turn off."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="staff_digest_setting", verbose_name=_("användare"))
    email_enabled = models.BooleanField(_("daglig sammanfattning per e-post"), default=True)
    updated_at = models.DateTimeField(_("ändrad"), auto_now=True)

    class Meta:
        verbose_name = _("inställning för daglig sammanfattning")
        verbose_name_plural = _("inställningar för daglig sammanfattning")

    def __str__(self) -> str:
        return f"{self.user} ({'on' if self.email_enabled else 'off'})"


class StaffDigestRun(models.Model):
    """One person's digest of one day (Europe/Stockholm), once: the unique constraint hands the
    day to one scheduler only (INSERT … ON CONFLICT DO NOTHING, notifications.digest), in the
    transaction that also writes the e-mail. Written also when nothing was sent (nothing new,
    or the e-mail turned off), so that the next digest counts from ``period_end``."""

    class Outcome(models.TextChoices):
        SENT = "sent", _("Skickad")
        NOTHING = "nothing", _("Inget nytt")
        OPTED_OUT = "opted_out", _("Avstängd")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("användare"))
    day = models.DateField(_("dag"))
    period_start = models.DateTimeField(_("från"))
    period_end = models.DateTimeField(_("till"))
    # The notices (FL 12 §, dead letters) it told of were written up to this moment, the
    # wall-clock time it was put together (period_* may be a test's time travel).
    notices_until = models.DateTimeField(_("meddelanden till"))
    outcome = models.CharField(_("utfall"), max_length=10, choices=Outcome.choices)
    # What was past target at period_end (ids of the caller's choosing): the next digest tells
    # what became overdue since, not the same backlog every day.
    overdue = models.JSONField(_("försenade"), default=list)
    counts = models.JSONField(_("antal"), default=dict)

    class Meta:
        verbose_name = _("daglig sammanfattning")
        verbose_name_plural = _("dagliga sammanfattningar")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="staff_digest_once_a_day")]
        indexes = [models.Index(fields=["user", "-day"], name="staff_digest_latest")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day} ({self.outcome})"
