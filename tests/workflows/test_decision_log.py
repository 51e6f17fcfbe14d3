"""Issue 9, the decision log (beslutslogg): one row per decision, corrections included and
saying what they refer to, with who decided, presented and took part (MF 21 §); filtered,
searched in the reasons with PostgreSQL's Swedish full-text search through its GIN index,
paged by keyset at a constant number of queries; the auditor's landing page, read-only,
and a 404 for anyone who is not Brå staff."""

import html
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arenden.models import ConflictOfInterest
from bidrag.models import Call, Decision, Organisation
from bidrag.models.application import Status
from bidrag.services.letters import letter_issue
from tests.workflows.decision_log_cases import correct, decide_with_participant
from workflows import decision_log as log
from workflows.decision_log import DecisionLogFilter

pytestmark = pytest.mark.django_db

LOG = reverse("workflows:decision_log")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ids(decisions) -> set:
    return {d.pk for d in decisions}


def found(cast, **conditions) -> set:
    return ids(log.decision_log(actor=cast.auditor, log_filter=DecisionLogFilter(**conditions)))


def test_each_decision_is_a_row_with_what_the_auditor_needs(decided, cast):
    letter_issue(decision_id=decided.granted.pk)
    response = client_for(cast.auditor).get(LOG)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    granted = decided.granted
    application = granted.application
    assert page.count("<tr>") == 1 + 4  # the header and one row per decision, the correction too
    letter_url = reverse("bidrag:decision_letter", args=[application.pk, granted.pk])
    [cells] = [row for row in page.split("<tr>") if letter_url in row]
    assert f'<th scope="row"><a href="{reverse("workflows:case_detail", args=[application.pk])}">' \
           f'{application.case.diarienummer}</a></th>' in cells
    day = timezone.localtime(granted.decided_at).date().isoformat()
    for expected in (day, application.call.title, application.call.scheme.name, application.track.name,
                     application.organisation.name, "Stockholms län", "Beviljad", "300\u00a0000\u00a0kr", "250\u00a0000\u00a0kr",
                     "Berit Beslutsfattare efter föredragning av Hanna Handläggare", "Hugo Handläggare",
                     "Projektet är relevant, genomförbart",
                     reverse("workflows:case_journal", args=[application.pk])):
        assert expected in cells, expected
    assert "ej lagrat ännu" not in cells  # its letter is stored
    # The correction is a row of its own that says which decision it corrects (FL 36 §).
    assert f"Rättelse av beslut {day} (Beviljad)" in page
    # Newest first: the dismissal, the rejection, the correction, the grant.
    order = re.findall(r"<td>(Avvisad|Avslag|Beviljad)", page)
    assert order == ["Avvisad", "Avslag", "Beviljad", "Beviljad"]


def test_each_filter_narrows_the_log(decided, cast, call):
    everything = ids(decided.all)
    today = timezone.localdate()
    assert found(cast) == everything
    # period
    assert found(cast, decided_from=today, decided_to=today) == everything
    assert found(cast, decided_from=today + timedelta(days=1)) == set()
    assert found(cast, decided_to=today - timedelta(days=1)) == set()
    # call and scheme
    other_call = Call.objects.exclude(pk=call.pk).exclude(scheme=call.scheme).first()
    assert found(cast, call_id=call.pk) == everything
    assert found(cast, call_id=other_call.pk) == set()
    assert found(cast, scheme_id=call.scheme_id) == everything
    assert found(cast, scheme_id=other_call.scheme_id) == set()
    # outcome
    assert found(cast, outcome=Decision.Outcome.REJECTED) == {decided.rejected.pk}
    assert found(cast, outcome=Decision.Outcome.GRANTED) == {decided.granted.pk, decided.correction.pk}
    # officer: who decided, or who presented
    assert found(cast, officer_id=cast.decision_maker.pk) == everything
    assert found(cast, officer_id=cast.officer.pk) == everything
    assert found(cast, officer_id=cast.officer2.pk) == set()  # took part only
    # county (län: the kommunkod's first two digits)
    assert found(cast, county="01") == {decided.granted.pk, decided.correction.pk}
    assert found(cast, county="12") == {decided.rejected.pk}
    assert found(cast, county="14") == {decided.dismissed.pk}
    # the decided amount
    assert found(cast, amount_min=200000) == {decided.granted.pk, decided.correction.pk}
    assert found(cast, amount_min=250001) == set()
    assert found(cast, amount_max=249999) == set()
    # the page reads the same filters from its form
    page = client_for(cast.auditor).get(LOG, {"utfall": "rejected", "lan": "12"}).content.decode()
    assert decided.rejected.application.case.diarienummer in page
    assert decided.granted.application.case.diarienummer not in page
    # FL 16 §: a case on which one declared jäv is not in one's log
    ConflictOfInterest.objects.create(case_id=decided.rejected.application.case_id, user=cast.officer2,
                                      reason="Min make arbetar i projektet.")
    seen = ids(log.decision_log(actor=cast.officer2))
    assert decided.rejected.pk not in seen and decided.granted.pk in seen
    assert decided.rejected.pk in ids(log.decision_log(actor=cast.auditor))


def _plan(sql: str, *, sort: bool = False) -> dict:
    """The plan PostgreSQL picks when it may use an index (sequential scans, and unless
    `sort`, sorts priced out: with a handful of rows a scan is cheaper than any index)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if not sort:
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        value = cursor.fetchone()[0]
    return (json.loads(value) if isinstance(value, str) else value)[0]["Plan"]


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _index_names(node: dict) -> set:
    return {n["Index Name"] for n in _nodes(node) if "Index Name" in n}


def test_search_finds_a_swedish_word_by_its_stem_through_the_gin_index(decided, cast):
    # "kommunerna" is not in any reasons; the grant's "kommunens" has the same stem, "kommun".
    assert all("kommunerna" not in d.reasons for d in decided.all)
    assert found(cast, query="kommunerna") == {decided.granted.pk, decided.correction.pk}
    assert found(cast, query="utlysningarna") == {decided.dismissed.pk}  # "utlysningen"
    assert found(cast, query="socialförvaltningen budgeten") == {decided.rejected.pk}  # both words, any form
    assert found(cast, query="kommunerna -processledning") == set()
    assert found(cast, query='"rättat"') == {decided.correction.pk}
    page = client_for(cast.auditor).get(LOG, {"q": "kommunerna"}).content.decode()
    assert decided.granted.application.case.diarienummer in page
    assert decided.rejected.application.case.diarienummer not in page
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'decision_reasons_swedish'")
        [definition] = cursor.fetchone()
    assert "gin" in definition and "'swedish'::regconfig" in definition
    decisions = log.decision_log_rows(log.decision_log(actor=cast.auditor,
                                                       log_filter=DecisionLogFilter(query="kommunerna")))
    with CaptureQueriesContext(connection) as ctx:
        list(decisions.order_by(*log.DECISION_LOG_ORDER)[:26])
    sql = ctx.captured_queries[0]["sql"]  # as sent, with its values
    assert "to_tsvector('swedish'::regconfig, COALESCE(" in sql
    assert "decision_reasons_swedish" in _index_names(_plan(sql, sort=True))
    assert "DISTINCT" not in sql.upper()


def test_the_log_pages_by_keyset_at_the_same_number_of_queries_for_1_and_30_decisions(make_application, cast, call):
    first = decide_with_participant(make_application, cast, Organisation.objects.get(kommunkod="0180"))
    auditor = client_for(cast.auditor)
    today = timezone.localdate().isoformat()
    pages = [{}, {"antal": 100}, {"sista": "1"}, {"q": "kommunerna"},
             {"fran": today, "till": today, "utlysning": str(call.pk), "stodform": str(call.scheme_id),
              "utfall": "granted", "person": str(cast.decision_maker.pk), "lan": "01", "belopp_fran": "1",
              "belopp_till": "900000"}]
    for params in pages:
        auditor.get(LOG, params)  # warm-up: session, content types

    def counted():
        result = []
        for params in pages:
            with CaptureQueriesContext(connection) as ctx:
                response = auditor.get(LOG, params)
            assert response.status_code == 200
            result.append(len(ctx.captured_queries))
        return result

    few = counted()
    latest = first
    for n in range(29):
        latest = correct(cast, latest, suffix=f" ({n})")
    assert Decision.objects.count() == 30
    many = counted()
    assert few == many
    assert max(few) <= 12  # as the other staff lists (issue 7)
    first_page = auditor.get(LOG).content.decode()
    assert first_page.count("<tr>") == 1 + 25
    following = html.unescape(re.search(r'href="([^"]+)" rel="next"', first_page).group(1))
    with CaptureQueriesContext(connection) as ctx:
        second_page = auditor.get(LOG + following).content.decode()
    assert second_page.count("<tr>") == 1 + 5 and len(ctx.captured_queries) == few[0]
    # The page is read from the index decision_log_order, in its order: no sort, no DISTINCT.
    [sql] = [q["sql"] for q in ctx.captured_queries
             if q["sql"].startswith('SELECT "bidrag_decision"') and "LIMIT 26" in q["sql"]]
    assert "DISTINCT" not in sql.upper()
    root = _plan(sql)
    assert "decision_log_order" in _index_names(root)
    assert not {n["Node Type"] for n in _nodes(root)} & {"Sort", "Incremental Sort", "Unique"}


def test_the_auditor_reads_without_a_form_that_writes_and_others_get_404(make_application, cast):
    make_application(to=Status.REJECTED)
    auditor = client_for(cast.auditor)
    response = auditor.get(LOG)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Avslag" in page
    posts = re.findall(r'<form[^>]*method="post"[^>]*>', page, re.I)
    allowed = (reverse("logout"), reverse("set_language"))
    assert all(any(f'action="{url}"' in form for url in allowed) for form in posts), posts
    assert auditor.post(LOG).status_code == 405
    urls = [LOG, reverse("workflows:export_list"), *(reverse(name, args=[fmt]) for fmt in ("csv", "xlsx")
            for name in ("workflows:decision_log_export", "workflows:disbursement_export"))]
    stranger = get_user_model().objects.create_user("okand", password=None)
    for url in urls:
        for user in (cast.applicant, cast.signatory, stranger):
            assert client_for(user).get(url).status_code == 404, (url, user)
        assert Client().get(url).status_code == 302  # to the login page
    assert auditor.get(reverse("workflows:decision_log_export", args=["pdf"])).status_code == 404


def test_the_auditor_lands_on_the_decision_log_and_staff_find_it_in_the_menu(cast):
    assert Client().get("/").status_code == 200  # visitors: the public start page
    auditor = client_for(cast.auditor)
    response = auditor.get("/")
    assert response.status_code == 302 and response["Location"] == LOG
    assert client_for(cast.officer).get("/")["Location"] == reverse("workflows:queue")
    for user in (cast.officer, cast.auditor, cast.team_lead):
        menu = client_for(user).get(LOG).content.decode()
        assert f'href="{LOG}"' in menu and "Beslutslogg" in menu
    assert f'href="{LOG}"' not in client_for(cast.applicant).get(reverse("bidrag:application_list")).content.decode()
    assert "Inga beslut matchar urvalet." in auditor.get(LOG).content.decode()


def test_a_dismissed_late_appeal_says_which_decision_it_refers_to(make_application, cast):
    from workflows import appeals

    application = make_application(to=Status.REJECTED)
    from tests.harness.app_role import as_owner

    # The decision was sent 40 days ago (the append-only guard set aside, as only the owner may).
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE bidrag_decision SET decided_at = decided_at - %s WHERE application_id = %s",
                       [timedelta(days=40), application.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    rejected = application.decisions.get()
    decided_on = timezone.localdate(rejected.decided_at)
    appeal = appeals.register(actor=cast.registrar, application_id=application.pk, decision_id=rejected.pk,
                              received_on=timezone.localdate(), notified_on=decided_on,
                              summary="Kommunen begär att beslutet ändras.")
    appeals.dismiss(actor=cast.decision_maker, application_id=application.pk, appeal_id=appeal.pk,
                    reasons="Överklagandet kom in 40 dagar efter att kommunen fick del av beslutet.")
    page = client_for(cast.auditor).get(LOG).content.decode()
    assert "Överklagandet avvisat" in page
    assert f"Överklagande av beslut {decided_on.isoformat()}, inkom {timezone.localdate().isoformat()}" in page
