from django import forms
from django.utils.translation import gettext_lazy as _


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Engångskod"),
        help_text=_("Sex siffror från autentiseringsappen i din telefon."),
        min_length=6,
        max_length=6,
        error_messages={
            "required": _("Skriv koden från appen."),
            "min_length": _("Koden har sex siffror."),
            "max_length": _("Koden har sex siffror."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if not token.isdigit():
            raise forms.ValidationError(_("Koden består bara av siffror."))
        return token
