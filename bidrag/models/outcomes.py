import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from arenden.formatting import money


class DetrimentGround(models.TextChoices):
    """FL 37 § andra stycket: the only grounds on which a decision in the party's favour may
    be changed to their detriment (a grant lowered or withdrawn)."""

    RESERVED = "reserved", _("Det framgår av beslutet att det får ändras under vissa förutsättningar")
    SAFETY = "safety", _("Tvingande säkerhetsskäl kräver att beslutet ändras omedelbart")
    MISLEADING = "misleading", _("Felet beror på att sökanden har lämnat felaktiga eller vilseledande uppgifter")


class Decision(models.Model):
    """A decision as sent (Myndighetsförordningen 21 §): immutable, the database refuses
    UPDATE and DELETE (migration). A correction (FL 36 §) and a reconsideration (FL 37 §)
    are new decisions referring to this one."""

    class Outcome(models.TextChoices):
        GRANTED = "granted", _("Beviljad")
        REJECTED = "rejected", _("Avslag")
        DISMISSED = "dismissed", _("Avvisad")
        REPAYMENT_CLAIMED = "repayment_claimed", _("Återkrav")
        REPAYMENT_WAIVED = "repayment_waived", _("Eftergift av återkrav")
        # FL 45 §: an appeal that came in too late is dismissed by Brå, not forwarded.
        APPEAL_DISMISSED = "appeal_dismissed", _("Överklagandet avvisat")
        # FL 12 §: a demand that the case be decided, refused by a decision of its own.
        DEMAND_REFUSED = "demand_refused", _("Begäran om avgörande avslagen")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey("bidrag.Application", on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(_("beslut"), max_length=20, choices=Outcome.choices)
    amount = models.DecimalField(_("belopp (kr)"), max_digits=12, decimal_places=2, null=True, blank=True)
    reasons = models.TextField(_("skäl för beslutet"))
    conditions = models.TextField(_("villkor"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    presented_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("beslutsdatum"))
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")
    # FL 37 §: the decision this one changes on reconsideration (outcome, amount or both).
    reconsiders = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reconsidered_by",
        verbose_name=_("omprövar beslut"),
    )
    # FL 37 § andra stycket: stated when the change goes against the party.
    detriment_ground = models.CharField(
        _("grund för ändring till sökandens nackdel"), max_length=12, choices=DetrimentGround.choices, blank=True,
    )
    # MF 21 §: besides the decider and the presenter, who took part in the final handling
    # without deciding. Rows of an append-only table (migration), added with the decision.
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", blank=True, verbose_name=_("deltagande")
    )

    class Meta:
        verbose_name = _("beslut")
        verbose_name_plural = _("beslut")
        ordering = ["decided_at"]

    def __str__(self):
        return f"{self.get_outcome_display()} {self.decided_at:%Y-%m-%d}"


class StoredDocument(models.Model):
    """A document Brå produced, as stored once (PDF/A) in object storage: never overwritten,
    never changed (the database refuses UPDATE and DELETE on each concrete table), its
    SHA-256 in the case's journal so a changed object is noticed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.FileField(max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.file.name


class DecisionLetter(StoredDocument):
    """The letter a decision sends."""

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="letter")

    class Meta:
        verbose_name = _("beslutsbrev")
        verbose_name_plural = _("beslutsbrev")


class Disbursement(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planerad")
        ATTESTED = "attested", _("Attesterad")
        PAID = "paid", _("Utbetald")
        STOPPED = "stopped", _("Stoppad")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey("bidrag.Application", on_delete=models.PROTECT, related_name="disbursements")
    amount = models.DecimalField(_("belopp (kr)"), max_digits=12, decimal_places=2)
    status = FSMField(default=Status.PLANNED, choices=Status.choices, protected=True)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(auto_now_add=True)
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attested_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(_("betalningsreferens"), max_length=100, blank=True)
    # The payee as it was when the disbursement was prepared: a later change of the
    # organisation's account does not redirect a payment already attested.
    payee_name = models.CharField(_("betalningsmottagare"), max_length=200, blank=True)
    payee_method = models.CharField(_("betalningssätt"), max_length=10, blank=True)
    payee_account = models.CharField(_("bankgiro- eller plusgironummer"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("utbetalning")
        verbose_name_plural = _("utbetalningar")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="disbursement_positive")]

    def __str__(self):
        return f"{money(self.amount)} ({self.get_status_display()})"

    @property
    def payee_account_display(self) -> str:
        from ..payments.accounts import format_account

        return format_account(method=self.payee_method, digits=self.payee_account)

    @transition(field=status, source=Status.PLANNED, target=Status.ATTESTED)
    def attest(self):
        pass

    @transition(field=status, source=Status.ATTESTED, target=Status.PAID)
    def pay(self):
        pass

    @transition(field=status, source=[Status.PLANNED, Status.ATTESTED], target=Status.STOPPED)
    def stop(self):
        pass


class Report(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Inskickad")
        APPROVED = "approved", _("Godkänd")
        RETURNED = "returned", _("Återsänd för komplettering")

    class Kind(models.TextChoices):
        FINAL = "final", _("Slutrapport")
        INTERIM = "interim", _("Delrapport")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey("bidrag.Application", on_delete=models.PROTECT, related_name="reports")
    # An interim report (delrapport) is received and read while the project runs; only the
    # final report is reviewed, approved or returned, and ends the project.
    kind = models.CharField(_("typ"), max_length=10, choices=Kind.choices, default=Kind.FINAL)
    status = FSMField(default=Status.SUBMITTED, choices=Status.choices, protected=True)
    summary = models.TextField(_("genomförande och resultat"))
    actual_costs = models.DecimalField(_("faktiska kostnader (kr)"), max_digits=12, decimal_places=2)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(_("kommentar"), blank=True)
    # The signed ledger extract (huvudboksutdrag) behind the figures; required since
    # issue 6, so reports from before it have none.
    financial_report = models.ForeignKey(
        "arenden.Attachment", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("ekonomisk redovisning"),
    )
    unused_amount = models.DecimalField(
        _("outnyttjat belopp (kr)"), max_digits=12, decimal_places=2, null=True, blank=True,
        help_text=_("Beviljat belopp minus redovisade kostnader, aldrig under noll."),
    )

    class Meta:
        verbose_name = _("slutrapport")
        verbose_name_plural = _("slutrapporter")
        ordering = ["-submitted_at"]

    def __str__(self):
        return f"{self.get_status_display()} {self.submitted_at:%Y-%m-%d}"

    @transition(field=status, source=Status.SUBMITTED, target=Status.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.RETURNED)
    def return_for_supplement(self):
        pass


class ReportLine(models.Model):
    """The actual cost of one budget line, as the report states it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="lines")
    budget_line = models.ForeignKey("bidrag.BudgetLine", on_delete=models.PROTECT, related_name="+")
    actual_amount = models.DecimalField(_("faktisk kostnad (kr)"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("redovisad kostnad")
        verbose_name_plural = _("redovisade kostnader")
        constraints = [
            models.CheckConstraint(condition=models.Q(actual_amount__gte=0), name="report_line_not_negative"),
            models.UniqueConstraint(fields=["report", "budget_line"], name="report_line_once_per_budget_line"),
        ]

    def __str__(self):
        return money(self.actual_amount)


class ChangeRequest(models.Model):
    """Money moved between two budget lines of a granted project.

    Above the scheme's threshold (GrantScheme.change_threshold_amount and _share: more than
    5 000 kr and at least 25 % of the line, for scheme A) it is a written request that the
    case officer approves or rejects; below it the move is made at once, with its note.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Väntar på beslut")
        APPROVED = "approved", _("Godkänd")
        REJECTED = "rejected", _("Avslagen")
        MADE = "made", _("Genomförd (under gränsen för ändringsansökan)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey("bidrag.Application", on_delete=models.PROTECT, related_name="change_requests")
    from_line = models.ForeignKey("bidrag.BudgetLine", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("från budgetrad"))
    to_line = models.ForeignKey("bidrag.BudgetLine", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("till budgetrad"))
    amount = models.DecimalField(_("belopp (kr)"), max_digits=12, decimal_places=2)
    reason = models.TextField(_("skäl"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("motivering"), blank=True)

    class Meta:
        verbose_name = _("ändringsansökan")
        verbose_name_plural = _("ändringsansökningar")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="change_request_positive"),
            models.CheckConstraint(condition=~models.Q(from_line=models.F("to_line")), name="change_request_two_lines"),
        ]

    def __str__(self):
        return f"{money(self.amount)} ({self.get_status_display()})"


class Repayment(models.Model):
    class Status(models.TextChoices):
        CLAIMED = "claimed", _("Återkrävd")
        REPAID = "repaid", _("Återbetald")
        WAIVED = "waived", _("Efterskänkt")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey("bidrag.Application", on_delete=models.PROTECT, related_name="repayments")
    amount = models.DecimalField(_("belopp (kr)"), max_digits=12, decimal_places=2)
    reason = models.TextField(_("grund för återkravet"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CLAIMED)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    claimed_at = models.DateTimeField(auto_now_add=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    settled_at = models.DateTimeField(null=True, blank=True)
    # How the applicant pays it back: by this day, to Brå's bankgiro, with this OCR reference
    # (bidrag.payments.ocr) so the payment is matched to the case.
    due_on = models.DateField(_("ska betalas senast"), null=True, blank=True)
    ocr = models.CharField(_("OCR-nummer"), max_length=25, blank=True)

    class Meta:
        verbose_name = _("återkrav")
        verbose_name_plural = _("återkrav")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="repayment_positive")]

    def __str__(self):
        return f"{money(self.amount)} ({self.get_status_display()})"
