from django import forms
from django.utils.translation import gettext_lazy as _


class PublicDiariumSearchForm(forms.Form):
    """The public diarium's search (GET): every field optional."""

    dnr = forms.CharField(label=_("Diarienummer"), required=False, max_length=40,
                          help_text=_("Hela numret, till exempel 2027-00012."))
    fran = forms.DateField(label=_("Från och med"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    till = forms.DateField(label=_("Till och med"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    motpart = forms.CharField(label=_("Avsändare/mottagare eller organisation"), required=False, max_length=100)

    def clean(self):
        data = super().clean()
        if data.get("fran") and data.get("till") and data["fran"] > data["till"]:
            self.add_error("till", _("Slutdatumet ligger före startdatumet."))
        return data
