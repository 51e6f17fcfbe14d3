"""Issue 7, the lists at 100 000 applications: the all-cases page (the auditor's landing
page and the staff search) and the queues cost a constant number of queries whatever the
number of rows, page by keyset (the rows after the last one seen, never OFFSET), and read
their pages from an index in the page's order. At 100 000 applications the all-cases page
took 10 s: a join with the memberships undone by SELECT DISTINCT over every column, sorted
on disk; these tests keep that from coming back (the numbers are in tests/bench)."""

import html
import json
import re

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bidrag.models import Application, Organisation
from bidrag.models.application import Status

pytestmark = pytest.mark.django_db

CASES = reverse("workflows:case_list")
QUEUE = reverse("workflows:queue")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def submitted(make_application, count, *, skip=0):
    """`count` submitted applications, each of its own municipality, through the real path."""
    municipalities = Organisation.objects.exclude(kommunkod="").order_by("kommunkod")[skip : skip + count]
    return [make_application(to=Status.SUBMITTED, organisation=o, title=f"Projekt {skip + i:03d}")
            for i, o in enumerate(municipalities)]


def captured(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in ctx.captured_queries]


def shown(page: str) -> list[str]:
    return re.findall(r"<td>(Projekt \d+)(?: i mörkerseende)?</td>", page)


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else None


def page_query(statements: list[str], table: str) -> str:
    [sql] = [s for s in statements if s.startswith("SELECT") and f'FROM "{table}"' in s and "LIMIT" in s
             and "COUNT(" not in s]
    return sql


def plan(sql: str, *, analyze: bool = False) -> dict:
    """The plan PostgreSQL picks when it may use an index: with sequential scans and sorts
    priced out, a plan still has a Sort or a Unique only if no index can give the order."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN ({'ANALYZE, ' if analyze else ''}FORMAT JSON) {sql}")
        value = cursor.fetchone()[0]
    return (json.loads(value) if isinstance(value, str) else value)[0]["Plan"]


def nodes(node: dict, *, subplans: bool = True):
    yield node
    for child in node.get("Plans", []):
        if subplans or child.get("Parent Relationship") != "SubPlan":
            yield from nodes(child, subplans=subplans)


def test_all_cases_and_queue_cost_the_same_queries_with_3_and_with_30_applications(make_application, cast, call):
    auditor, registrar, team_lead = client_for(cast.auditor), client_for(cast.registrar), client_for(cast.team_lead)
    pages = [
        (auditor, CASES, {}), (auditor, CASES, {"antal": 100}), (auditor, CASES, {"q": "Projekt"}),
        (auditor, CASES, {"sista": "1"}), (registrar, QUEUE, {}), (registrar, QUEUE, {"sista": "1"}),
        # the queue's filters, search and sorts: the same cost with 3 rows and with 30 (issue 7)
        (registrar, QUEUE, {"lan": "01", "utlysning": str(call.pk), "belopp_fran": "1", "status": "submitted"}),
        (registrar, QUEUE, {"q": "kommun", "sortering": "belopp"}), (registrar, QUEUE, {"sortering": "inkom", "sista": "1"}),
        (registrar, QUEUE, {"vy": "ej-tilldelade", "sortering": "svarsfrist", "antal": 100}),
        (team_lead, QUEUE, {"ko": "registrator"}),  # with whom each task may be given to
    ]
    submitted(make_application, 3)
    for client, url, params in pages:
        client.get(url, params)  # warm-up: session, content types
    few = [len(captured(client, url, params)[1]) for client, url, params in pages]
    submitted(make_application, 27, skip=3)
    many = [len(captured(client, url, params)[1]) for client, url, params in pages]
    assert few == many
    assert max(few) <= 12  # issue 7: at most 12 queries a page
    # 30 rows: the first page of 25 leads on, by the last row seen, to a second page of the same cost
    first, first_sql = captured(auditor, CASES)
    second, second_sql = captured(auditor, CASES + link(first, "next"))
    assert len(shown(first)) == 25 and len(shown(second)) == 5 and len(second_sql) == len(first_sql)
    queue_first, queue_sql = captured(registrar, QUEUE)
    queue_next, queue_next_sql = captured(registrar, QUEUE + link(queue_first, "next"))
    assert len(queue_next_sql) == len(queue_sql)


def test_all_cases_reads_its_page_from_the_index_without_distinct(make_application, cast):
    submitted(make_application, 30)
    page, statements = captured(client_for(cast.auditor), CASES)
    sql = page_query(statements, "bidrag_application")
    assert "DISTINCT" not in sql.upper()
    assert 'JOIN "bidrag_membership"' not in sql  # membership is an EXISTS, never a join
    root = plan(sql, analyze=True)
    kinds = {node["Node Type"] for node in nodes(root, subplans=False)}
    assert not kinds & {"Sort", "Incremental Sort", "Unique", "Aggregate", "Hash"}, kinds
    assert any(node.get("Index Name") == "application_newest_first" for node in nodes(root))
    # The requested amount is summed for the rows read (26: the page and one to know there is
    # another), not for each of the 30 cases.
    subplans = [node for node in nodes(root) if node.get("Parent Relationship") == "SubPlan"]
    assert subplans and all(node["Actual Loops"] <= 26 for node in subplans)
    # The last page (the oldest 25, a full page) is read from the other end of the same index.
    last, statements = captured(client_for(cast.auditor), CASES, {"sista": "1"})
    assert shown(last) == [f"Projekt {i:03d}" for i in range(24, -1, -1)]
    assert any(node.get("Index Name") == "application_newest_first"
               for node in nodes(plan(page_query(statements, "bidrag_application"))))


SORT_INDEXES = {"": "queue_by_created", "inkom": "queue_by_received", "svarsfrist": "queue_by_deadline",
                "belopp": "queue_by_requested"}


@pytest.mark.parametrize("sort", list(SORT_INDEXES))
def test_the_queue_reads_its_page_from_the_index_of_its_sort(make_application, cast, sort):
    submitted(make_application, 3)
    for params in ({"sortering": sort}, {"sortering": sort, "sista": "1"}):
        page, statements = captured(client_for(cast.registrar), QUEUE, params)
        root = plan(page_query(statements, "workflows_queueentry"))
        assert any(node.get("Index Name") == SORT_INDEXES[sort] for node in nodes(root)), params
        assert not {node["Node Type"] for node in nodes(root)} & {"Sort", "Incremental Sort"}, params
    # One statement counts every queue of the role (the tabs), each from its own index.
    [count] = [s for s in statements if "COUNT(" in s and "workflows_queueentry" in s]
    indexes = {node.get("Index Name") for node in nodes(plan(count))}
    assert {"queue_by_created", "queue_unassigned"} <= indexes, indexes


def test_all_cases_pages_forward_back_and_to_the_end(make_application, cast):
    made = submitted(make_application, 30)
    newest_first = [a.title for a in reversed(made)]
    client = client_for(cast.auditor)
    first, _ = captured(client, CASES)
    assert shown(first) == newest_first[:25]
    assert link(first, "prev") is None and link(first, "first") is None
    assert "sida" not in link(first, "next") and "efter=" in link(first, "next")
    second, _ = captured(client, CASES + link(first, "next"))
    assert shown(second) == newest_first[25:]
    assert link(second, "next") is None and link(second, "last") is None
    back, _ = captured(client, CASES + link(second, "prev"))
    assert shown(back) == newest_first[:25]
    last, _ = captured(client, CASES + link(first, "last"))
    assert shown(last) == newest_first[-25:]
    assert link(last, "next") is None and link(last, "prev") is not None
    assert shown(captured(client, CASES, {"efter": "nonsense"})[0]) == newest_first[:25]
    assert "30 ärenden" in first


def test_search_by_diarienummer_organisation_or_title_finds_each_once(make_application, cast):
    made = submitted(make_application, 3)
    client = client_for(cast.auditor)
    number = made[1].case.diarienummer
    assert shown(captured(client, CASES, {"q": number})[0]) == [made[1].title]
    organisation = made[2].organisation.name
    assert shown(captured(client, CASES, {"q": organisation.upper()})[0]) == [made[2].title]
    assert shown(captured(client, CASES, {"q": "projekt 000"})[0]) == [made[0].title]
    # one application matching on all three counts once
    both = captured(client, CASES, {"q": "Projekt"})[0]
    assert sorted(shown(both)) == sorted(a.title for a in made) and "3 ärenden" in both


def test_search_pages_by_keyset_over_matches_of_both_title_and_organisation(make_application, cast):
    """Each condition of the search is read by itself (arenden.keyset's any_of); a page is
    the first rows of their union, so pages neither skip nor repeat a case."""
    made = submitted(make_application, 30)
    for i, application in enumerate(made):
        if i % 2:
            Organisation.objects.filter(pk=application.organisation_id).update(name=f"Mörkerseende kommun {i}")
        else:
            Application.objects.filter(pk=application.pk).update(title=f"Projekt {i:03d} i mörkerseende")
    newest_first = [re.sub(r" i mörkerseende$", "", a.title) for a in reversed(made)]
    client = client_for(cast.auditor)
    first, statements = captured(client, CASES, {"q": "MÖRKERSEENDE"})
    assert shown(first) == newest_first[:25] and "30 ärenden" in first
    assert "DISTINCT" not in page_query(statements, "bidrag_application").upper()
    second, _ = captured(client, CASES + link(first, "next"))
    assert shown(second) == newest_first[25:]
    last, _ = captured(client, CASES + link(first, "last"))
    assert shown(last) == newest_first[-25:]
    assert shown(captured(client, CASES + link(second, "prev"))[0]) == newest_first[:25]
