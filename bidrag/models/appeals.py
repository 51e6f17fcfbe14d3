import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .outcomes import StoredDocument


class Appeal(models.Model):
    """An appeal (överklagande) of one of Brå's decisions, as it came in.

    FL 44 §: lodged with Brå within three weeks of the day the party was notified of the
    decision (a last day on a weekend or holiday moves to the next working day). FL 45 §:
    Brå checks that it came in time; a late appeal is dismissed (a decision of its own), a
    timely one is forwarded to the court with the case's documents. Where the ordinance
    says the decision may not be appealed, the appeal is forwarded all the same: the court
    decides whether it can be heard (HFD 2016 ref. 49).
    """

    class State(models.TextChoices):
        REGISTERED = "registered", _("Registrerat")
        FORWARDED = "forwarded", _("Överlämnat till domstol")
        DISMISSED = "dismissed", _("Avvisat som för sent inkommet")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    decision = models.ForeignKey("bidrag.Decision", on_delete=models.PROTECT, related_name="appeals")
    received_on = models.DateField(_("kom in till Brå"))
    notified_on = models.DateField(_("sökanden fick del av beslutet"))
    deadline = models.DateField(_("sista dag för överklagande"))
    summary = models.TextField(_("vad överklagandet gäller"))
    state = models.CharField(_("status"), max_length=12, choices=State.choices, default=State.REGISTERED)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(auto_now_add=True)
    court = models.CharField(_("domstol"), max_length=200, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    # The decision dismissing a late appeal (FL 45 §), itself a decision of Brå's.
    dismissal = models.OneToOneField(
        "bidrag.Decision", on_delete=models.PROTECT, null=True, blank=True, related_name="dismissed_appeal"
    )
    # FL 39 §: Brå changed the appealed decision (a reconsideration) before the appeal was
    # forwarded: the appeal is deemed to cover the new decision, the latest one named here.
    covers = models.ForeignKey(
        "bidrag.Decision", on_delete=models.PROTECT, null=True, blank=True, related_name="covering_appeals",
        verbose_name=_("omfattar även beslutet"),
    )

    class Meta:
        verbose_name = _("överklagande")
        verbose_name_plural = _("överklaganden")
        ordering = ["received_on", "registered_at"]

    def __str__(self):
        return f"{self.get_state_display()} {self.received_on}"

    @property
    def timely(self) -> bool:
        return self.received_on <= self.deadline


class AppealLetter(StoredDocument):
    """FL 45 §: the letter (översändelse) that forwards a timely appeal to the court; its
    SHA-256 in the journal's forward_appeal event."""

    appeal = models.OneToOneField(Appeal, on_delete=models.PROTECT, related_name="letter")

    class Meta:
        verbose_name = _("översändelse till domstol")
        verbose_name_plural = _("översändelser till domstol")
