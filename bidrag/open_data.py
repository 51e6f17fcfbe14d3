"""Open data (issue 9): the granted projects, for anyone, as a page and as CSV and JSON.

Which projects: an application whose latest decision on the application itself (a grant,
rejection or dismissal; a reconsideration under FL 37 § counts) is a grant, in a state a
grant leads to, and whose decision has been sent: its letter is stored
(bidrag.DecisionLetter, issued once after the decision commits). Never a draft, a
proposal not yet decided, a rejection or dismissal, or a grant whose letter has not gone
out.

What of them: the organisation, its municipality and county, the project's title, the
granted amount, the year of the grant (the first granting decision, Stockholm time), the
scheme and the call, and the diarienummer (public already in the diarium). Nothing about
people: no names of users, signatories or evaluators, no personnummer. An organisation
is a legal person whose organisationsnummer is public; a number that could be a
personnummer (third digit below 2: a sole trader's, or a dödsbo's) is left out, and with
it the name, which for a sole trader is the person's.

Files, documented on the page (FIELDS):
* CSV: UTF-8 with a byte-order mark, `;` between fields, CRLF; Swedish headers; amounts in
  kronor with two decimals and a decimal comma ("250000,00"), so Swedish Excel reads them
  as numbers; a text beginning like a formula (=, +, -, @) gets a leading apostrophe.
* JSON: UTF-8, stable English keys; amounts as decimal strings in kronor ("250000.00"),
  never floats; the year as an integer.
Both are streamed: rows are read in chunks and sent as they are read.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import cast
from urllib.parse import urlencode

from django import forms
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import ExtractYear
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from .models import Decision, GrantScheme
from .orgnr import format_orgnr, is_legal_person
from .selectors import published_grants

ORDER = ("-year", "application__call__scheme__name", "application__organisation__name", "application__title",
         "application_id")
CHUNK = 1000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_NAME = "beviljade-projekt.csv"
JSON_NAME = "beviljade-projekt.json"


@dataclass(frozen=True)
class FieldSpec:
    header: str  # the CSV's Swedish column header
    key: str  # the JSON's English key
    kind: str | Promise
    description: str | Promise


FIELDS = [
    FieldSpec("diarienummer", "case_number", gettext_lazy("text"), gettext_lazy("Ärendets diarienummer hos Brå.")),
    FieldSpec("organisation", "organisation", gettext_lazy("text"),
              gettext_lazy("Den organisation som fått stödet. Tomt för en enskild näringsidkare.")),
    FieldSpec("organisationsnummer", "organisation_number", gettext_lazy("text, NNNNNN-NNNN"),
              gettext_lazy("Organisationens organisationsnummer. Tomt när numret kan vara ett personnummer.")),
    FieldSpec("kommunkod", "municipality_code", gettext_lazy("text, fyra siffror"),
              gettext_lazy("Organisationens kommun (SCB:s kommunkod). Tomt om ingen kommun är angiven.")),
    FieldSpec("kommun", "municipality", gettext_lazy("text"), gettext_lazy("Kommunens namn.")),
    FieldSpec("länskod", "county_code", gettext_lazy("text, två siffror"), gettext_lazy("Kommunens län (SCB:s länskod).")),
    FieldSpec("län", "county", gettext_lazy("text"), gettext_lazy("Länets namn.")),
    FieldSpec("projekt", "project_title", gettext_lazy("text"), gettext_lazy("Projektets namn som sökanden angav det.")),
    FieldSpec("belopp_kr", "amount_sek", gettext_lazy("decimaltal"),
              gettext_lazy("Beviljat belopp i kronor med två decimaler: i CSV med decimalkomma (250000,00), "
                           "i JSON som sträng med decimalpunkt (\"250000.00\").")),
    FieldSpec("år", "year", gettext_lazy("heltal"), gettext_lazy("Året då stödet beviljades (svensk tid).")),
    FieldSpec("stödform", "scheme", gettext_lazy("text"), gettext_lazy("Stödformens namn.")),
    FieldSpec("stödform_kod", "scheme_code", gettext_lazy("text"), gettext_lazy("Stödformens kod, samma som i filtret.")),
    FieldSpec("utlysning", "call", gettext_lazy("text"), gettext_lazy("Utlysningens rubrik.")),
]


@dataclass(frozen=True)
class Municipality:
    name: str
    county_code: str
    county: str


@cache
def municipalities() -> dict[str, Municipality]:
    path = Path(__file__).resolve().parent / "data" / "kommuner.csv"
    with path.open(encoding="utf-8") as rows:
        return {row["kommunkod"]: Municipality(row["kommun"], row["lanskod"], row["lan"]) for row in csv.DictReader(rows)}


def granted_projects_open(*, year: int | None = None, scheme_code: str = "") -> QuerySet:
    """The published grants (bidrag.selectors.published_grants, the rule the call pages
    follow too) as value tuples (see _VALUES), newest year first, in one query, with the
    year of the first granting decision."""
    first_grant = Decision.objects.filter(application_id=OuterRef("application_id"),
                                          outcome=Decision.Outcome.GRANTED).order_by("decided_at", "pk")
    projects = published_grants().annotate(year=ExtractYear(Subquery(first_grant.values("decided_at")[:1])))
    if year is not None:
        projects = projects.filter(year=year)
    if scheme_code:
        projects = projects.filter(application__call__scheme__code=scheme_code)
    return projects.order_by(*ORDER).values_list(*_VALUES)


_VALUES = ("application__case__diarienummer", "application__organisation__name", "application__organisation__orgnr",
           "application__organisation__kommunkod", "application__title", "amount", "year",
           "application__call__scheme__name", "application__call__scheme__code", "application__call__title")


def project_record(values: tuple) -> dict:
    """One project as the JSON's keys with Python values (amount a Decimal)."""
    number, name, orgnr, kommunkod, title, amount, year, scheme, scheme_code, call = values
    legal = is_legal_person(orgnr or "")
    place = municipalities().get(kommunkod or "")
    return {
        "case_number": number,
        "organisation": name if legal else "",
        "organisation_number": format_orgnr(orgnr) if legal else "",
        "municipality_code": kommunkod if place else "",
        "municipality": place.name if place else "",
        "county_code": place.county_code if place else "",
        "county": place.county if place else "",
        "project_title": title,
        "amount_sek": amount,
        "year": year,
        "scheme": scheme,
        "scheme_code": scheme_code,
        "call": call,
    }


def records(projects: QuerySet) -> Iterator[dict]:
    for values in projects.iterator(chunk_size=CHUNK):
        yield project_record(values)


def years_granted() -> list[int]:
    """The years in which anything was granted, newest first (for the filter)."""
    years = (Decision.objects.filter(outcome=Decision.Outcome.GRANTED).annotate(year=ExtractYear("decided_at"))
             .values_list("year", flat=True).distinct().order_by("-year"))
    return list(years)


# --- files ------------------------------------------------------------------------------


class _Line:
    def write(self, value: str) -> str:
        return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_chunks(rows: Iterable[dict], *, lines_per_chunk: int = 500) -> Iterator[bytes]:
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    yield ("\ufeff" + writer.writerow([f.header for f in FIELDS])).encode("utf-8")
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow([_csv_cell(row[f.key]) for f in FIELDS]))
        if len(batch) >= lines_per_chunk:
            yield "".join(batch).encode("utf-8")
            batch = []
    if batch:
        yield "".join(batch).encode("utf-8")


def _json_value(value):
    return f"{value:.2f}" if isinstance(value, Decimal) else value


def json_chunks(rows: Iterable[dict], *, source: str, filters: dict, rows_per_chunk: int = 500) -> Iterator[bytes]:
    head = {
        "title": "Beviljade projekt – Brå, ekonomiskt stöd till brottsförebyggande arbete",
        "publisher": "Brottsförebyggande rådet (Brå)",
        "source": source,
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "filters": filters,
        "amount_format": "amount_sek: kronor as a decimal string with two decimals, e.g. \"250000.00\"",
        "fields": [{"key": f.key, "csv_header": f.header, "type": str(f.kind), "description": str(f.description)}
                   for f in FIELDS],
    }
    opening = json.dumps(head, ensure_ascii=False, indent=None)[:-1] + ', "projects": ['
    yield opening.encode("utf-8")
    batch: list[str] = []
    first = True
    for row in rows:
        text = json.dumps({key: _json_value(value) for key, value in row.items()}, ensure_ascii=False)
        batch.append(("\n" if first else ",\n") + text)
        first = False
        if len(batch) >= rows_per_chunk:
            yield "".join(batch).encode("utf-8")
            batch = []
    batch.append("\n]}\n")
    yield "".join(batch).encode("utf-8")


# --- pages ------------------------------------------------------------------------------


class OpenDataForm(forms.Form):
    ar = forms.TypedChoiceField(label=gettext_lazy("År"), required=False, coerce=int, empty_value=None)
    stodform = forms.ChoiceField(label=gettext_lazy("Stödform"), required=False)

    def __init__(self, data=None, *, years: list[int], schemes: list[tuple[str, str]], all_years: bool = True):
        super().__init__(data)
        cast(forms.ChoiceField, self.fields["ar"]).choices = (
            ([("", _("Alla år"))] if all_years else []) + [(str(y), str(y)) for y in years])
        cast(forms.ChoiceField, self.fields["stodform"]).choices = [("", _("Alla stödformer")), *schemes]

    def query(self) -> dict[str, str]:
        return {name: str(value) for name, value in self.cleaned_data.items() if value not in (None, "")}


def _schemes() -> list[tuple[str, str]]:
    return list(GrantScheme.objects.order_by("name").values_list("code", "name"))


def _file_form(request) -> OpenDataForm | None:
    # Any year a number: a year without grants gives an empty file, not an error.
    years = [int(request.GET["ar"])] if request.GET.get("ar", "").isdigit() else []
    form = OpenDataForm(request.GET, years=years, schemes=_schemes())
    return form if form.is_valid() else None


def _stream(chunks: Iterator[bytes], *, content_type: str, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
    return response


def _selected(form: OpenDataForm) -> dict:
    return {"year": form.cleaned_data.get("ar"), "scheme_code": form.cleaned_data.get("stodform") or ""}


@require_safe
def open_data_csv(request):
    form = _file_form(request)
    if form is None:
        return HttpResponseBadRequest(_("Okänt år eller okänd stödform."), content_type="text/plain; charset=utf-8")
    rows = records(granted_projects_open(**_selected(form)))
    return _stream(csv_chunks(rows), content_type="text/csv; charset=utf-8", name=CSV_NAME)


@require_safe
def open_data_json(request):
    form = _file_form(request)
    if form is None:
        return HttpResponseBadRequest(_("Okänt år eller okänd stödform."), content_type="text/plain; charset=utf-8")
    rows = records(granted_projects_open(**_selected(form)))
    source = request.build_absolute_uri(reverse("public:open_data"))
    return _stream(json_chunks(rows, source=source, filters=form.query()),
                   content_type="application/json; charset=utf-8", name=JSON_NAME)


@require_safe
def open_data(request):
    """The page: one year's grants at a time (the latest unless chosen), the files of
    every year or of the choice, and what each column holds."""
    years = years_granted()
    data = request.GET.copy()
    if not data.get("ar") and years:
        data["ar"] = str(years[0])
    form = OpenDataForm(data, years=years, schemes=_schemes(), all_years=False)
    selected = _selected(form) if form.is_valid() else {"year": years[0] if years else None, "scheme_code": ""}
    projects = list(records(granted_projects_open(**selected))) if years else []
    return render(request, "public/open_data.html", {
        "form": form,
        "projects": projects,
        "total": sum((p["amount_sek"] or 0 for p in projects), Decimal(0)),
        "year": selected["year"],
        "fields": FIELDS,
        "query": urlencode(form.query()) if form.is_valid() else "",
    })
