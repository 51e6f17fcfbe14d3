import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from arenden.formatting import money

from .outcomes import DetrimentGround


class Status(models.TextChoices):
    DRAFT = "draft", _("Utkast")
    SUBMITTED = "submitted", _("Inskickad")
    IN_REVIEW = "in_review", _("Under granskning")
    AWAITING_SUPPLEMENT = "awaiting_supplement", _("Väntar på komplettering")
    DISMISSED = "dismissed", _("Avvisad")
    IN_ASSESSMENT = "in_assessment", _("Under bedömning")
    AWAITING_COMMENTS = "awaiting_comments", _("Kommunicerad, väntar på yttrande")
    DECISION_PROPOSED = "decision_proposed", _("Beslutsförslag")
    GRANTED = "granted", _("Beviljad")
    REJECTED = "rejected", _("Avslagen")
    IN_PROGRESS = "in_progress", _("Pågående projekt")
    CHANGE_REVIEW = "change_review", _("Ändringsansökan prövas")
    REPORT_REVIEW = "report_review", _("Slutrapport granskas")
    REPAYMENT_CLAIMED = "repayment_claimed", _("Återkrav")
    CLOSED = "closed", _("Avslutad")
    WITHDRAWN = "withdrawn", _("Återkallad")


WITHDRAWABLE = [
    Status.DRAFT,
    Status.SUBMITTED,
    Status.IN_REVIEW,
    Status.AWAITING_SUPPLEMENT,
    Status.IN_ASSESSMENT,
    Status.AWAITING_COMMENTS,
    Status.DECISION_PROPOSED,
]
FINAL = [Status.DISMISSED, Status.REJECTED, Status.CLOSED, Status.WITHDRAWN]


class AttachmentKind(models.TextChoices):
    LAGESBILD = "lagesbild", _("Lägesbild")
    ATGARDSPLAN = "atgardsplan", _("Åtgärdsplan")
    BEHORIGHET = "behorighet", _("Bevis om behörig företrädare")
    UTVARDERARE = "utvarderare", _("Intyg om utvärderarens kompetens")
    SVAR = "svar", _("Svar på begäran")
    EKONOMISK_REDOVISNING = "ekonomisk_redovisning", _("Ekonomisk redovisning")
    OVRIGT = "ovrigt", _("Övrigt")


class Application(ConcurrentTransitionMixin, models.Model):
    """An application (ansökan). Its status changes only through the transitions below,
    and those only through bidrag.services (DESIGN.md §3–§4)."""

    Status = Status

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField("arenden.Case", on_delete=models.PROTECT, related_name="application")
    call = models.ForeignKey("bidrag.Call", on_delete=models.PROTECT, related_name="applications")
    organisation = models.ForeignKey("bidrag.Organisation", on_delete=models.PROTECT, related_name="applications")
    status = FSMField(_("status"), default=Status.DRAFT, choices=Status.choices, protected=True, db_index=True)

    # What the applicant writes, step by step (bidrag/steps.py says which step asks for what,
    # per scheme, and what each step needs before it counts as done).
    title = models.CharField(_("projektets namn"), max_length=200)
    # The call's track (inriktning) when the call has tracks: its ceiling is the application's.
    track = models.ForeignKey(
        "bidrag.CallTrack", on_delete=models.PROTECT, null=True, blank=True, related_name="applications",
        verbose_name=_("inriktning"),
    )
    purpose = models.TextField(_("syfte och användning av medlen"), blank=True)
    need = models.TextField(_("behov utifrån brottsproblemen"), blank=True)
    goals = models.TextField(_("mål"), blank=True)
    target_group = models.TextField(_("målgrupp"), blank=True)
    method = models.TextField(_("metod och åtgärder"), blank=True)
    plan = models.TextField(_("plan med tidsram"), blank=True)
    partners = models.TextField(_("samverkansparter"), blank=True)
    # Scheme B: who evaluates, and (a track may require it) their PhD or supervised doctoral studies.
    evaluator = models.TextField(_("utvärderare"), blank=True)
    evaluator_has_phd = models.BooleanField(_("utvärderaren är disputerad eller doktorand under handledning"), default=False)
    # None until answered; when yes, the purpose (other_state_grants) and the amount.
    other_state_grants_any = models.BooleanField(_("andra statliga bidrag sökta eller beviljade"), null=True, blank=True)
    other_state_grants = models.TextField(_("andra statliga bidrag (syfte och belopp)"), blank=True)
    other_state_grants_amount = models.DecimalField(
        _("andra statliga bidrag, belopp (kr)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    evaluation = models.TextField(_("hur resultaten ska utvärderas"), blank=True)
    start_date = models.DateField(_("startdatum"), null=True, blank=True)
    end_date = models.DateField(_("slutdatum"), null=True, blank=True)
    # The declarations (försäkringar) the scheme asks for; which ones, per scheme, in bidrag/steps.py.
    declares_not_existing_activity = models.BooleanField(_("inte befintlig kommunal verksamhet"), default=False)
    declares_not_statutory_duty = models.BooleanField(_("inte uppgifter enligt lag (2023:196)"), default=False)
    declares_no_other_state_grant = models.BooleanField(_("inget annat statligt bidrag för projektet"), default=False)
    declares_no_excluded_costs = models.BooleanField(_("inga kostnader som stödet inte får användas till"), default=False)
    declares_one_application = models.BooleanField(_("en ansökan per utvärdering"), default=False)
    declares_report_published = models.BooleanField(_("slutrapport som Brå publicerar"), default=False)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)
    updated_at = models.DateTimeField(_("ändrad"), auto_now=True)
    submitted_at = models.DateTimeField(_("inskickad"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submit_key = models.CharField(max_length=64, blank=True)
    # A sökande hands a finished draft to the organisation's firmatecknare (the latest request).
    signature_requested_at = models.DateTimeField(_("underskrift begärd"), null=True, blank=True)
    signature_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A draft deleted by its organisation (never submitted): hidden from every selector, its
    # budget, attachments and texts removed; the row stays because its case and the case's
    # append-only journal (create_draft … delete_draft) refer to it (bidrag.services).
    deleted_at = models.DateTimeField(_("raderad"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # "<call>/<organisation>" while a submitted application holds the call's one place for
    # its organisation (Call.one_application_per_organisation); unique, so two submissions
    # at the same moment cannot both take it. Cleared on withdrawal.
    exclusive_key = models.CharField(max_length=80, null=True, blank=True, unique=True, editable=False)
    deadline = models.DateField(_("svarsfrist"), null=True, blank=True)
    deadline_request = models.TextField(_("begäran"), blank=True)

    class Meta:
        verbose_name = _("ansökan")
        verbose_name_plural = _("ansökningar")
        ordering = ["-created_at"]
        permissions = [
            ("register_application", "Registrera inkomna ansökningar"),
            ("handle_application", "Handlägga ansökningar"),
            ("decide_application", "Besluta om ansökningar"),
            ("manage_payments", "Attestera och betala ut"),
            ("audit_application", "Granska allt (revision)"),
        ]
        # Lists come newest first: the applicant's list and the all-cases page read their
        # pages from these indexes (keyset, either end), the second one filtered by status.
        # The staff search's trigram indexes are PostgreSQL's own: migration 0016.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="application_newest_first"),
            models.Index(fields=["status", "-created_at", "-id"], name="application_status_newest"),
        ]

    def __str__(self):
        return self.title

    def ceiling(self) -> Decimal | None:
        """The most that may be asked: the track's (None: no ceiling), else the scheme's."""
        if self.track_id is not None:
            return self.track.ceiling
        return self.call.scheme.ceiling

    def requested_amount(self) -> Decimal:
        if hasattr(self, "requested_total"):
            return self.requested_total or Decimal("0")
        return self.budget_lines.aggregate(total=Sum("amount"))["total"] or Decimal("0")

    # --- transitions: state only. Each is taken by exactly one action of the flow
    # (workflows/flows.py, checked by tests/workflows/test_process_declaration.py), and only
    # through the door (workflows/door.py), whose services journal and notify. ---

    @transition(field=status, source=Status.DRAFT, target=Status.SUBMITTED)
    def submit(self):
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.IN_REVIEW)
    def register(self):
        pass

    @transition(field=status, source=Status.IN_REVIEW, target=Status.AWAITING_SUPPLEMENT)
    def request_supplement(self):
        pass

    @transition(field=status, source=Status.AWAITING_SUPPLEMENT, target=Status.IN_REVIEW)
    def receive_supplement(self):
        pass

    @transition(field=status, source=Status.IN_REVIEW, target=Status.DISMISSED)
    def dismiss(self):
        pass

    @transition(field=status, source=Status.IN_REVIEW, target=Status.IN_ASSESSMENT)
    def start_assessment(self):
        pass

    @transition(field=status, source=Status.IN_ASSESSMENT, target=Status.AWAITING_COMMENTS)
    def communicate(self):
        pass

    @transition(field=status, source=Status.AWAITING_COMMENTS, target=Status.IN_ASSESSMENT)
    def receive_comments(self):
        pass

    @transition(field=status, source=Status.IN_ASSESSMENT, target=Status.DECISION_PROPOSED)
    def propose_decision(self):
        pass

    @transition(field=status, source=Status.DECISION_PROPOSED, target=Status.IN_ASSESSMENT)
    def return_proposal(self):
        pass

    @transition(field=status, source=Status.DECISION_PROPOSED, target=RETURN_VALUE(Status.GRANTED, Status.REJECTED))
    def decide(self, *, granted: bool):
        return Status.GRANTED if granted else Status.REJECTED

    # FL 37 §: a rejection or dismissal reconsidered into a grant; the case reopens and goes
    # on to payment (workflows.flows: decide_reconsideration).
    @transition(field=status, source=[Status.REJECTED, Status.DISMISSED], target=Status.GRANTED)
    def reconsider(self):
        pass

    @transition(field=status, source=Status.GRANTED, target=Status.IN_PROGRESS)
    def pay_disbursement(self):
        pass

    @transition(field=status, source=Status.IN_PROGRESS, target=Status.REPORT_REVIEW)
    def submit_report(self):
        pass

    # A change to the granted budget above the scheme's threshold waits for Brå's decision.
    @transition(field=status, source=Status.IN_PROGRESS, target=Status.CHANGE_REVIEW)
    def request_change(self):
        pass

    @transition(field=status, source=Status.CHANGE_REVIEW, target=Status.IN_PROGRESS)
    def approve_change(self):
        pass

    @transition(field=status, source=Status.CHANGE_REVIEW, target=Status.IN_PROGRESS)
    def reject_change(self):
        pass

    @transition(field=status, source=Status.REPORT_REVIEW, target=Status.IN_PROGRESS)
    def return_report(self):
        pass

    @transition(field=status, source=Status.REPORT_REVIEW, target=Status.CLOSED)
    def approve_report(self):
        pass

    @transition(field=status, source=[Status.REPORT_REVIEW, Status.IN_PROGRESS], target=Status.REPAYMENT_CLAIMED)
    def claim_repayment(self):
        pass

    @transition(field=status, source=Status.REPAYMENT_CLAIMED, target=Status.CLOSED)
    def register_repayment(self):
        pass

    @transition(field=status, source=Status.REPAYMENT_CLAIMED, target=Status.CLOSED)
    def waive_repayment(self):
        pass

    @transition(field=status, source=WITHDRAWABLE, target=Status.WITHDRAWN)
    def withdraw(self):
        pass


class BudgetLine(models.Model):
    """One cost of the budget. A project that spans several calendar years (bidragsår) puts
    each line in one of them (`year`), and the budget is totalled per year and in all; a
    project within one year leaves `year` empty (it is that year). A cost that runs over
    both years is entered as one line per year. Which categories a scheme refuses is data
    (GrantScheme.excluded_categories), not code."""

    class Category(models.TextChoices):
        STAFF = "staff", _("Personal")
        EXTERNAL = "external", _("Extern aktör eller utvärderare")
        MATERIAL = "material", _("Material")
        TRAVEL = "travel", _("Resor inom Sverige")
        TRAVEL_ABROAD = "travel_abroad", _("Resor utomlands")
        RUNNING = "running", _("Löpande kostnader (drift, lokaler, administration)")
        CAPITAL = "capital", _("Kapitalinvesteringar")
        PURCHASE = "purchase", _("Större inköp")
        OTHER = "other", _("Övrigt")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="budget_lines")
    category = models.CharField(_("kostnadsslag"), max_length=20, choices=Category.choices)
    description = models.CharField(_("beskrivning"), max_length=200)
    amount = models.DecimalField(_("belopp (kr)"), max_digits=12, decimal_places=2)
    year = models.PositiveSmallIntegerField(_("år"), null=True, blank=True)

    class Meta:
        verbose_name = _("budgetrad")
        verbose_name_plural = _("budgetrader")
        ordering = ["year", "category", "description"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="budget_line_positive")]

    def __str__(self):
        return f"{self.description} ({money(self.amount)})"


class Proposal(models.Model):
    """What the föredragande puts before the decision maker: a decision, a dismissal or a
    repayment claim. The decision maker acts on the open one and may not be its author."""

    class Kind(models.TextChoices):
        DECISION = "decision", _("Beslutsförslag")
        DISMISSAL = "dismissal", _("Förslag om avvisning")
        REPAYMENT = "repayment", _("Förslag om återkrav")
        WAIVER = "waiver", _("Förslag om eftergift")
        # FL 37 §: a sent decision changed by a new one (bidrag.services.reconsiderations).
        RECONSIDERATION = "reconsideration", _("Förslag om omprövning")

    class Outcome(models.TextChoices):
        GRANTED = "granted", _("Bevilja")
        REJECTED = "rejected", _("Avslå")
        DISMISSED = "dismissed", _("Avvisa")
        REPAYMENT = "repayment", _("Återkräva")
        WAIVER = "waiver", _("Efterge")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="proposals")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    outcome = models.CharField(_("utfall"), max_length=20, choices=Outcome.choices)
    amount = models.DecimalField(_("belopp (kr)"), max_digits=12, decimal_places=2, null=True, blank=True)
    reasons = models.TextField(_("skäl"))
    conditions = models.TextField(_("villkor"), blank=True)
    # FL 25 §: an adverse decision follows a communication of the material, unless that is
    # plainly unnecessary; the proposer then says why.
    communication_waived = models.TextField(_("skäl att inte kommunicera (FL 25 §)"), blank=True)
    # A reconsideration that goes against the party names its FL 37 § ground.
    detriment_ground = models.CharField(
        _("grund för ändring till sökandens nackdel"), max_length=12, choices=DetrimentGround.choices, blank=True,
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    is_open = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("förslag")
        verbose_name_plural = _("förslag")
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=models.Q(is_open=True), name="one_open_proposal_per_application"
            )
        ]

    def __str__(self):
        return str(self.get_kind_display())
