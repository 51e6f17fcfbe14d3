"""The record of every export of the decision log and of the disbursements (issue 9).

Kept beside the exports rather than in workflows/models.py; workflows.apps imports it with
the app's models."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DataExport(models.Model):
    """One export: who took it, when, of what, in which format and with which filters.
    Append-only (migration workflows 0006): the record of what left the system is kept as
    the journal is. Staff readers, auditors above all, read it under *Gjorda exporter*."""

    class Kind(models.TextChoices):
        DECISIONS = "beslutslogg", _("Beslutslogg")
        DISBURSEMENTS = "utbetalningar", _("Utbetalningar")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("vad"), max_length=16, choices=Kind.choices)
    file_format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    # The filters as the query string gave them (field name → value), only the valid ones.
    filters = models.JSONField(_("urval"), default=dict, blank=True)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("gjord av"))
    made_at = models.DateTimeField(_("gjord"), auto_now_add=True)

    class Meta:
        app_label = "workflows"
        verbose_name = _("export")
        verbose_name_plural = _("exporter")
        indexes = [models.Index(fields=["made_at", "id"], name="workflows_export_newest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_format} {self.made_at:%Y-%m-%d %H:%M}"
