"""The form of *Lämna ut handlingar* (workflows.production): one row per item of the case,
and the recipient. Whether a withholding has its reason and provision is the service's to
judge (arenden.production.choices_check); its messages come back to these fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from arenden.errors import ServiceError
from arenden.production import RELEASE_LABELS, ItemChoice, ProductionItem, Release
from arenden.services import _check_upload


class ProductionForm(forms.Form):
    recipient = forms.CharField(
        label=_("Mottagare"), required=False, max_length=300,
        help_text=_("Namn, adress eller e-post om den som begär handlingarna vill uppge det. Lämna tomt om "
                    "personen vill vara anonym: den som begär ut allmänna handlingar behöver inte säga vem "
                    "hen är eller varför (TF 2 kap. 18 §)."),
    )

    def __init__(self, *args, items: list[ProductionItem], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"{item.key}-release"] = forms.ChoiceField(
                label=_("Prövning"), choices=[(r.value, RELEASE_LABELS[r]) for r in Release],
                initial=item.default_release.value, widget=forms.RadioSelect,
            )
            self.fields[f"{item.key}-ground"] = forms.CharField(
                label=_("Bestämmelse i OSL"), required=False, max_length=200, initial=item.secrecy,
                help_text=_("Krävs om handlingen inte lämnas ut eller maskeras, till exempel ”OSL 21 kap. 7 §”."),
                widget=forms.TextInput(attrs={"list": "secrecy-suggestions"}),
            )
            self.fields[f"{item.key}-reason"] = forms.CharField(
                label=_("Skäl"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Krävs om handlingen inte lämnas ut eller maskeras. Står i förteckningen."),
            )
            self.fields[f"{item.key}-masked_copy"] = forms.FileField(
                label=_("Maskerad kopia"), required=False,
                help_text=_("Krävs vid maskering: kopian lämnas ut i stället för originalet."),
            )

    def clean(self):
        cleaned = super().clean()
        for item in self.items:
            upload = cleaned.get(f"{item.key}-masked_copy")
            if upload is None or cleaned.get(f"{item.key}-release") != Release.REDACT:
                continue
            try:
                _check_upload(upload)  # the same checks as every attachment: HTML posing as PDF, programs
            except ServiceError as error:
                self.add_error(f"{item.key}-masked_copy", str(error.message))
        return cleaned

    def rows(self) -> list[dict]:
        """Each item with its bound fields, for the page."""
        return [
            {"item": item, "number": number, "release": self[f"{item.key}-release"],
             "ground": self[f"{item.key}-ground"], "reason": self[f"{item.key}-reason"],
             "masked_copy": self[f"{item.key}-masked_copy"]}
            for number, item in enumerate(self.items, start=1)
        ]

    def choices(self) -> dict[str, ItemChoice]:
        data = self.cleaned_data
        result = {}
        for item in self.items:
            release = data.get(f"{item.key}-release")
            if not release:
                continue
            upload = data.get(f"{item.key}-masked_copy") if release == Release.REDACT else None
            result[item.key] = ItemChoice(
                release=Release(release), ground=data.get(f"{item.key}-ground", ""),
                reason=data.get(f"{item.key}-reason", ""), masked_copy=upload,
                masked_name=upload.name if upload is not None else "",
            )
        return result
