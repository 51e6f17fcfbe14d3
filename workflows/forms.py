from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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


class ProposalForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Förslag"),
        choices=[(Proposal.Outcome.GRANTED, _("Bevilja")), (Proposal.Outcome.REJECTED, _("Avslå"))],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(label=_("Belopp (kr)"), required=False, min_value=0, decimal_places=2, max_digits=12)
    reasons = forms.CharField(label=_("Skäl (FL 32 §)"), widget=forms.Textarea(attrs={"rows": 4}))
    conditions = forms.CharField(label=_("Villkor"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


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
    summary = forms.CharField(label=_("Genomförande och resultat"), widget=forms.Textarea(attrs={"rows": 6}))
    actual_costs = forms.DecimalField(label=_("Faktiska kostnader (kr)"), min_value=0, decimal_places=2, max_digits=12)


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
