"""Signing mandates, join requests and invitations of an organisation (issue 6).

A signing mandate (behörighet att teckna organisationen) is proven by a document and
confirmed or rejected by Brå's registrar; each ruling is a MandateDecision row, which the
database refuses to change or delete (migration 0012). The state of the mandate itself is on
Membership.
"""

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .organisation import Membership, Organisation


class MandateDecision(models.Model):
    """The registrar's ruling on one mandate request: who, when, the document, the reasons.

    Append-only, and deliberately without a key to the Membership (a member may leave; the
    record stays): the organisation and the person are named instead.
    """

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", _("Bekräftad")
        REJECTED = "rejected", _("Avslagen")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="mandate_decisions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(
        "arenden.Attachment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(_("utfall"), max_length=20, choices=Outcome.choices)
    reasons = models.TextField(_("skäl"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("prövad"))

    class Meta:
        verbose_name = _("prövning av behörighet")
        verbose_name_plural = _("prövningar av behörighet")
        ordering = ["decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(outcome="rejected") | ~models.Q(reasons=""), name="mandate_rejection_has_reasons"
            ),
        ]

    def __str__(self):
        return f"{self.user} – {self.organisation}: {self.get_outcome_display()}"


class JoinRequest(models.Model):
    """A person asks to join an organisation that already has members; one of its
    firmatecknare with a confirmed mandate approves (member as sökande) or declines.

    The person may also attach proof that they may sign for the organisation (the
    `mandate_*` fields, as on Membership): Brå's registrar then decides it, as any mandate.
    Confirmed, the person is admitted as firmatecknare with a confirmed mandate (the request
    approved, decided by the registrar); rejected, the request still waits for the
    organisation's firmatecknare. This is the way in for a real firmatecknare when nobody in
    the organisation holds a confirmed mandate yet. The ruling is a MandateDecision naming
    the same document.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Väntar")
        APPROVED = "approved", _("Godkänd")
        DECLINED = "declined", _("Avböjd")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(_("status"), max_length=20, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(_("begärd"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("avgjord"), null=True, blank=True)
    mandate_state = models.CharField(
        _("behörighet att teckna"), max_length=20, choices=Membership.Mandate.choices, default=Membership.Mandate.MISSING
    )
    mandate_document = models.ForeignKey(
        "arenden.Attachment", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("bevis om behörighet"),
    )
    mandate_requested_at = models.DateTimeField(_("behörighet begärd"), null=True, blank=True)

    class Meta:
        verbose_name = _("begäran om medlemskap")
        verbose_name_plural = _("begäranden om medlemskap")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], condition=models.Q(state="pending"), name="join_request_one_pending"
            ),
            # A mandate asked for names its proof and when it came in.
            models.CheckConstraint(
                condition=models.Q(mandate_state="none")
                | models.Q(mandate_document__isnull=False, mandate_requested_at__isnull=False),
                name="join_request_mandate_has_proof",
            ),
        ]
        indexes = [
            # The registrar's queue: pending requests whose proof waits, oldest first.
            models.Index(
                fields=["mandate_requested_at"], condition=models.Q(state="pending", mandate_state="requested"),
                name="join_request_proof_queue",
            ),
        ]

    def __str__(self):
        return f"{self.user} → {self.organisation} ({self.get_state_display()})"


def token_hash(token: str) -> str:
    """What is stored of an invitation's token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """An invitation by e-mail to join an organisation in a role; single use, expires.

    The link carries a random token; only its SHA-256 is stored, so a reader of the
    database cannot accept anyone's invitation.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-postadress"))
    role = models.CharField(_("roll"), max_length=20, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("skickad"), auto_now_add=True)
    expires_at = models.DateTimeField(_("gäller till"))
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(_("antagen"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("återkallad"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbjudan")
        verbose_name_plural = _("inbjudningar")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} → {self.organisation}"
