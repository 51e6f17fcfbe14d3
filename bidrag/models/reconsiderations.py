import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Reconsideration(models.Model):
    """A reconsideration (omprövning) of one of Brå's decisions, from how it began to how it
    ended (FL 37–39 §§).

    It begins on Brå's own initiative, on the applicant's request (asked on their page, or a
    letter registered by staff) or on an appeal (FL 38 §: before forwarding it, Brå considers
    whether the decision is obviously wrong and can be changed quickly, simply and without
    detriment to anyone). It ends with a new decision that refers to the old one (`result`;
    the old one stays as it was sent), or with the word that the decision stands.
    """

    class Origin(models.TextChoices):
        INITIATIVE = "initiative", _("Brås eget initiativ")
        REQUEST = "request", _("Sökandens begäran")
        APPEAL = "appeal", _("Överklagande (38 § förvaltningslagen)")

    class State(models.TextChoices):
        OPEN = "open", _("Pågår")
        CHANGED = "changed", _("Beslutet ändrat")
        UNCHANGED = "unchanged", _("Beslutet står fast")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey("bidrag.Application", on_delete=models.PROTECT, related_name="reconsiderations")
    decision = models.ForeignKey("bidrag.Decision", on_delete=models.PROTECT, related_name="reconsiderations",
                                 verbose_name=_("beslut som omprövas"))
    origin = models.CharField(_("initiativ"), max_length=12, choices=Origin.choices)
    text = models.TextField(_("vad som ska omprövas och varför"))
    # A request: the day it reached Brå, and the firmatecknare who made it on the page.
    received_on = models.DateField(_("kom in till Brå"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appeal = models.ForeignKey("bidrag.Appeal", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="reconsiderations")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(_("status"), max_length=10, choices=State.choices, default=State.OPEN)
    result = models.OneToOneField(
        "bidrag.Decision", on_delete=models.PROTECT, null=True, blank=True, related_name="reconsideration",
        verbose_name=_("nytt beslut"),
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(_("svar till sökanden"), blank=True)

    class Meta:
        verbose_name = _("omprövning")
        verbose_name_plural = _("omprövningar")
        ordering = ["opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["application"], condition=models.Q(state="open"),
                                    name="reconsideration_one_open"),
        ]

    def __str__(self):
        return f"{self.get_origin_display()} ({self.get_state_display()})"


class ReconsiderationCommunication(models.Model):
    """FL 25 §: a proposal to change a decision to the applicant's detriment, made known to
    them with a deadline to answer before it may be decided. One per such proposal (a
    proposal returned and made again is communicated again); kept as sent and answered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reconsideration = models.ForeignKey(Reconsideration, on_delete=models.PROTECT, related_name="communications")
    proposal = models.OneToOneField("bidrag.Proposal", on_delete=models.PROTECT,
                                    related_name="reconsideration_communication")
    text = models.TextField(_("det som kommuniceras"))
    deadline = models.DateField(_("svara senast"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(_("sökandens yttrande"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("kommunicering av förslag till ändrat beslut")
        verbose_name_plural = _("kommuniceringar av förslag till ändrat beslut")
        ordering = ["sent_at"]

    def __str__(self):
        return f"{self.reconsideration_id} {self.deadline}"

    def is_open(self, today) -> bool:
        """Waiting for the applicant: not answered, and the last day to answer not yet past."""
        return self.answered_at is None and self.deadline >= today
