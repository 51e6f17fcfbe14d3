import re

from django import forms
from django.conf import settings
from django.forms.utils import ErrorDict
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from arenden.formatting import money
from arenden.services import ALLOWED_TYPES

from .models import BudgetLine, CallTrack
from .models.application import AttachmentKind
from .services.applications import MAX_AMOUNT

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
    track = forms.ChoiceField(
        label=_("Inriktning"), required=False,
        help_text=_("Utlysningar med flera inriktningar: välj den som projektet söker inom. Inriktningen avgör "
                    "det högsta belopp ni kan söka och kan ändras i utkastet."),
    )
    title = forms.CharField(label=_("Projektets namn"), max_length=200)

    def __init__(self, *args, organisations, calls, call=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["call"].queryset = calls
        # One group of options per open call, so the choice reads "which call, which track".
        self._tracks = {str(t.pk): t for t in CallTrack.objects.filter(call__in=calls).select_related("call")}
        groups: dict = {}
        for track in self._tracks.values():
            groups.setdefault(track.call.title, []).append((str(track.pk), track_label(track)))
        self.fields["track"].choices = [("", _("Välj inriktning")), *groups.items()]
        only = list(organisations[:2])
        if len(only) == 1:
            self.initial.setdefault("organisation", only[0].pk)
        if call is None:
            open_now = list(calls[:2])
            call = open_now[0] if len(open_now) == 1 else None
        if call is not None:
            self.initial.setdefault("call", call.pk)

    def clean(self):
        data = super().clean()
        call, track = data.get("call"), self._tracks.get(data.get("track") or "")
        if call is not None:
            call_tracks = [t for t in self._tracks.values() if t.call_id == call.pk]
            if call_tracks and track is None:
                self.add_error("track", _("Välj vilken inriktning i utlysningen ni söker inom."))
            elif track is not None and track.call_id != call.pk:
                self.add_error("track", _("Inriktningen hör till en annan utlysning. Välj en av den valda utlysningens."))
        data["track"] = track
        return data


def track_label(track: CallTrack) -> str:
    if track.ceiling:
        return str(_("%(name)s (högst %(ceiling)s)") % {"name": track.name, "ceiling": money(track.ceiling)})
    return str(_("%(name)s (inget beloppstak)") % {"name": track.name})


_AMOUNT = re.compile(r"[-\u2212]?\d+(\.\d+)?")


class SekAmountField(forms.DecimalField):
    """An amount in kronor as people write it: "25000", "25 000", "25 000,50"; refused in
    words when it is not a number, not above zero, or more than the 12 digits a line holds."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("error_messages", {
            "invalid": _("Skriv beloppet i kronor med siffror, till exempel 25000 eller 25 000,50."),
            "max_digits": _("Beloppet är för stort: högst %(max)s.") % {"max": money(MAX_AMOUNT)},
            "max_whole_digits": _("Beloppet är för stort: högst %(max)s.") % {"max": money(MAX_AMOUNT)},
            "max_decimal_places": _("Beloppet får ha högst två decimaler (ören)."),
            "required": _("Ange beloppet."),
        })
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
            value = value.removesuffix("kr").removeprefix("SEK").replace("\u2212", "-")
            # Swedish writes the decimal sign as a comma ("25 000,50"); English groups
            # thousands with it ("25,000.50", as arenden.formatting.money writes SEK).
            english = (get_language() or "sv").startswith("en")
            value = value.replace(",", "") if english else value.replace(",", ".")
            # Digits with at most one decimal point: no "1e5", "Infinity" or "12,345,6".
            if value and not _AMOUNT.fullmatch(value):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def validate(self, value):
        super().validate(value)
        if value is not None and value <= 0:
            raise forms.ValidationError(_("Beloppet måste vara större än noll."), code="min_value")


class OrganisationChangeForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Sökande organisation"), queryset=None, empty_label=None,
        error_messages={"invalid_choice": _("Välj en av organisationerna du företräder.")},
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations



class BudgetLineForm(KeepsErrors, forms.ModelForm):
    """A budget line. `years`: the project's calendar years; with more than one, the line
    says which it belongs to. `excluded`: the scheme's excluded categories (code → rule),
    marked in the list and refused by the service with the rule named."""

    amount = SekAmountField(label=_("Belopp (kr)"))
    year = forms.TypedChoiceField(label=_("År"), coerce=int, required=False, empty_value=None)

    class Meta:
        model = BudgetLine
        fields = ["category", "description", "amount", "year"]

    def __init__(self, *args, years=(), excluded=None, **kwargs):
        super().__init__(*args, **kwargs)
        excluded = excluded or {}
        # Django's own blank choice ("- Select an option -") has no Swedish translation.
        self.fields["category"].choices = [("", _("Välj kostnadsslag")), *[
            (code, _("%(label)s – ingår inte i stödet") % {"label": label} if code in excluded else label)
            for code, label in BudgetLine.Category.choices
        ]]
        self.fields["category"].error_messages["required"] = _("Välj ett kostnadsslag.")
        self.fields["description"].error_messages["required"] = _("Beskriv kostnaden.")
        years = list(years)
        if len(years) > 1:
            self.fields["year"].choices = [("", _("Välj år")), *[(y, str(y)) for y in years]]
            self.fields["year"].required = True
            self.fields["year"].error_messages["required"] = _("Välj vilket år kostnaden gäller.")
            self.fields["year"].help_text = _("Projektet pågår flera kalenderår: ange året för varje kostnad. "
                                              "En kostnad över båda åren blir en rad per år.")
        else:
            del self.fields["year"]


class AttachmentForm(KeepsErrors, forms.Form):
    kind = forms.ChoiceField(label=_("Typ av bilaga"), choices=ATTACHMENT_KINDS)
    file = forms.FileField(
        label=_("Fil"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_TYPES)}),
    )
    # The attachment the new file takes the place of ("Ersätt"), if any.
    replaces = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "PDF, Word, Excel, OpenDocument, bild eller text, högst %(mb)s MB."
        ) % {"mb": settings.ATTACHMENT_MAX_BYTES // 1_048_576}


_TEXTAREA_ROWS = {"need": 6, "purpose": 4, "goals": 4, "target_group": 3, "method": 6, "plan": 5, "partners": 3,
                  "evaluator": 2, "evaluation": 4, "other_state_grants": 2}
_STEP_MAX_LENGTH = 10_000  # characters per text answer: a long answer, not a book


class StepForm(forms.Form):
    """The fields of one step (bidrag/steps.py), for one draft.

    `validate=False` ("Spara", autosave): nothing is required, only what is typed must be
    readable (a date, an amount). `validate=True` ("Spara och fortsätt"): the step's
    required answers too. Either way `valid_data()` is what may be saved of it, so a field
    in error never costs the others what was typed in them.
    """

    def __init__(self, data=None, *, step, facts, validate=False, **kwargs):
        from .steps import DECLARATIONS, field_label

        application = facts.application
        super().__init__(data, **kwargs)
        self.step, self.facts, self.validate = step, facts, validate
        self._tracks = {str(t.pk): t for t in facts.tracks}
        required = set(step.required)
        if step.slug == "projekt":
            required |= {"title", "start_date", "end_date"} | ({"track"} if facts.tracks else set())
        for name in step.fields:
            if name == "declarations":
                field: forms.Field = forms.MultipleChoiceField(
                    choices=[(code, DECLARATIONS[code]) for code in step.declarations],
                    widget=forms.CheckboxSelectMultiple,
                )
                self.initial[name] = [code for code in step.declarations if getattr(application, code)]
            elif name == "track":
                field = forms.ChoiceField(
                    choices=[(pk, track_label(t)) for pk, t in self._tracks.items()], widget=forms.RadioSelect,
                    error_messages={"invalid_choice": _("Välj en av utlysningens inriktningar.")},
                )
                self.initial[name] = str(application.track_id) if application.track_id else None
            elif name == "other_state_grants_any":
                field = forms.TypedChoiceField(
                    choices=[("yes", _("Ja")), ("no", _("Nej"))], widget=forms.RadioSelect,
                    coerce=lambda value: value == "yes", empty_value=None,
                )
                value = application.other_state_grants_any
                self.initial[name] = None if value is None else ("yes" if value else "no")
            elif name == "other_state_grants_amount":
                field = SekAmountField()
                self.initial[name] = application.other_state_grants_amount
            elif name in ("start_date", "end_date"):
                field = forms.DateField(
                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                    error_messages={"invalid": _("Skriv datumet som år-månad-dag, till exempel 2027-01-31.")},
                )
                self.initial[name] = getattr(application, name)
            elif name == "evaluator_has_phd":
                field = forms.BooleanField()
                self.initial[name] = application.evaluator_has_phd
            elif name == "title":
                field = forms.CharField(max_length=200)
                self.initial[name] = application.title
            else:
                field = forms.CharField(
                    widget=forms.Textarea(attrs={"rows": _TEXTAREA_ROWS.get(name, 4)}), max_length=_STEP_MAX_LENGTH,
                    strip=False,
                )
                self.initial[name] = getattr(application, name)
            field.required = name in required or name == "declarations"
            field.label = field_label(step, name)
            if name == "declarations":
                field.label = _("Vi försäkrar att")
            field.help_text = step.help.get(name, "")
            field.error_messages["max_length"] = _("Texten är för lång: högst %(limit_value)d tecken (nu %(show_value)d).")
            field.error_messages["required"] = _("%(field)s måste fyllas i.") % {"field": field.label}
            self.fields[name] = field
        for name, message in [("declarations", _("Kryssa i alla försäkringar.")),
                              ("track", _("Välj vilken inriktning i utlysningen ni söker inom.")),
                              ("other_state_grants_any", _("Svara ja eller nej."))]:
            if name in self.fields:
                self.fields[name].error_messages["required"] = message
        # What is shown as required stays marked; without validation nothing is enforced.
        self._shown_required = {name for name, f in self.fields.items() if f.required}

    def full_clean(self):
        if not self.validate:
            for field in self.fields.values():
                field.required = False
        try:
            super().full_clean()
        finally:
            for name, field in self.fields.items():
                field.required = name in self._shown_required

    def clean(self):
        data = super().clean()
        if "track" in data:
            data["track"] = self._tracks.get(data["track"]) if data["track"] else None
        declarations = set(data.get("declarations") or [])
        if "declarations" in self.fields and "declarations" not in self.errors:
            self._declarations = declarations  # readable, so saved, even when not all are given
            if self.validate and declarations != set(self.step.declarations):
                self.add_error("declarations", _("Kryssa i alla försäkringar."))
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("Slutdatum kan inte ligga före startdatum."))
        return data

    def valid_data(self) -> dict:
        """The model's values for every field that was read without error."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        values = {}
        declarations = getattr(self, "_declarations", None)
        if declarations is not None:
            values.update({code: code in declarations for code in self.step.declarations})
        for name in self.fields:
            if name in self.errors or name not in self.cleaned_data or name == "declarations":
                continue
            value = self.cleaned_data[name]
            if name == "title":
                if value.strip():
                    values[name] = value.strip()
            elif name == "evaluator_has_phd":
                values[name] = bool(value)
            elif isinstance(self.fields[name], forms.CharField) and not isinstance(self.fields[name], forms.ChoiceField):
                values[name] = value if value is not None else ""
            else:
                values[name] = value
        return values
