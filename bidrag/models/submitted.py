import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class SubmittedVersion(models.Model):
    """The application exactly as it was sent: frozen at submission, never changed.

    `content` is what the applicant signed (bidrag.submitted.frozen_content), `sha256` its
    digest over the canonical JSON, printed on the receipt and journaled with the
    submission, so anyone can show that what Brå assesses is what was sent. The database
    refuses UPDATE, DELETE and TRUNCATE (append-only, like the journal).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.OneToOneField(
        "bidrag.Application", on_delete=models.PROTECT, related_name="submitted_version"
    )
    content = models.JSONField(_("inskickat innehåll"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("inskickad version")
        verbose_name_plural = _("inskickade versioner")

    def __str__(self):
        return f"{self.content.get('application', {}).get('title', '')} {self.sha256[:12]}"
