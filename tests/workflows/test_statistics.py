"""Issue 9, the statistics page: every figure is the hand count of the cases below, made
through the real door; the page is for Brå staff and auditors only (404 for an applicant,
the login page for a visitor); its queries are aggregates whose number does not grow with
the number of calls."""

import html
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bidrag.models import Application, Call, CallTrack, Organisation
from bidrag.models.application import Status
from tests.domain import ASSOCIATION, MALMO, STOCKHOLM
from workflows import demo
from workflows import statistics as st
from workflows.queue_entries import queue_sync

pytestmark = pytest.mark.django_db

PAGE = reverse("statistics:page")
GOTEBORG, UPPSALA, LINKOPING = "2120001355", "2120003005", "2120000449"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def applied(cast, call, orgnr, *, to, amount, title="Testprojekt") -> Application:
    organisation = Organisation.objects.get(orgnr=orgnr)
    application = demo.new_application(cast=cast, organisation=organisation, call=call, title=title, complete=False)
    demo.complete_draft(application=application, actor=cast.applicant, amount=amount)
    return demo.drive(application=application, to=to, cast=cast)


def moved(application, **fields) -> None:
    """A date moved by hand into the past, the queue's row following it."""
    Application.objects.filter(pk=application.pk).update(**fields)
    queue_sync(application.pk)


@dataclass
class Cases:
    a: Call  # kommunala åtgärder
    b: Call  # utvärdering
    stockholm: Application
    uppsala: Application
    association: Application


@pytest.fixture
def cases(cast, reference) -> Cases:
    a, b = reference["calls"]["kommunala-atgarder"], reference["calls"]["utvardering"]
    # Call A: a grant whose report came in time, a grant whose report came late, a
    # rejection decided 130 days after registration (over the 120-day target), a dismissal
    # and one not yet decided.
    stockholm = applied(cast, a, STOCKHOLM, to=Status.REPORT_REVIEW, amount=Decimal("300000"))
    uppsala = applied(cast, a, UPPSALA, to=Status.REPORT_REVIEW, amount=Decimal("400000"))
    moved(uppsala, end_date=timezone.localdate() - timedelta(days=200))  # due about 110 days ago
    malmo = applied(cast, a, MALMO, to=Status.REJECTED, amount=Decimal("200000"))
    # Stockholm noon 130 calendar days ago (whatever the hour now, and across a change of summer time)
    moved(malmo, submitted_at=timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=130), time(12))))
    applied(cast, a, GOTEBORG, to=Status.DISMISSED, amount=Decimal("100000"))
    applied(cast, a, LINKOPING, to=Status.IN_REVIEW, amount=Decimal("150000"))
    # Call B: an association (no municipality) granted, its report missing.
    association = applied(cast, b, ASSOCIATION, to=Status.GRANTED, amount=Decimal("300000"))
    moved(association, end_date=timezone.localdate() - timedelta(days=200))
    return Cases(a=a, b=b, stockholm=stockholm, uppsala=uppsala, association=association)


def figures(cast, **conditions) -> st.Statistics:
    return st.statistics_compute(actor=cast.auditor, statistics_filter=st.StatisticsFilter(**conditions))


def test_every_figure_is_the_hand_count(cases, cast):
    stats = figures(cast)
    a, b = stats.per_call[cases.a.pk], stats.per_call[cases.b.pk]
    # requested as signed: 300 000 + 400 000 + 200 000 + 100 000 + 150 000; granted 2 × 250 000
    assert (a.applications, a.requested, a.granted_count, a.granted) == (5, Decimal("1150000"), 2, Decimal("500000"))
    assert (b.applications, b.requested, b.granted_count, b.granted) == (1, Decimal("300000"), 1, Decimal("250000"))
    counties = {code: (m.applications, m.requested, m.granted_count, m.granted) for code, m in stats.per_county.items()}
    assert counties == {
        "01": (1, Decimal("300000"), 1, Decimal("250000")),  # Stockholm
        "03": (1, Decimal("400000"), 1, Decimal("250000")),  # Uppsala
        "05": (1, Decimal("150000"), 0, Decimal("0")),  # Linköping, undecided
        "12": (1, Decimal("200000"), 0, Decimal("0")),  # Malmö, rejected
        "14": (1, Decimal("100000"), 0, Decimal("0")),  # Göteborg, dismissed
        "": (1, Decimal("300000"), 1, Decimal("250000")),  # the association, no municipality
    }
    track_a = (cases.a.scheme.name, cases.a.tracks.order_by("position").first().name)
    track_b = (cases.b.scheme.name, cases.b.tracks.order_by("position").first().name)
    outcomes = {key: (o.granted, o.rejected, o.dismissed, o.granted_amount) for key, o in stats.per_track.items()}
    assert outcomes == {track_a: (2, 1, 1, Decimal("500000")), track_b: (1, 0, 0, Decimal("250000"))}
    # Registration to first decision: 0, 0, 130 (over the target of 120) and 0 days.
    handling = stats.handling[cases.a.pk]
    assert (handling.decided, handling.within_target, handling.average_days, handling.longest_days) == (
        4, 3, Decimal("32.5"), 130)
    assert handling.share_within == 75
    reports = {key: (r.on_time, r.late, r.missing) for key, r in stats.reports.items()}
    assert reports == {cases.a.pk: (1, 1, 0), cases.b.pk: (0, 0, 1)}
    assert stats.total.granted == Decimal("750000") and stats.total.requested == Decimal("1450000")


def test_a_report_due_on_a_saturday_is_on_time_on_the_monday(cases, cast):
    """The due date moves to the next working day (arenden.calendar), as the applicant was told."""
    from arenden.calendar import months_after, working_deadline
    from bidrag.models import Report

    saturday = timezone.localdate() - timedelta(days=60)
    while not (saturday.weekday() == 5 and saturday.day <= 28 and working_deadline(saturday) == saturday
               + timedelta(days=2)):
        saturday -= timedelta(days=1)
    end = saturday.replace(month=(saturday.month - 4) % 12 + 1,
                           year=saturday.year - (1 if saturday.month <= 3 else 0))
    assert months_after(end, 3) == saturday
    moved(cases.uppsala, end_date=end)
    monday_noon = timezone.make_aware(datetime.combine(saturday + timedelta(days=2), time(12)))
    Report.objects.filter(application=cases.uppsala).update(submitted_at=monday_noon)
    assert figures(cast).reports[cases.a.pk].on_time == 2
    Report.objects.filter(application=cases.uppsala).update(submitted_at=monday_noon + timedelta(days=1))
    assert (figures(cast).reports[cases.a.pk].on_time, figures(cast).reports[cases.a.pk].late) == (1, 1)


def test_year_and_scheme_narrow_every_figure(cases, cast):
    year = st.call_year(cases.a)
    Call.objects.filter(pk=cases.b.pk).update(opens_at=cases.b.opens_at.replace(year=year - 2),
                                              closes_at=cases.b.closes_at.replace(year=year - 1))
    only_a = figures(cast, year=year)
    assert [c.pk for c in only_a.calls] == [cases.a.pk]
    assert only_a.total.requested == Decimal("1150000") and "" not in only_a.per_county
    only_b = figures(cast, scheme_id=cases.b.scheme_id)
    assert [c.pk for c in only_b.calls] == [cases.b.pk]
    assert (only_b.total.applications, only_b.total.granted) == (1, Decimal("250000"))
    assert set(only_b.reports) == {cases.b.pk} and set(only_b.handling) == {cases.b.pk}
    assert figures(cast, year=year - 5).total.applications == 0
    # the page's form reads the same filter
    page = html.unescape(client_for(cast.auditor).get(PAGE, {"stodform": cases.b.scheme_id}).content.decode())
    assert cases.b.title in page and cases.a.title not in page


def cells(page: str, caption: str) -> list[list[str]]:
    """The rows of the table with this caption, each as its cells' text."""
    table = page.split(f">{caption}</caption>", 1)[1].split("</table>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)]


def test_the_page_shows_charts_with_text_alternatives_and_tables(cases, cast):
    response = client_for(cast.auditor).get(PAGE)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    nbsp = "\u00a0"
    calls = {row[0]: row for row in cells(page, "Sökt och beviljat belopp per utlysning")}
    assert calls[cases.a.title][2:7] == ["5", f"1{nbsp}150{nbsp}000{nbsp}kr", "2", f"500{nbsp}000{nbsp}kr", f"43{nbsp}%"]
    counties = {row[0]: row[1:] for row in cells(page, "Sökt och beviljat belopp per län")}
    assert len(counties) == 22  # Sweden's 21 counties, and organisations without a municipality
    assert counties["Uppsala län"] == ["1", f"400{nbsp}000{nbsp}kr", "1", f"250{nbsp}000{nbsp}kr"]
    assert counties["Gotlands län"] == ["0", f"0{nbsp}kr", "0", f"0{nbsp}kr"]
    assert counties["Ingen kommun angiven"] == ["1", f"300{nbsp}000{nbsp}kr", "1", f"250{nbsp}000{nbsp}kr"]
    handling = {row[0]: row[1:] for row in cells(page, "Handläggningstid från registrering till beslut")}
    assert handling[cases.a.title] == ["120", "4", "3", f"75{nbsp}%", "32,5 dagar", "130"]
    reports = {row[0]: row[1:] for row in cells(page, "Slutrapporter i tid per utlysning")}
    assert reports == {cases.a.title: ["1", "1", "0", f"50{nbsp}%"], cases.b.title: ["0", "0", "1", f"0{nbsp}%"]}
    # Each chart is an image with a name and a description that says every value in words.
    charts = re.findall(r'<svg class="chart__svg"[^>]*role="img" aria-labelledby="([\w-]+)-title \1-desc"', page)
    assert charts == ["chart-calls", "chart-counties", "chart-outcomes", "chart-handling", "chart-reports"]
    description = page.split('id="chart-calls-desc">', 1)[1].split("</desc>", 1)[0]
    assert f"{cases.a.title} ({cases.a.scheme.name} – budget 52{nbsp}000{nbsp}000{nbsp}kr): " \
           f"sökt 1{nbsp}150{nbsp}000{nbsp}kr, beviljat 500{nbsp}000{nbsp}kr" in description
    # The county chart draws the six that applied and names the others in words.
    counties_chart = page.split('id="chart-counties-desc">', 1)[1].split("</desc>", 1)[0]
    assert counties_chart.startswith("Län utan ansökningar i urvalet: ") and "Gotlands län" in counties_chart
    assert page.split('id="chart-counties-title"', 1)[1].split("</svg>", 1)[0].count("<rect") == 2 * 6
    # No inline style and no script (the CSP allows neither); coordinates are SVG numbers, not "12,5".
    assert "style=" not in page and "<script" not in page
    assert not re.search(r'(?:x|y|width|height)="\d+,\d', page)


@pytest.mark.parametrize("role", ["registrar", "officer", "decision_maker", "finance", "team_lead", "auditor"])
def test_staff_and_auditors_see_the_page(cast, reference, role):
    assert client_for(getattr(cast, role)).get(PAGE).status_code == 200


def test_applicants_get_a_404_and_visitors_the_login(cast, reference):
    assert client_for(cast.signatory).get(PAGE).status_code == 404
    assert client_for(cast.applicant).get(PAGE).status_code == 404
    response = Client().get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert st.statistics_compute(actor=cast.applicant).per_call == {}


def test_the_page_runs_the_same_queries_for_two_calls_as_for_ten(cases, cast, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(cast.auditor)
    with CaptureQueriesContext(connection) as two:
        assert client.get(PAGE).status_code == 200
    now = timezone.now()
    for n in range(8):
        extra = Call.objects.create(scheme=cases.a.scheme, title=f"Extra utlysning {n}", budget=Decimal("1000000"),
                                    opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30))
        CallTrack.objects.create(call=extra, name="Spår", ceiling=Decimal("400000"))
        applied(cast, extra, MALMO if n % 2 else STOCKHOLM, to=Status.IN_REVIEW, amount=Decimal("100000"))
    assert len(st.all_calls()) == 10
    with django_assert_max_num_queries(len(two)):
        page = client.get(PAGE).content.decode()
    assert page.count("Extra utlysning") >= 8


def test_a_reader_barred_by_jav_does_not_count_that_case(cases, cast):
    """FL 16 §: as in the decision log, the declarer sees nothing of the case but its diarium entry."""
    from arenden.models import ConflictOfInterest

    ConflictOfInterest.objects.create(case_id=cases.stockholm.case_id, user=cast.officer2, reason="Min bror är projektledare.")
    barred = st.statistics_compute(actor=cast.officer2).per_call[cases.a.pk]
    assert (barred.applications, barred.requested, barred.granted) == (4, Decimal("850000"), Decimal("250000"))
    assert figures(cast).per_call[cases.a.pk].applications == 5  # the auditor's count is unchanged
