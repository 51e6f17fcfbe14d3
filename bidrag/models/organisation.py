import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..orgnr import LegalForm, format_orgnr, legal_form_for


class PaymentMethod(models.TextChoices):
    """How Brå pays an organisation: Swedish domestic giro payments (bidrag/payments)."""

    BANKGIRO = "bankgiro", _("Bankgiro")
    PLUSGIRO = "plusgiro", _("Plusgiro")


class Organisation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("namn"), max_length=200)
    orgnr = models.CharField(_("organisationsnummer"), max_length=10, unique=True, help_text=_("Tio siffror."))
    kommunkod = models.CharField(_("kommunkod"), max_length=4, blank=True)
    email = models.EmailField(_("e-post för beslut och besked"), blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", through_fields=("organisation", "user"), related_name="organisations"
    )
    # Where grants are paid: set by the organisation's firmatecknare (bidrag.payments.accounts),
    # digits only; a disbursement copies it when it is prepared.
    payment_method = models.CharField(_("betalningssätt"), max_length=10, choices=PaymentMethod.choices, blank=True)
    payment_account = models.CharField(_("bankgiro- eller plusgironummer"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisationer")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(payment_method="", payment_account="")
                | (~models.Q(payment_method="") & ~models.Q(payment_account="")),
                name="organisation_payment_account_whole",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.orgnr_display})"

    @property
    def orgnr_display(self) -> str:
        return format_orgnr(self.orgnr)

    @property
    def payment_account_display(self) -> str:
        from ..payments.accounts import format_account

        return format_account(method=self.payment_method, digits=self.payment_account)

    @property
    def legal_form(self) -> str:
        return legal_form_for(self.orgnr)

    def get_legal_form_display(self) -> str:
        return LegalForm(self.legal_form).label


class Membership(models.Model):
    """A person's place in an organisation, and what the policy lets them do there.

    `role` is the role the organisation gave: sökande (may edit the organisation's drafts) or
    firmatecknare/ombud (may also sign and submit, withdraw, report, request changes). A
    firmatecknare's signing rights count only once their mandate is proven by a document
    (a delegation extract, board minutes) and confirmed by Brå's registrar: until then the
    policy (workflows/policy.py) treats them as a sökande. An e-ID proves the person, never
    the mandate. Each confirmation or rejection is also written to the append-only
    MandateDecision.
    """

    class Role(models.TextChoices):
        APPLICANT = "applicant", _("Sökande")
        SIGNATORY = "signatory", _("Firmatecknare eller ombud")

    class Mandate(models.TextChoices):
        MISSING = "none", _("Saknas")
        REQUESTED = "requested", _("Väntar på Brå")
        CONFIRMED = "confirmed", _("Bekräftad")
        REJECTED = "rejected", _("Avslagen")

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("roll"), max_length=20, choices=Role.choices, default=Role.APPLICANT)
    created_at = models.DateTimeField(_("medlem sedan"), default=timezone.now)
    mandate_state = models.CharField(
        _("behörighet att teckna"), max_length=20, choices=Mandate.choices, default=Mandate.MISSING
    )
    mandate_document = models.ForeignKey(
        "arenden.Attachment", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("bevis om behörighet"),
    )
    mandate_requested_at = models.DateTimeField(_("behörighet begärd"), null=True, blank=True)
    mandate_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("behörighet bekräftad av"),
    )
    mandate_confirmed_at = models.DateTimeField(_("behörighet bekräftad"), null=True, blank=True)

    # The one definition of "may sign for the organisation" (the policy and every list use it).
    SIGNING = models.Q(role=Role.SIGNATORY, mandate_state=Mandate.CONFIRMED)

    class Meta:
        verbose_name = _("medlemskap")
        verbose_name_plural = _("medlemskap")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="membership_unique"),
            # Only a firmatecknare has a mandate to prove; a confirmed one names who confirmed it, and when.
            models.CheckConstraint(
                condition=models.Q(mandate_state="none") | models.Q(role="signatory"),
                name="membership_mandate_only_for_signatory",
            ),
            models.CheckConstraint(
                condition=~models.Q(mandate_state="confirmed")
                | models.Q(mandate_confirmed_by__isnull=False, mandate_confirmed_at__isnull=False),
                name="membership_confirmed_mandate_recorded",
            ),
        ]
        indexes = [models.Index(fields=["mandate_state", "mandate_requested_at"], name="membership_mandate_queue")]

    def __str__(self):
        return f"{self.user} – {self.organisation} ({self.get_role_display()})"

    @property
    def may_sign(self) -> bool:
        return self.role == self.Role.SIGNATORY and self.mandate_state == self.Mandate.CONFIRMED


class GrantScheme(models.Model):
    """One of Brå's support schemes, as data: figures change per call, never in code.

    What the public pages show of a scheme comes from here: who may apply
    (`eligible_legal_forms`, codes of bidrag.orgnr.LegalForm), what must be attached
    (`required_attachments`, codes of AttachmentKind), how applications are assessed
    (`assessment_criteria`) and the standing rules (`guidance`). What differs from one
    round to the next (deadline, tracks and their ceilings, notes for the round) is on
    the Call and its CallTracks.
    """

    code = models.SlugField(_("kod"), unique=True)
    name = models.CharField(_("namn"), max_length=200)
    legal_basis = models.CharField(_("rättslig grund"), max_length=300, blank=True)
    description = models.TextField(_("beskrivning"), blank=True)
    eligible_legal_forms = models.JSONField(_("behöriga organisationsformer"), default=list)
    ceiling = models.DecimalField(_("högsta belopp (kr)"), max_digits=12, decimal_places=2, null=True, blank=True)
    max_duration_months = models.PositiveIntegerField(_("längsta projekttid (månader)"), null=True, blank=True)
    required_attachments = models.JSONField(_("obligatoriska bilagor"), default=list, blank=True)
    # Moving money between budget lines needs a written change request when the amount is
    # above change_threshold_amount AND at least change_threshold_share % of the line it leaves.
    change_threshold_amount = models.DecimalField(
        _("gräns för ändringsansökan (kr)"), max_digits=12, decimal_places=2, default=5000
    )
    change_threshold_share = models.PositiveSmallIntegerField(_("gräns för ändringsansökan (% av raden)"), default=25)
    assessment_criteria = models.JSONField(
        _("bedömningsgrunder"),
        default=list,
        blank=True,
        help_text=_('En lista med en post per grund: [{"name": "Relevans", "description": "…"}].'),
    )
    guidance = models.TextField(
        _("anvisningar"), blank=True, help_text=_("Vad stödet får och inte får användas till. Ett stycke per tomrad.")
    )
    information_url = models.URLField(_("mer information och mallar"), blank=True)
    # What the decision letter and the pages say about appeals: the schemes rest on
    # different grounds (an ordinance for one, the appropriation for the other), and even
    # where appeal is barred an appeal is registered and forwarded (HFD 2016 ref. 49).
    appeal_notice = models.TextField(
        _("upplysning om överklagande"), blank=True,
        help_text=_("Står i beslutsbrevet och på sidorna. Tomt: Brås allmänna upplysning."),
    )
    appeal_notice_en = models.TextField(
        _("upplysning om överklagande, engelska"), blank=True,
        help_text=_("Visas på sidorna för den som valt engelska. Tomt: den allmänna upplysningen på engelska."),
    )
    # Cost categories (BudgetLine.Category codes) the scheme does not pay for, each with the
    # rule named: [{"category": "running", "reason": "…"}]. Refused at the budget line.
    excluded_categories = models.JSONField(
        _("kostnadsslag som inte får ingå"),
        default=list,
        blank=True,
        help_text=_('En post per kostnadsslag: [{"category": "running", "reason": "Regeln som utesluter det."}].'),
    )

    class Meta:
        verbose_name = _("stödform")
        verbose_name_plural = _("stödformer")

    def __str__(self):
        return self.name


def boilerplate_default() -> list[str]:
    """Stock phrases of refusal letters that say nothing about the application itself."""
    return [
        "Ansökan har inte prioriterats",
        "i konkurrens med andra ansökningar",
        "Brå har fått in fler ansökningar än det finns medel till",
        "Medlen räcker inte till samtliga ansökningar",
        "Ansökan har bedömts ha lägre prioritet än andra ansökningar",
        "Ansökan uppfyller inte kriterierna",
        "Ansökan avslås",
    ]


class Call(models.Model):
    """One round of a scheme (utlysning): open from `opens_at` until `closes_at` (by
    convention 23.59 Europe/Stockholm on the last day). `guidance` holds what is
    particular to this round; the scheme's standing rules are on GrantScheme."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scheme = models.ForeignKey(GrantScheme, on_delete=models.PROTECT, related_name="calls")
    title = models.CharField(_("rubrik"), max_length=200)
    opens_at = models.DateTimeField(_("öppnar"))
    closes_at = models.DateTimeField(_("stänger"))
    budget = models.DecimalField(_("budget (kr)"), max_digits=14, decimal_places=2)
    one_application_per_organisation = models.BooleanField(_("en ansökan per organisation"), default=False)
    # The assessment scale: each criterion of the scheme is scored 1..score_scale_max.
    score_scale_max = models.PositiveSmallIntegerField(
        _("bedömningsskalans högsta poäng"), default=5,
        validators=[MinValueValidator(2), MaxValueValidator(10)],
        help_text=_("Varje bedömningsgrund får 1 till så här många poäng."),
    )
    guidance = models.TextField(
        _("anvisningar för utlysningen"), blank=True, help_text=_("Det som gäller just denna utlysning. Ett stycke per tomrad.")
    )
    # The applicant's time to complete the application when the case officer asks (issue 7,
    # completeness): the supplement request's deadline is proposed from it.
    supplement_days = models.PositiveSmallIntegerField(
        _("svarstid vid begäran om komplettering (dagar)"), default=14,
        help_text=_("Kalenderdagar från begäran. Infaller sista dagen på en lördag, söndag eller helgdag "
                    "flyttas den till nästa vardag."),
    )
    # FL 32 §: a refusal states the real reasons (JO has criticised refusals given with
    # stock phrases only). An adverse proposal's reasons must reach this many characters
    # not counting the stock phrases below.
    reasons_min_length = models.PositiveSmallIntegerField(
        _("minsta längd på skäl vid avslag (tecken)"), default=80,
        help_text=_("Räknas utan standardformuleringarna nedan."),
    )
    # FL 9 and 11 §§: the handling time Brå aims at, from registration to decision; a case
    # nearing it without a decision is flagged, and the applicant told of a delay.
    target_days = models.PositiveSmallIntegerField(
        _("mål för handläggningstid (dagar)"), default=120,
        help_text=_("Från registrering till beslut. Ärenden som närmar sig målet visas som risk för försening."),
    )
    boilerplate_phrases = models.JSONField(
        _("standardformuleringar"), default=boilerplate_default, blank=True,
        help_text=_('Fraser som inte räknas som skäl: ["Ansökan har inte prioriterats", …].'),
    )

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


class CallTrack(models.Model):
    """A track (inriktning) of a call with its own ceiling; no ceiling when `ceiling` is
    empty. An application of a call with tracks chooses one (Application.track), and its
    ceiling is the track's. A track may ask for more: the evaluator's PhD (or supervised
    doctoral studies) declared on the application, and attachments beyond the scheme's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="tracks")
    name = models.CharField(_("namn"), max_length=200)
    ceiling = models.DecimalField(
        _("högsta belopp (kr)"), max_digits=12, decimal_places=2, null=True, blank=True, help_text=_("Tomt: inget tak.")
    )
    description = models.TextField(_("beskrivning"), blank=True)
    position = models.PositiveSmallIntegerField(_("ordning"), default=0)
    requires_evaluator_phd = models.BooleanField(
        _("kräver disputerad utvärderare"), default=False,
        help_text=_("Sökande intygar att utvärderaren har doktorsexamen eller är doktorand under handledning."),
    )
    required_attachments = models.JSONField(
        _("obligatoriska bilagor utöver stödformens"), default=list, blank=True
    )

    class Meta:
        verbose_name = _("inriktning")
        verbose_name_plural = _("inriktningar")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["call", "name"], name="call_track_unique_name"),
            models.CheckConstraint(
                condition=models.Q(ceiling__isnull=True) | models.Q(ceiling__gt=0), name="call_track_ceiling_positive"
            ),
        ]

    def __str__(self):
        return self.name
