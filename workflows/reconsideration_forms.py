"""The forms of a reconsideration (FL 37–39 §§): the case officer's proposal of a changed
decision, the applicant's request (on their page or as a letter staff register) and the
answer that the decision stands. The rules are the service's (bidrag.services.reconsiderations);
these only clean what was typed."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bidrag.models import DetrimentGround, Proposal


class ReconsiderationForm(forms.Form):
    """The decision in force, changed: shown above it on the page (workflows.reconsideration_views)."""

    outcome = forms.ChoiceField(
        label=_("Nytt beslut"),
        choices=[(Proposal.Outcome.GRANTED, _("Bevilja")), (Proposal.Outcome.REJECTED, _("Avslå")),
                 (Proposal.Outcome.DISMISSED, _("Avvisa"))],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(label=_("Belopp (kr)"), required=False, min_value=0, decimal_places=2, max_digits=12)
    reasons = forms.CharField(
        label=_("Skäl för det nya beslutet (FL 32 §)"), widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Vad som är fel i det tidigare beslutet och vad som avgör det nya."),
    )
    conditions = forms.CharField(label=_("Villkor"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    detriment_ground = forms.ChoiceField(
        label=_("Grund för att ändra till sökandens nackdel (37 § andra stycket förvaltningslagen)"), required=False,
        choices=[("", _("Ändringen går inte sökanden emot")), *DetrimentGround.choices],
        help_text=_("Ett beviljat belopp får bara sänkas på någon av dessa grunder. Redovisa grunden i skälen."),
    )
    why = forms.CharField(
        label=_("Vad föranleder omprövningen?"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Behövs när omprövningen görs på Brås eget initiativ. En begäran eller ett överklagande "
                    "säger det redan."),
    )
    # FL 25 §: a change to the applicant's detriment is communicated to them before it is decided.
    communication_deadline = forms.DateField(
        label=_("Sökanden kan yttra sig till och med (25 § förvaltningslagen)"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Behövs när ändringen går sökanden emot: förslaget skickas till sökanden, och beslut kan fattas "
                    "först när sökanden har yttrat sig eller dagen har passerat."),
    )
    communication_text = forms.CharField(
        label=_("Meddelande till sökanden"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Skickas tillsammans med förslaget när det kommuniceras."),
    )
    appeal = forms.UUIDField(required=False, widget=forms.HiddenInput)


class RequestForm(forms.Form):
    text = forms.CharField(
        label=_("Vad i beslutet vill ni att Brå ändrar, och varför?"), max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class LetterRequestForm(RequestForm):
    """A request that came by post or e-mail, registered by staff with the day it came in."""

    received_on = forms.DateField(label=_("Kom in till Brå"), initial=timezone.localdate,
                                  widget=forms.DateInput(attrs={"type": "date"}))


class CommentsForm(forms.Form):
    """The applicant's answer to a proposal communicated under FL 25 §."""

    answer = forms.CharField(label=_("Ert yttrande över förslaget"), max_length=10000,
                             widget=forms.Textarea(attrs={"rows": 5}))


class KeepForm(forms.Form):
    answer = forms.CharField(label=_("Varför beslutet står fast (svar till sökanden)"),
                             widget=forms.Textarea(attrs={"rows": 4}))
