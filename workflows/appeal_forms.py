from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenden.formatting import day
from bidrag.models import Decision


class AppealForm(forms.Form):
    decision = forms.ChoiceField(label=_("Beslut som överklagas"))
    received_on = forms.DateField(
        label=_("Kom in till Brå"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Dagen då överklagandet kom in, även om det skickades till fel adress inom Brå."),
    )
    notified_on = forms.DateField(
        label=_("Sökanden fick del av beslutet"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Lämna tomt om beslutet skickades digitalt samma dag som det fattades."),
    )
    summary = forms.CharField(label=_("Vad överklagandet gäller"), widget=forms.Textarea(attrs={"rows": 4}),
                              max_length=5000)

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        decisions = application.decisions.exclude(outcome=Decision.Outcome.APPEAL_DISMISSED).order_by("-decided_at")
        self.fields["decision"].choices = [
            (str(d.pk), f"{d.get_outcome_display()} {day(d.decided_at)}") for d in decisions
        ]


class ForwardForm(forms.Form):
    court = forms.CharField(label=_("Domstol"), max_length=200, required=False,
                            help_text=_("Lämna tomt för förvaltningsrätten där Brå har sitt säte."))


class DismissForm(forms.Form):
    reasons = forms.CharField(label=_("Skäl för att avvisa (FL 32 §)"), widget=forms.Textarea(attrs={"rows": 3}))
