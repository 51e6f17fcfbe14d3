"""Benchmark (`make bench PYTEST_ARGS="-k ranking"`): the ranking of one call of 2 000
applications with the allocation simulator (issue 7).

Seeded as tests/bench/seed.py seeds, with the evaluation call (several applications per
organisation) taking BENCH_RANKING_APPLICATIONS of them; those are then put in assessment
in bulk (SQL, as if each had been through the door): every one scored by one or two
assessors on the scheme's three criteria, every third one with an open decision proposal.
For the ranking's first page, its page at the budget line, a page of a track and a page
with the simulator's changes (a cut row and a partial amount), at 25 and at 100 rows, it
prints

* the SQL queries, ASSERTED equal between 25 and 100 rows and across the pages, and at most 12,
* the median and p90 server time over BENCH_RANKING_REQUESTS requests (in process), and
  a page without data measured in the same run (what any page costs on this machine now).

A quick try: ``make bench PYTEST_ARGS="-k ranking" BENCH_RANKING_APPLICATIONS=500``.
"""

from __future__ import annotations

import html
import os
import random
import re
import statistics
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bidrag.models import Application, Assessment, Call, Proposal, Score
from bidrag.models.application import Status
from bidrag.models.assessment import criteria_of
from workflows.queue_entries import queue_rebuild

from .seed import BATCH, seed

pytestmark = pytest.mark.django_db(transaction=True)

APPLICATIONS = int(os.environ.get("BENCH_RANKING_APPLICATIONS", "2000"))
REQUESTS = int(os.environ.get("BENCH_RANKING_REQUESTS", "15"))
MAX_QUERIES = 12  # issue 7: equal at 25 and 100 rows, and at most 12
CRITERIA = [
    {"name": "Relevans", "description": "Utvärderingen svarar på en fråga som det brottsförebyggande arbetet har."},
    {"name": "Genomförbarhet", "description": "Metoden och budgeten håller för utvärderingen."},
    {"name": "Bärkraft", "description": "Resultaten kommer till användning efter projektet."},
]


def _say(*lines):
    print(*lines, sep="\n", flush=True)


def _into_assessment(call: Call, cast) -> int:
    """The call's applications in assessment, scored; every third with a proposal."""
    call.scheme.assessment_criteria = CRITERIA
    call.scheme.save(update_fields=["assessment_criteria"])
    call.budget = Decimal("60000000")
    call.save(update_fields=["budget"])
    ids = list(Application.objects.filter(call=call).order_by("submitted_at").values_list("pk", flat=True))
    proposed = ids[::3]
    Application.objects.filter(pk__in=ids).update(status=Status.IN_ASSESSMENT)
    Application.objects.filter(pk__in=proposed).update(status=Status.DECISION_PROPOSED)
    queue_rebuild(ids)  # the queues' rows follow the statuses set in bulk (the queue reads them)
    rng = random.Random(7)
    criteria = criteria_of(call)
    assessments, scores = [], []
    for n, pk in enumerate(ids):
        for assessor in (cast.officer, cast.officer2)[: 1 + n % 2]:
            values = [rng.randint(1, call.score_scale_max) for _ in criteria]
            a = Assessment(application_id=pk, assessor=assessor, total=sum(values))
            assessments.append(a)
            scores += [Score(assessment=a, criterion=c["code"], criterion_name=c["name"], value=v,
                             scale_max=call.score_scale_max, reason="Motiverat i bedömningen", position=i)
                       for i, (c, v) in enumerate(zip(criteria, values, strict=True))]
    Assessment.objects.bulk_create(assessments, batch_size=BATCH)
    Score.objects.bulk_create(scores, batch_size=BATCH)
    Proposal.objects.bulk_create(
        [Proposal(application_id=pk, kind=Proposal.Kind.DECISION, outcome=Proposal.Outcome.GRANTED,
                  amount=Decimal("150000"), reasons="Relevant och genomförbar", conditions="Lägre belopp än sökt",
                  proposed_by=cast.officer) for pk in proposed],
        batch_size=BATCH,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return len(ids)


def _queries(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response.content.decode()


def _timed(client: Client, url: str) -> list[float]:
    client.get(url)
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    return times


def test_ranking_of_a_call_of_2000(capsys):
    started = time.perf_counter()
    # the municipalities' call takes one application per municipality; the rest go to the evaluation call
    seeded = seed(total=APPLICATIONS + 300, real=2, log=lambda *a: None)
    call = Call.objects.get(scheme__code="utvardering")
    ranked = _into_assessment(call, seeded.cast)
    seeding = time.perf_counter() - started
    assert ranked >= APPLICATIONS - 20

    client = Client()
    client.force_login(seeded.cast.decision_maker)
    url = reverse("workflows:ranking", args=[call.pk])
    track = call.tracks.order_by("position").first()
    first_ids = list(Application.objects.filter(call=call).order_by("submitted_at").values_list("pk", flat=True)[:2])
    pages = {}
    for size in (25, 100):
        _n, first = _queries(client, f"{url}?antal={size}")
        line = re.search(r'href="\?([^"]*)#plats-\d+">', first)  # the page's own link to the budget line
        pages[f"first page ({size})"] = f"{url}?antal={size}"
        pages[f"budget line page ({size})"] = f"{url}?{html.unescape(line.group(1))}" if line else f"{url}?antal={size}"
        pages[f"a track ({size})"] = f"{url}?antal={size}&spar={track.pk}"
        pages[f"simulated: cut + partial ({size})"] = (
            f"{url}?antal={size}&stryk={first_ids[0]}&rad={first_ids[1]}&nytt_belopp=100000")
    pages["(a page without data: the accessibility statement)"] = reverse("accessibility")
    results = {}
    for name, page_url in pages.items():
        client.get(page_url)  # warm-up
        count, body = _queries(client, page_url)
        results[name] = (count, _timed(client, page_url), body.count('<tr id="plats-'))
    with capsys.disabled():
        _say("", f"Ranking of a call of {ranked} applications (seeded in {seeding:.1f} s), "
                 f"{REQUESTS} requests each, decision maker:")
        for name, (count, times, rows) in results.items():
            times.sort()
            _say(f"  {name[:52]:<52} {rows:>4} rows  {count:>2} queries  median {statistics.median(times):7.1f} ms"
                 f"  p90 {times[int(len(times) * 0.9) - 1]:7.1f} ms")
    results.pop("(a page without data: the accessibility statement)")
    counts = {count for count, _t, _r in results.values()}
    assert len(counts) == 1, results
    assert counts.pop() <= MAX_QUERIES
    assert all(rows in (25, 100) for _c, _t, rows in results.values() if rows)
