"""Benchmark (`make bench PYTEST_ARGS="-k statistics"`, not part of `make test`): the
statistics page and the open-data CSV at BENCH_STATISTICS_SIZE (10 000; 100 000 for the
issue's scale) applications (issue 9).

The applications are seeded as the other benchmarks seed them (tests/bench/seed.py), then
every bulk one is decided by one INSERT … SELECT: two of three granted (with a stored
letter, so open data publishes them), the rest rejected, each in a state that matches.
Printed: the page's and the CSV's median server time and query count. Asserted: the page's
query count is what it is before any case was decided, and the CSV is two queries
(the schemes, the rows).
"""

from __future__ import annotations

import os
import statistics
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.bench.seed import seed

pytestmark = [pytest.mark.bench, pytest.mark.django_db]

SIZE = int(os.environ.get("BENCH_STATISTICS_SIZE", "10000"))
PAGE = reverse("statistics:page")
CSV = reverse("public:open_data_csv")


def _decide_all(decider_id: int, presenter_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH numbered AS (
                SELECT a.id, row_number() OVER (ORDER BY a.id) AS g FROM bidrag_application a
                WHERE a.status = 'submitted'
            ), decided AS (
                INSERT INTO bidrag_decision (id, application_id, outcome, amount, reasons, conditions, decided_by_id,
                                             presented_by_id, decided_at, detriment_ground)
                SELECT gen_random_uuid(), n.id, CASE WHEN n.g %% 3 = 0 THEN 'rejected' ELSE 'granted' END,
                       CASE WHEN n.g %% 3 = 0 THEN NULL ELSE 100000 + (n.g %% 300) * 1000 END,
                       'Bedömningen i benchmarken, beslut ' || n.g, '', %(decider)s, %(presenter)s,
                       now() - make_interval(days => (n.g %% 200)::int), ''
                FROM numbered n
                RETURNING id, application_id, outcome
            ), letters AS (
                INSERT INTO bidrag_decisionletter (id, decision_id, file, sha256, size, created_at)
                SELECT gen_random_uuid(), d.id, 'letters/bench/' || d.id || '.pdf', repeat('0', 64), 1, now()
                FROM decided d WHERE d.outcome = 'granted'
                RETURNING decision_id
            )
            UPDATE bidrag_application a SET status = d.outcome FROM decided d WHERE a.id = d.application_id
            """,
            {"decider": decider_id, "presenter": presenter_id},
        )
        cursor.execute("ANALYZE")


SLOWEST: list[tuple[float, str]] = []


def _timed(client: Client, url: str) -> tuple[float, int, int]:
    times, counts, size = [], [], 0
    SLOWEST.clear()
    for _ in range(5):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
        SLOWEST[:] = sorted(((float(q["time"]) * 1000, q["sql"][:90]) for q in ctx.captured_queries), reverse=True)[:3]
        size = len(body)
    return statistics.median(times), max(counts), size


def test_statistics_and_open_data_at_scale():
    auditor_client = Client()
    seeded = seed(total=SIZE, log=lambda *lines: print(*lines, sep="\n", flush=True))
    auditor_client.force_login(seeded.cast.auditor)
    with CaptureQueriesContext(connection) as empty:
        auditor_client.get(PAGE)
    _decide_all(seeded.cast.decision_maker.pk, seeded.cast.officer.pk)
    page_ms, page_queries, _ = _timed(auditor_client, PAGE)
    slowest = [f"    {ms:7.1f} ms  {sql}" for ms, sql in SLOWEST]
    csv_ms, csv_queries, csv_bytes = _timed(Client(), CSV)
    print("", "=" * 80, f"BENCHMARK  statistics and open data at {SIZE} applications (issue 9)", "=" * 80,
          f"  statistics page: {page_queries} queries, median {page_ms:.0f} ms; its slowest queries:", *slowest,
          f"  open-data CSV:   {csv_queries} queries, median {csv_ms:.0f} ms, {csv_bytes / 1024:.0f} KiB",
          sep="\n", flush=True)
    assert page_queries <= len(empty.captured_queries)  # decided cases add no query
    assert csv_queries <= 2  # the schemes (the filter's choices) and the rows
