import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..orgnr import LegalForm, format_orgnr, legal_form_for


class Organisation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("namn"), max_length=200)
    orgnr = models.CharField(_("organisationsnummer"), max_length=10, unique=True, help_text=_("Tio siffror."))
    kommunkod = models.CharField(_("kommunkod"), max_length=4, blank=True)
    email = models.EmailField(_("e-post för beslut och besked"), blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="organisations")

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisationer")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.orgnr_display})"

    @property
    def orgnr_display(self) -> str:
        return format_orgnr(self.orgnr)

    @property
    def legal_form(self) -> str:
        return legal_form_for(self.orgnr)

    def get_legal_form_display(self) -> str:
        return LegalForm(self.legal_form).label


class Membership(models.Model):
    class Role(models.TextChoices):
        APPLICANT = "applicant", _("Sökande")
        SIGNATORY = "signatory", _("Firmatecknare")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("roll"), max_length=20, choices=Role.choices, default=Role.APPLICANT)

    class Meta:
        verbose_name = _("medlemskap")
        verbose_name_plural = _("medlemskap")
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} – {self.organisation} ({self.get_role_display()})"


class GrantScheme(models.Model):
    """One of Brå's support schemes, as data: figures change per call, never in code."""

    code = models.SlugField(_("kod"), unique=True)
    name = models.CharField(_("namn"), max_length=200)
    legal_basis = models.CharField(_("rättslig grund"), max_length=300, blank=True)
    description = models.TextField(_("beskrivning"), blank=True)
    eligible_legal_forms = models.JSONField(_("behöriga organisationsformer"), default=list)
    ceiling = models.DecimalField(_("högsta belopp (kr)"), max_digits=12, decimal_places=2, null=True, blank=True)
    max_duration_months = models.PositiveIntegerField(_("längsta projekttid (månader)"), null=True, blank=True)
    required_attachments = models.JSONField(_("obligatoriska bilagor"), default=list, blank=True)

    class Meta:
        verbose_name = _("stödform")
        verbose_name_plural = _("stödformer")

    def __str__(self):
        return self.name


class Call(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scheme = models.ForeignKey(GrantScheme, on_delete=models.PROTECT, related_name="calls")
    title = models.CharField(_("rubrik"), max_length=200)
    opens_at = models.DateTimeField(_("öppnar"))
    closes_at = models.DateTimeField(_("stänger"))
    budget = models.DecimalField(_("budget (kr)"), max_digits=14, decimal_places=2)
    one_application_per_organisation = models.BooleanField(_("en ansökan per organisation"), default=False)

    class Meta:
        verbose_name = _("utlysning")
        verbose_name_plural = _("utlysningar")
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(closes_at__gt=models.F("opens_at")), name="call_closes_after_opens")
        ]

    def __str__(self):
        return self.title

    def is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.opens_at <= at < self.closes_at
