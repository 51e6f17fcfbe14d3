import re

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


class BackupCodeForm(forms.Form):
    """One of the backup codes shown when two-step verification was set up: eight
    characters, a-z and 2-7; spaces, dashes and capitals as the person writes them."""

    code = forms.CharField(
        label=_("Reservkod"),
        help_text=_("Åtta tecken från listan med reservkoder som du sparade. Varje kod fungerar en gång."),
        max_length=32,
        error_messages={"required": _("Skriv en av dina reservkoder.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false", "size": 12}),
    )

    def clean_code(self) -> str:
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"]).lower()
        if not re.fullmatch(r"[a-z2-7]{8}", code):
            raise forms.ValidationError(_("En reservkod har åtta tecken: bokstäver a–z och siffror 2–7."))
        return code
