"""The queue's filter and sort form (GET): what the officer narrows the queue to."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from django import forms
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from bidrag.models import Call, CallTrack
from bidrag.models.application import Status

from .selectors import QueueFilter, QueueKind, QueueSort

KOMMUNER_CSV = Path(__file__).resolve().parent.parent / "bidrag" / "data" / "kommuner.csv"

KIND_LABELS = {
    QueueKind.ALL: _("Alla öppna"),
    QueueKind.UNASSIGNED: _("Ej tilldelade"),
    QueueKind.MINE: _("Mina"),
    QueueKind.OVERDUE: _("Försenade"),
    QueueKind.WAITING: _("Väntar på sökanden"),
}

SORT_LABELS = {
    QueueSort.QUEUED: _("Längst i kön först"),
    QueueSort.RECEIVED: _("Inkom, äldst först"),
    QueueSort.DEADLINE: _("Svarsfrist, närmast först"),
    QueueSort.AMOUNT: _("Sökt belopp, högst först"),
}


@cache
def _kommuner() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(län, kommuner) as choices from kommuner.csv: a kommunkod's first two digits are its län."""
    with KOMMUNER_CSV.open(encoding="utf-8") as rows:
        kommuner = list(csv.DictReader(rows))
    counties = sorted({(row["lanskod"], row["lan"]) for row in kommuner})
    municipalities = sorted(((row["kommunkod"], row["kommun"]) for row in kommuner), key=lambda choice: choice[1])
    return tuple(counties), tuple(municipalities)


@cache
def _static_values(name: str) -> frozenset[str]:
    counties, municipalities = _kommuner()
    return frozenset(value for value, _label in (counties if name == "lan" else municipalities))


@cache
def _static_options(name: str, language: str) -> tuple[tuple[str, str, str], ...]:
    """(value, '<option value="…"', '>label</option>') of the län or kommun choices, escaped once."""
    counties, municipalities = _kommuner()
    everything = [("", str(_("Alla")))]
    choices = everything + list(counties if name == "lan" else municipalities)
    return tuple((value, f'<option value="{escape(value)}"', f">{escape(label)}</option>") for value, label in choices)


class QueueFilterForm(forms.Form):
    """Every field optional: an empty form is the whole queue. Calls and tracks are read in
    two queries (the schemes with the calls), whatever their number."""

    q = forms.CharField(label=_("Diarienummer eller organisation"), required=False, max_length=100)
    utlysning = forms.ChoiceField(label=_("Utlysning"), required=False)
    stodform = forms.ChoiceField(label=_("Stödform"), required=False)
    inriktning = forms.ChoiceField(label=_("Inriktning"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    # The 21 län and 290 kommuner are fixed reference data: checked against a cached set and
    # shown from options escaped once (_static_options), not copied and normalised as a
    # ChoiceField's choices on every request.
    lan = forms.CharField(label=_("Län"), required=False, max_length=2)
    kommun = forms.CharField(label=_("Kommun"), required=False, max_length=4)
    STATIC_SELECTS = ("lan", "kommun")
    belopp_fran = forms.DecimalField(label=_("Sökt belopp från (kr)"), required=False, min_value=0, max_digits=14,
                                     decimal_places=2)
    belopp_till = forms.DecimalField(label=_("Sökt belopp till (kr)"), required=False, min_value=0, max_digits=14,
                                     decimal_places=2)
    frist_fran = forms.DateField(label=_("Svarsfrist från"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    frist_till = forms.DateField(label=_("Svarsfrist till"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    sortering = forms.ChoiceField(label=_("Sortera"), required=False,
                                  choices=[(sort.value, label) for sort, label in SORT_LABELS.items()])

    AMOUNT_AND_DEADLINE = ("belopp_fran", "belopp_till", "frist_fran", "frist_till")

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        everything = [("", _("Alla"))]
        # Plain values, not models: the form is built on every queue page.
        calls = list(Call.objects.order_by("-opens_at", "title").values_list("pk", "title", "scheme_id", "scheme__name"))
        schemes = {scheme_id: name for _pk, _title, scheme_id, name in calls}
        tracks = CallTrack.objects.order_by("call__title", "position", "name").values_list("pk", "call__title", "name")
        self.fields["utlysning"].choices = everything + [(str(pk), title) for pk, title, _s, _n in calls]
        self.fields["stodform"].choices = everything + [(str(pk), name) for pk, name in schemes.items()]
        self.fields["inriktning"].choices = everything + [(str(pk), f"{call}: {name}") for pk, call, name in tracks]
        self.fields["status"].choices = everything + [(s.value, s.label) for s in Status if s != Status.DRAFT]

    def _static_choice(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        if value and value not in _static_values(name):
            raise forms.ValidationError(_("Välj ett giltigt alternativ."), code="invalid_choice")
        return value

    def clean_lan(self) -> str:
        return self._static_choice("lan")

    def clean_kommun(self) -> str:
        return self._static_choice("kommun")

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("belopp_fran"), cleaned.get("belopp_till")
        if low is not None and high is not None and low > high:
            self.add_error("belopp_till", _("Beloppet till får inte vara lägre än beloppet från."))
        first, last = cleaned.get("frist_fran"), cleaned.get("frist_till")
        if first and last and first > last:
            self.add_error("frist_till", _("Svarsfristen till får inte vara före svarsfristen från."))
        return cleaned

    def queue_filter(self) -> QueueFilter:
        """The filter the valid fields ask for; an invalid field filters nothing (it is shown
        with its error)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        valid = {name: value for name, value in data.items() if name not in self.errors}
        scheme = valid.get("stodform") or ""
        return QueueFilter(
            call_id=valid.get("utlysning") or None,
            scheme_id=int(scheme) if scheme.isdigit() else None,
            track_id=valid.get("inriktning") or None,
            status=valid.get("status") or "",
            county=valid.get("lan") or "",
            kommunkod=valid.get("kommun") or "",
            amount_min=valid.get("belopp_fran"),
            amount_max=valid.get("belopp_till"),
            deadline_from=valid.get("frist_fran"),
            deadline_to=valid.get("frist_till"),
            query=(valid.get("q") or "").strip(),
        )

    def sort(self) -> QueueSort:
        value = self.cleaned_data.get("sortering") if hasattr(self, "cleaned_data") else ""
        return QueueSort(value) if value in QueueSort._value2member_map_ else QueueSort.QUEUED

    @property
    def rendered_fields(self) -> list[dict]:
        """The filter's fields (not the sort) as the template shows them: each with its input
        type, and a choice field with its <option> elements, built here: the 290 kommuner
        and 21 län are escaped once per language, not per option per request."""
        result = []
        for name in self.fields:
            if name == "sortering":
                continue
            field = self[name]
            choices = getattr(field.field, "choices", None)
            if name in self.STATIC_SELECTS:
                choices = ()
            kind = "select" if choices is not None else {"q": "search"}.get(
                name, "number" if name.startswith("belopp") else "date")
            result.append({"field": field, "kind": kind, "options": self.options(name) if choices is not None else None})
        return result

    def fields_html(self) -> SafeString:
        """The filter's fields as HTML, built here rather than in the template language
        (a dozen tags per field, on every queue page): a label, the input or select, and the
        field's errors tied to it by aria-describedby. Every value escaped."""
        error_prefix = escape(_("Fel:"))
        parts = []
        for item in self.rendered_fields:
            field = item["field"]
            errors = field.errors
            ident, name = escape(field.id_for_label), escape(field.html_name)
            error_id = f"{escape(field.auto_id)}_error"
            parts.append(f'<div class="field field--inline{" field--error" if errors else ""}">'
                         f'<label for="{ident}">{escape(field.label)}</label>')
            if item["options"] is not None:
                parts.append(f'<select name="{name}" id="{ident}">{item["options"]}</select>')
            else:
                value = field.value()
                extra = ' min="0" step="1" inputmode="numeric"' if item["kind"] == "number" else ""
                if errors:
                    extra += f' aria-invalid="true" aria-describedby="{error_id}"'
                parts.append(f'<input type="{item["kind"]}" name="{name}" id="{ident}" '
                             f'value="{escape("" if value is None else value)}"{extra}>')
            if errors:
                parts.append(f'<ul class="field__errors" id="{error_id}">' + "".join(
                    f'<li><span class="visually-hidden">{error_prefix} </span>{escape(error)}</li>' for error in errors)
                    + "</ul>")
            parts.append("</div>")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped

    def options(self, name: str) -> SafeString:
        field = self[name]
        current = "" if field.value() is None else str(field.value())
        if name in ("lan", "kommun"):
            rendered = _static_options(name, get_language() or "")
        else:
            rendered = tuple((str(value), f'<option value="{escape(value)}"', f">{escape(label)}</option>")
                             for value, label in field.field.choices)
        return mark_safe("".join(f"{start} selected{end}" if value == current else start + end
                                 for value, start, end in rendered))

    @property
    def filtered(self) -> bool:
        """Whether any filter (not the sort) is set: the page offers "Rensa filter"."""
        return any(self.data.get(name) for name in self.fields if name != "sortering")
