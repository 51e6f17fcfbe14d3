"""Benchmark (`make bench PYTEST_ARGS="-k form_steps"`, not part of `make test`): every step of
the draft form, rendered as the applicant sees it (Django test client, in-process), with a
budget of 1 line and of 100 lines.

Prints, per step, the number of SQL queries and the median server time at 1 and at 100
lines, and ASSERTS that the queries are the same for both (no query per budget line) on
every step. Times are printed side by side, never compared with fixed numbers: machines
differ. `BENCH_FORM_REQUESTS` sets the requests per step and size (default 20).
"""

from __future__ import annotations

import os
import statistics
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from bidrag import services
from bidrag.steps import steps_for

pytestmark = pytest.mark.django_db

REQUESTS = int(os.environ.get("BENCH_FORM_REQUESTS", "20"))
SIZES = (1, 100)


def _measure(client: Client, url: str) -> tuple[int, float]:
    # Counted by a wrapper, not CaptureQueriesContext: that one reads Django's query log,
    # a deque of 9000 that, once full, makes every count zero.
    captured: list[str] = []
    with connection.execute_wrapper(lambda execute, sql, *args: captured.append(sql) or execute(sql, *args)):
        assert client.get(url).status_code == 200
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - started)
    return len(captured), statistics.median(times) * 1000


def test_form_steps_render_with_constant_queries(draft, cast):
    client = Client()
    client.force_login(cast.applicant)
    steps = steps_for(draft.call.scheme)
    client.get(reverse("bidrag:application_step", args=[draft.pk, steps[0].slug]))

    keep = draft.budget_lines.order_by("amount").first()
    draft.budget_lines.exclude(pk=keep.pk).delete()
    results: dict[int, dict[str, tuple[int, float]]] = {}
    for size in SIZES:
        for i in range(size - draft.budget_lines.count()):
            services.budget_line_add(actor=cast.applicant, application=draft, category="material",
                                     description=f"Material {i:03d}", amount=Decimal("10"))
        assert draft.budget_lines.count() == size
        results[size] = {
            step.slug: _measure(client, reverse("bidrag:application_step", args=[draft.pk, step.slug])) for step in steps
        }

    print(f"\n{len(steps)}-step draft form, {REQUESTS} requests per step and size (median server time)")
    print(f"{'step':<18}{'queries @1':>11}{'queries @100':>14}{'ms @1':>9}{'ms @100':>10}")
    for step in steps:
        (q1, t1), (q100, t100) = results[1][step.slug], results[100][step.slug]
        print(f"{step.slug:<18}{q1:>11}{q100:>14}{t1:>9.1f}{t100:>10.1f}")
    changed = {slug: (results[1][slug][0], results[100][slug][0]) for slug in results[1]
               if results[1][slug][0] != results[100][slug][0]}
    assert not changed, f"queries grow with the budget lines: {changed}"
    assert all(queries for queries, _ms in results[1].values()), "no query was counted: the count is broken"
