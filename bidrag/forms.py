from django import forms
from django.conf import settings
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from arenden.services import ALLOWED_TYPES

from .models import Application, BudgetLine
from .models.application import AttachmentKind

# What an applicant may choose when uploading; "svar" is set by the answer pages.
ATTACHMENT_KINDS = [(k.value, k.label) for k in AttachmentKind if k != AttachmentKind.SVAR]


class KeepsErrors:
    """A form shown again after Post/Redirect/Get with what was typed and what was wrong.

    The POST that failed kept its data and messages (bidrag.views); the page the redirect
    leads to binds the data and shows those messages, not a second validation's.
    """

    def restore_errors(self, errors: dict[str, list[str]]) -> None:
        self._errors = ErrorDict(renderer=self.renderer)
        self.cleaned_data = {}
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


class ApplicationCreateForm(forms.Form):
    """Nothing is chosen for the person: an organisation only when they represent just one,
    a call only when the link named it (?utlysning=…) or just one is open."""

    organisation = forms.ModelChoiceField(
        label=_("Sökande organisation"), queryset=None, empty_label=_("Välj organisation"),
        error_messages={"required": _("Välj vilken organisation som söker."),
                        "invalid_choice": _("Välj en av organisationerna du företräder.")},
    )
    call = forms.ModelChoiceField(
        label=_("Utlysning"), queryset=None, empty_label=_("Välj utlysning"),
        error_messages={"required": _("Välj vilken utlysning ni söker i."),
                        "invalid_choice": _("Utlysningen är inte öppen för ansökningar. Välj en öppen utlysning.")},
    )
    title = forms.CharField(label=_("Projektets namn"), max_length=200)

    def __init__(self, *args, organisations, calls, call=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["call"].queryset = calls
        only = list(organisations[:2])
        if len(only) == 1:
            self.initial.setdefault("organisation", only[0].pk)
        if call is None:
            open_now = list(calls[:2])
            call = open_now[0] if len(open_now) == 1 else None
        if call is not None:
            self.initial.setdefault("call", call.pk)


class OrganisationChangeForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Sökande organisation"), queryset=None, empty_label=None,
        error_messages={"invalid_choice": _("Välj en av organisationerna du företräder.")},
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class DraftForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = ["title", "purpose", "need", "plan", "partners", "other_state_grants", "evaluation", "start_date", "end_date"]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 4}),
            "need": forms.Textarea(attrs={"rows": 4}),
            "plan": forms.Textarea(attrs={"rows": 4}),
            "partners": forms.Textarea(attrs={"rows": 2}),
            "other_state_grants": forms.Textarea(attrs={"rows": 2}),
            "evaluation": forms.Textarea(attrs={"rows": 3}),
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("Slutdatum kan inte ligga före startdatum."))
        return data


class BudgetLineForm(KeepsErrors, forms.ModelForm):
    class Meta:
        model = BudgetLine
        fields = ["category", "description", "amount"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django's own blank choice ("- Select an option -") has no Swedish translation.
        self.fields["category"].choices = [("", _("Välj kostnadsslag")), *BudgetLine.Category.choices]

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is None or amount <= 0:
            raise forms.ValidationError(_("Beloppet måste vara större än noll."))
        return amount


class AttachmentForm(KeepsErrors, forms.Form):
    kind = forms.ChoiceField(label=_("Typ av bilaga"), choices=ATTACHMENT_KINDS)
    file = forms.FileField(
        label=_("Fil"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_TYPES)}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "PDF, Word, Excel, OpenDocument, bild eller text, högst %(mb)s MB."
        ) % {"mb": settings.ATTACHMENT_MAX_BYTES // 1_048_576}
