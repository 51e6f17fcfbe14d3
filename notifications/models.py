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
