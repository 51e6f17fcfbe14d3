from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenden.formatting import money
from arenden.models import DiariumEntry
from bidrag.models import Proposal


def _default_deadline():
    return timezone.localdate() + timedelta(days=14)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Anteckning"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RequiredNoteForm(forms.Form):
    note = forms.CharField(label=_("Motivering"), widget=forms.Textarea(attrs={"rows": 3}))


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("Kommentar"), widget=forms.Textarea(attrs={"rows": 3}))


class DeadlineForm(forms.Form):
    request_text = forms.CharField(label=_("Vad behöver sökanden göra?"), widget=forms.Textarea(attrs={"rows": 4}))
    deadline = forms.DateField(
        label=_("Svara senast"), initial=_default_deadline, widget=forms.DateInput(attrs={"type": "date"})
    )


class SupplementRequestForm(forms.Form):
    """A supplement request (completeness): a checklist of what is missing, the officer's own
    words, and the deadline proposed from the call's settings (bidrag.completeness)."""

    needs_application = True

    missing = forms.MultipleChoiceField(
        label=_("Vad saknas?"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Det du kryssar i räknas upp i begäran till sökanden."),
    )
    request_text = forms.CharField(
        label=_("Beskriv vad sökanden behöver göra"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Krävs om du kryssar i Annat. Skrivs under listan i begäran."),
    )
    deadline = forms.DateField(label=_("Svara senast"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, application, **kwargs):
        from bidrag.completeness import missing_attachments, supplement_checklist, supplement_deadline

        super().__init__(*args, **kwargs)
        self.fields["missing"].choices = supplement_checklist(application)
        self.fields["missing"].initial = missing_attachments(application)
        self.fields["deadline"].initial = supplement_deadline(application.call)
        self.fields["deadline"].help_text = _(
            "Utlysningens svarstid är %(days)s dagar; en lördag, söndag eller helgdag blir nästa vardag."
        ) % {"days": application.call.supplement_days}

    def clean(self):
        data = super().clean()
        missing, text = data.get("missing") or [], (data.get("request_text") or "").strip()
        if "annat" in missing and not text:
            self.add_error("request_text", _("Beskriv vad som avses med Annat."))
        elif not missing and not text:
            self.add_error("missing", _("Kryssa i vad som saknas eller beskriv det med egna ord."))
        return data


class ProposalForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Förslag"),
        choices=[(Proposal.Outcome.GRANTED, _("Bevilja")), (Proposal.Outcome.REJECTED, _("Avslå"))],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(label=_("Belopp (kr)"), required=False, min_value=0, decimal_places=2, max_digits=12)
    reasons = forms.CharField(
        label=_("Skäl (FL 32 §)"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Vid avslag eller lägre belopp: vad i ansökan som avgjorde, inte bara standardformuleringar."),
    )
    conditions = forms.CharField(label=_("Villkor"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    communication_waived = forms.CharField(
        label=_("Varför underlaget inte behöver kommuniceras (FL 25 §)"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Behövs bara när förslaget går sökanden emot och underlaget inte har kommunicerats, "
                    "till exempel: beslutet grundas enbart på uppgifter som sökanden själv lämnat."),
    )


class DecideForm(forms.Form):
    """The decision on the proposal shown above it; who else took part (MF 21 §): never the
    decider or the presenter, who are recorded as such."""

    needs_application = True
    needs_actor = True

    participants = forms.ModelMultipleChoiceField(
        label=_("Övriga som deltagit i den slutliga handläggningen (MF 21 §)"), required=False,
        queryset=None, widget=forms.CheckboxSelectMultiple,
        help_text=_("Beslutsfattaren och föredraganden antecknas ändå. Den som anmält jäv kan inte väljas."),
    )

    def __init__(self, *args, application, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        from arenden.services import conflict_barred_user_ids
        from bidrag.roles import Role

        staff_roles = [Role.REGISTRAR, Role.CASE_OFFICER, Role.DECISION_MAKER, Role.FINANCE]
        recorded = set(application.proposals.filter(is_open=True).values_list("proposed_by_id", flat=True))
        if actor is not None:
            recorded.add(actor.pk)
        self.fields["participants"].queryset = (
            get_user_model().objects.filter(is_active=True, groups__name__in=staff_roles)
            .exclude(pk__in=conflict_barred_user_ids(case=application.case) | recorded)
            .distinct().order_by("last_name", "first_name", "username")
        )
        self.fields["participants"].label_from_instance = lambda u: u.get_full_name() or u.get_username()


class ReasonsForm(forms.Form):
    reasons = forms.CharField(label=_("Skäl"), widget=forms.Textarea(attrs={"rows": 4}))


class RepaymentProposalForm(forms.Form):
    amount = forms.DecimalField(label=_("Belopp att återkräva (kr)"), min_value=1, decimal_places=2, max_digits=12)
    reasons = forms.CharField(label=_("Grund för återkravet"), widget=forms.Textarea(attrs={"rows": 4}))


class PaymentForm(forms.Form):
    payment_reference = forms.CharField(label=_("Betalningsreferens"), max_length=100)


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Ert svar"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    file = forms.FileField(label=_("Bifoga fil (valfritt)"), required=False)


class ReportForm(forms.Form):
    """The final report: results against the goals, the actual cost of each budget line,
    and the financial report. One amount field per budget line of the application."""

    needs_application = True

    summary = forms.CharField(
        label=_("Genomförande och resultat"),
        help_text=_("Hur projektet genomfördes, vad det gav i förhållande till målen och hur det har följts upp."),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=20000,
    )
    financial_report = forms.FileField(
        label=_("Ekonomisk redovisning"),
        help_text=_("Huvudboksutdrag eller motsvarande, undertecknat av behörig företrädare."),
    )

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        self.budget_lines = list(application.budget_lines.all())
        for line in self.budget_lines:
            self.fields[self.line_field(line)] = forms.DecimalField(
                label=_("Faktisk kostnad: %(line)s") % {"line": line.description},
                help_text=_("Budgeterat: %(amount)s.") % {"amount": money(line.amount)},
                min_value=0, max_digits=12, decimal_places=2,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
        # the lines first, then the words, then the file
        self.order_fields([self.line_field(line) for line in self.budget_lines] + ["summary", "financial_report"])

    @staticmethod
    def line_field(line) -> str:
        return f"line_{line.pk}"

    @staticmethod
    def actual_costs(data: dict) -> dict:
        """The cleaned amounts by budget line id, for the service."""
        return {key.removeprefix("line_"): value for key, value in data.items() if key.startswith("line_")}


class ChangeRequestForm(forms.Form):
    """Move money between two lines of the granted budget."""

    needs_application = True

    from_line = forms.ChoiceField(label=_("Från budgetrad"))
    to_line = forms.ChoiceField(label=_("Till budgetrad"))
    amount = forms.DecimalField(
        label=_("Belopp (kr)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    reason = forms.CharField(label=_("Skäl till ändringen"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        scheme = application.call.scheme
        choices = [("", _("Välj budgetrad"))] + [
            (str(line.pk), f"{line.description} ({money(line.amount)})") for line in application.budget_lines.all()
        ]
        self.fields["from_line"].choices = choices
        self.fields["to_line"].choices = choices
        self.fields["amount"].help_text = _(
            "Mer än %(amount)s som är minst %(share)s %% av raden kräver Brås beslut; mindre flyttas direkt."
        ) % {"amount": money(scheme.change_threshold_amount), "share": scheme.change_threshold_share}


class DecideChangeForm(forms.Form):
    comment = forms.CharField(label=_("Motivering"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Skäl (valfritt)"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label=_("Jag vill återkalla ansökan"), required=True)


class ConflictRulingForm(forms.Form):
    upheld = forms.ChoiceField(
        label=_("Föreligger jäv?"),
        choices=[("yes", _("Ja, jäv föreligger: personen deltar inte i ärendet")),
                 ("no", _("Nej, jäv föreligger inte: personen får delta"))],
        widget=forms.RadioSelect,
    )
    reasons = forms.CharField(label=_("Skäl"), widget=forms.Textarea(attrs={"rows": 3}))


# Provisions a registrar marks most often; any other may be typed.
SECRECY_SUGGESTIONS = ("OSL 21 kap. 1 §", "OSL 21 kap. 7 §", "OSL 18 kap. 8 §", "OSL 30 kap. 23 §")


class DiariumItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Typ av handling"), choices=DiariumEntry.Kind.choices,
                             initial=DiariumEntry.Kind.EMAIL)
    direction = forms.ChoiceField(label=_("Riktning"), choices=DiariumEntry.Direction.choices,
                                  widget=forms.RadioSelect, initial=DiariumEntry.Direction.INCOMING)
    entry_date = forms.DateField(label=_("Datum"), initial=timezone.localdate,
                                 help_text=_("Den dag handlingen kom in, skickades eller upprättades."),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    counterpart = forms.CharField(label=_("Avsändare/mottagare"), max_length=300,
                                  help_text=_("Organisationens namn, eller personens namn."))
    counterpart_private = forms.BooleanField(
        label=_("Avsändaren/mottagaren är en privatperson (namnet visas inte i den allmänna diarieförteckningen)"),
        required=False)
    description = forms.CharField(label=_("Kort beskrivning"), max_length=300,
                                  help_text=_("Visas i den allmänna diarieförteckningen. Skriv inga personuppgifter."))
    secrecy = forms.CharField(
        label=_("Sekretessmarkering"), max_length=200, required=False,
        help_text=_("Den bestämmelse sekretessen kan grundas på, till exempel OSL 21 kap. 7 §. Med markering visas "
                    "bara att handlingen finns, inte avsändare/mottagare eller beskrivning."),
        widget=forms.TextInput(attrs={"list": "secrecy-suggestions", "autocomplete": "off"}))
    note = forms.CharField(label=_("Anteckning"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("För en tjänsteanteckning (FL 27 §): vad som sades, av vem och när."))
    file = forms.FileField(label=_("Bifoga handlingen (valfritt)"), required=False)
