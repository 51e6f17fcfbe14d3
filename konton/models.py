"""Who a person is (their e-ID) and how they logged in.

The person key is the personnummer from the e-ID, never the provider's ``sub``: under the
Swedish OIDC profile ``sub`` is an opaque, often pairwise, identifier that differs between
brokers and clients. An e-ID proves the person only; what they may do for an organisation
is a separate, recorded fact (mandates), not part of this app.
"""

import contextlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .personnummer import is_samordningsnummer, personnummer_normalise, validate_personnummer


class EIdentity(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="eidentity", verbose_name=_("användare")
    )
    # Twelve digits, YYYYMMDDNNNN; a samordningsnummer's day is 61-91 (konton/personnummer.py).
    personnummer = models.CharField(_("personnummer"), max_length=13, unique=True, validators=[validate_personnummer])
    issuer = models.CharField(_("utfärdare"), max_length=255, help_text=_("Den e-legitimationstjänst som senast intygade personen."))
    # Kept for reference and support only; never used to find the person.
    subject = models.CharField(_("sub hos utfärdaren"), max_length=255, blank=True)
    last_acr = models.CharField(_("senaste tillitsnivå (acr)"), max_length=255, blank=True)
    last_auth_time = models.DateTimeField(_("senaste legitimering"), null=True, blank=True)
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)
    updated_at = models.DateTimeField(_("ändrad"), auto_now=True)

    class Meta:
        verbose_name = _("e-legitimation")
        verbose_name_plural = _("e-legitimationer")

    def __str__(self) -> str:
        return f"{self.personnummer[:8]}-****"

    @property
    def is_samordningsnummer(self) -> bool:
        """A coordination number (day of birth + 60), read from the digits themselves."""
        return len(self.personnummer) == 12 and self.personnummer.isdigit() and is_samordningsnummer(self.personnummer)

    def clean(self) -> None:
        if self.personnummer:
            with contextlib.suppress(ValueError):  # the field's validator has said so
                self.personnummer = personnummer_normalise(self.personnummer)


class LoginMethod(models.TextChoices):
    EID = "eid", _("e-legitimation")
    PASSWORD = "password", _("lösenord")


class LoginRecord(models.Model):
    """One successful login: who, when, how, at which assurance level, from where."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="login_records", verbose_name=_("användare")
    )
    at = models.DateTimeField(_("tidpunkt"), auto_now_add=True, db_index=True)
    method = models.CharField(_("sätt"), max_length=16, choices=LoginMethod.choices)
    issuer = models.CharField(_("utfärdare"), max_length=255, blank=True)
    acr = models.CharField(_("tillitsnivå (acr)"), max_length=255, blank=True)
    auth_time = models.DateTimeField(_("legitimerad"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("adress"), null=True, blank=True)
    user_agent = models.CharField(_("webbläsare"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("inloggning")
        verbose_name_plural = _("inloggningar")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.user} {self.at:%Y-%m-%d %H:%M} ({self.get_method_display()})"


class SecondFactorEventKind(models.TextChoices):
    BACKUP_CODES_CREATED = "backup_codes_created", _("reservkoder skapade")
    BACKUP_CODE_USED = "backup_code_used", _("reservkod använd")
    DEVICES_RESET = "devices_reset", _("tvåstegsverifiering återställd")


class SecondFactorEvent(models.Model):
    """What happened to a staff member's second factor beyond giving an app's code: a new
    set of backup codes, a backup code used, all devices reset by an administrator.
    Written by konton.services only; read-only in the admin."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="second_factor_events", verbose_name=_("användare")
    )
    at = models.DateTimeField(_("tidpunkt"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("händelse"), max_length=32, choices=SecondFactorEventKind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("utförd av"),
        help_text=_("Den som gjorde det: användaren själv, eller administratören som återställde."),
    )
    codes_left = models.PositiveSmallIntegerField(_("oanvända reservkoder efteråt"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("adress"), null=True, blank=True)
    detail = models.CharField(_("uppgifter"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("händelse i tvåstegsverifieringen")
        verbose_name_plural = _("händelser i tvåstegsverifieringen")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user} {self.at:%Y-%m-%d %H:%M} ({self.get_kind_display()})"
