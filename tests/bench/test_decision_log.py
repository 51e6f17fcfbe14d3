"""Benchmark (`make bench PYTEST_ARGS="-k decision_log"`, not part of `make test`): the
decision log and its exports at 100 000 decisions (issue 9).

One decided case through the real door, then BENCH_DECISIONS (100 000) more decisions on
it written by one INSERT … SELECT (the reasons vary, a tenth mention "kommunens"). Printed:
the filtered and the searched page's median server time and query count; the CSV and the
XLSX export of every row, streamed through the test client and read chunk by chunk, with
their time, size, the peak of Python's allocations (tracemalloc) and the growth of the
process's peak RSS. Asserted: the page's query count does not grow, and neither export
holds its rows in memory (peak allocations under PEAK_LIMIT).
"""

from __future__ import annotations

import os
import resource
import statistics
import time
import tracemalloc

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bidrag.models import Decision
from bidrag.models.application import Status

pytestmark = [pytest.mark.bench, pytest.mark.django_db]

DECISIONS = int(os.environ.get("BENCH_DECISIONS", "100000"))
PEAK_LIMIT = 50 * 1024 * 1024


def _insert(decision: Decision, count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO bidrag_decision (id, application_id, outcome, amount, reasons, conditions, decided_by_id,
                                         presented_by_id, decided_at, detriment_ground)
            SELECT gen_random_uuid(), %(application)s,
                   CASE WHEN g %% 3 = 0 THEN 'rejected' ELSE 'granted' END,
                   CASE WHEN g %% 3 = 0 THEN NULL ELSE 100000 + (g %% 300) * 1000 END,
                   CASE WHEN g %% 10 = 0 THEN 'Samma uppgift ligger på kommunens samordnare, beslut ' || g
                        ELSE 'Projektet är relevant och genomförbart enligt bedömningen, beslut ' || g END,
                   '', %(decider)s, %(presenter)s, now() - make_interval(mins => g), ''
            FROM generate_series(1, %(count)s) AS g
            """,
            {"application": decision.application_id, "decider": decision.decided_by_id,
             "presenter": decision.presented_by_id, "count": count},
        )
        cursor.execute("ANALYZE bidrag_decision")


def _page(client, params) -> tuple[float, int]:
    times, counts = [], []
    for _ in range(7):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(reverse("workflows:decision_log"), params)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert len(set(counts)) == 1
    if os.environ.get("BENCH_SHOW_QUERIES"):
        timings = []

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timings.append((time.perf_counter() - started, sql[:160]))

        with connection.execute_wrapper(timed):
            client.get(reverse("workflows:decision_log"), params)
        for seconds, sql in timings:
            print(f"  {seconds * 1000:7.1f} ms  {sql}")
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("workflows:decision_log"), params)
        [page_sql] = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "bidrag_decision"')]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + page_sql)
            print("\n".join(row[0] for row in cursor.fetchall()))
    return statistics.median(times) * 1000, counts[0]


def _export(client, file_format: str) -> dict:
    url = reverse("workflows:decision_log_export", args=[file_format])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(url)
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Not response.close(): in the test's transaction its request_finished would close the connection.
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before  # KiB on Linux
    return {"seconds": elapsed, "bytes": size, "peak": peak, "rss_growth_kib": rss_growth}


def test_decision_log_and_exports_at_scale(make_application, cast, settings):
    settings.DEBUG = False
    first = make_application(to=Status.GRANTED).decisions.get()
    _insert(first, DECISIONS)
    client = Client()
    client.force_login(cast.auditor)
    client.get(reverse("workflows:decision_log"))  # warm-up
    for name, params in [("first page", {}), ("last page", {"sista": "1"}),
                         ("filtered", {"utfall": "granted", "lan": "01", "belopp_fran": "150000"}),
                         ("searched", {"q": "kommunerna"})]:
        median_ms, queries = _page(client, params)
        print(f"\ndecision log, {name}, {DECISIONS + 1} decisions: median {median_ms:.1f} ms, {queries} queries")
    for file_format in () if os.environ.get("BENCH_PAGES_ONLY") else ("csv", "xlsx"):
        result = _export(client, file_format)
        print(f"export {file_format}: {DECISIONS + 1} rows in {result['seconds']:.1f} s, "
              f"{result['bytes'] / 1e6:.1f} MB, peak Python allocations {result['peak'] / 1e6:.1f} MB, "
              f"peak RSS growth {result['rss_growth_kib'] / 1024:.1f} MB")
        assert result["peak"] < PEAK_LIMIT, result
