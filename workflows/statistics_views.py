"""The statistics page (issue 9) for Brå staff and auditors: charts drawn as SVG on the
server (workflows.charts), each with its text alternative and its table.

Not public: it shows requested amounts and outcomes in small groups (a county with one
applicant shows that applicant's request and refusal, which is for a secrecy review under
OSL before it is given out) and handling times that are Brå's internal follow-up. The
public gets the granted projects as open data (bidrag.open_data). Anyone who is not Brå
staff gets the same 404 as for a case page.

Thin: parse the filter form, call workflows.statistics, shape its figures into charts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_safe

from arenden.formatting import NBSP, money
from bidrag.models import Call
from bidrag.roles import is_staff_reader

from . import statistics as stats_module
from .charts import Bar, Group, Series, bar_chart
from .queue_forms import _kommuner
from .statistics import StatisticsFilter


class StatisticsForm(forms.Form):
    """Year (the year the call closes) and scheme; both optional."""

    ar = forms.TypedChoiceField(label=gettext_lazy("År"), required=False, coerce=int, empty_value=None)
    stodform = forms.TypedChoiceField(label=gettext_lazy("Stödform"), required=False, coerce=int, empty_value=None)

    def __init__(self, data=None, *, calls: list[Call]):
        super().__init__(data)
        years = sorted({stats_module.call_year(c) for c in calls}, reverse=True)
        schemes = {c.scheme_id: c.scheme.name for c in calls}
        everything = [("", _("Alla"))]
        cast(forms.ChoiceField, self.fields["ar"]).choices = everything + [(str(y), str(y)) for y in years]
        cast(forms.ChoiceField, self.fields["stodform"]).choices = everything + sorted(
            ((str(k), v) for k, v in schemes.items()), key=lambda choice: choice[1])

    def statistics_filter(self) -> StatisticsFilter:
        if not self.is_valid():
            return StatisticsFilter()
        return StatisticsFilter(year=self.cleaned_data.get("ar"), scheme_id=self.cleaned_data.get("stodform"))

    @property
    def filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


def percent(value: Decimal | None) -> str:
    if value is None:
        return "–"
    return f"{number_format(value, 0)}{NBSP}%"


def days(value: Decimal | int | None) -> str:
    if value is None:
        return "–"
    return ngettext("%(days)s dag", "%(days)s dagar", 1 if value == 1 else 2) % {
        "days": number_format(value, 1 if isinstance(value, Decimal) else 0)}


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    return part * 100 / whole if whole else None


def _money_rows(stats):
    """Per call: applications, requested, granted, budget."""
    rows = []
    for call in stats.calls:
        figures = stats.per_call.get(call.pk, stats_module.Money())
        rows.append({"call": call, "figures": figures, "share": percent(_share(figures.granted, figures.requested))})
    return rows


def _county_rows(stats):
    counties = list(_kommuner()[0])
    if stats_module.NO_COUNTY in stats.per_county:
        counties.append((stats_module.NO_COUNTY, _("Ingen kommun angiven")))
    return [{"code": code, "name": name, "figures": stats.per_county.get(code, stats_module.Money())}
            for code, name in counties]


def _charts(stats) -> dict:
    requested = Series(_("Sökt"), "requested")
    granted = Series(_("Beviljat"), "granted")
    money_rows = _money_rows(stats)
    county_rows = _county_rows(stats)
    per_call = bar_chart(
        chart_id="chart-calls", title=_("Sökt och beviljat belopp per utlysning"), series=[requested, granted],
        groups=[Group(label=row["call"].title,
                      sublabel=_("%(scheme)s – budget %(amount)s") % {"scheme": row["call"].scheme.name,
                                                                        "amount": money(row["call"].budget)},
                      bars=[Bar(requested, row["figures"].requested, money(row["figures"].requested)),
                            Bar(granted, row["figures"].granted, money(row["figures"].granted))])
                for row in money_rows])
    # The chart draws the counties that applied; the table lists all 21.
    silent = [row["name"] for row in county_rows if not row["figures"].applications]
    per_county = bar_chart(
        chart_id="chart-counties", title=_("Sökt och beviljat belopp per län"), series=[requested, granted],
        summary=_("Län utan ansökningar i urvalet: %(counties)s") % {"counties": ", ".join(silent)} if silent else "",
        groups=[Group(label=row["name"],
                      bars=[Bar(requested, row["figures"].requested, money(row["figures"].requested)),
                            Bar(granted, row["figures"].granted, money(row["figures"].granted))])
                for row in county_rows if row["figures"].applications])
    outcome_series = [Series(_("Beviljade"), "granted"), Series(_("Avslag"), "rejected"),
                      Series(_("Avvisade"), "dismissed")]
    track_rows = [{"scheme": scheme, "track": track, "outcomes": outcomes}
                  for (scheme, track), outcomes in sorted(stats.per_track.items())]
    per_track = bar_chart(
        chart_id="chart-outcomes", title=_("Beslut per stödform och inriktning"), series=outcome_series,
        groups=[Group(label=row["track"] or row["scheme"], sublabel=row["scheme"] if row["track"] else "",
                      bars=[Bar(s, getattr(row["outcomes"], attr), str(getattr(row["outcomes"], attr)))
                            for s, attr in zip(outcome_series, ("granted", "rejected", "dismissed"), strict=True)])
                for row in track_rows])
    average, longest = Series(_("Genomsnitt"), "average"), Series(_("Längst"), "longest")
    handling_rows = [{"call": call, "time": stats.handling.get(call.pk, stats_module.HandlingTime())}
                     for call in stats.calls]
    handling = bar_chart(
        chart_id="chart-handling", title=_("Handläggningstid från registrering till beslut"),
        series=[average, longest], summary=_("Den lodräta linjen är utlysningens mål för handläggningstiden"),
        groups=[Group(label=row["call"].title, marker=row["call"].target_days,
                      sublabel=_("mål %(days)s, %(share)s inom målet") % {
                          "days": days(row["call"].target_days), "share": percent(row["time"].share_within)},
                      bars=[Bar(average, row["time"].average_days or 0, days(row["time"].average_days)),
                            Bar(longest, row["time"].longest_days or 0, days(row["time"].longest_days))])
                for row in handling_rows if row["time"].decided])
    report_series = [Series(_("I tid"), "on-time"), Series(_("För sent"), "late"), Series(_("Saknas"), "missing")]
    report_rows = [{"call": call, "reports": stats.reports.get(call.pk, stats_module.Reports())}
                   for call in stats.calls]
    reports = bar_chart(
        chart_id="chart-reports", title=_("Slutrapporter i tid"), series=report_series,
        groups=[Group(label=row["call"].title,
                      sublabel=_("%(share)s i tid") % {"share": percent(row["reports"].share_on_time)},
                      bars=[Bar(s, getattr(row["reports"], attr), str(getattr(row["reports"], attr)))
                            for s, attr in zip(report_series, ("on_time", "late", "missing"), strict=True)])
                for row in report_rows if row["reports"].due])
    return {
        "per_call": per_call, "money_rows": money_rows,
        "per_county": per_county, "county_rows": county_rows, "silent_counties": silent,
        "per_track": per_track, "track_rows": track_rows,
        "handling": handling, "handling_rows": [row for row in handling_rows if row["time"].decided],
        "reports": reports, "report_rows": [row for row in report_rows if row["reports"].due],
    }


@login_required
@require_safe
def statistics(request):
    if not is_staff_reader(request.user):
        raise Http404
    calls = stats_module.all_calls()
    form = StatisticsForm(request.GET, calls=calls)
    stats = stats_module.statistics_compute(actor=request.user, statistics_filter=form.statistics_filter(),
                                            calls=calls)
    total = stats.total
    context = {
        "form": form,
        "stats": stats,
        "total": total,
        "total_share": percent(_share(total.granted, total.requested)),
        **_charts(stats),
    }
    for row in context["handling_rows"]:
        row["share"] = percent(row["time"].share_within)
        row["average"] = days(row["time"].average_days)
    for row in context["report_rows"]:
        row["share"] = percent(row["reports"].share_on_time)
    return render(request, "workflows/statistics.html", context)
