"""Races on the real PostgreSQL: two decision makers on one case, many submissions numbered
at once, and a rolled-back numbering that must leave no gap.

Every test commits (``transactional_db``) so that the threads' own connections see the
data. To make the overlap certain rather than likely, a "gate" connection holds the row
lock the racers need until PostgreSQL reports that all of them are queued on it.
"""

import re
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from arenden.errors import ServiceError, ValidationFailed
from arenden.journal import journal_verify
from arenden.models import Case, DiarieSerial, JournalEvent
from bidrag.models import Application, Call, Decision, Organisation
from bidrag.models.application import Status
from bidrag.roles import Role
from bidrag.services.common import applicant_recipients
from notifications.models import OutboxMessage
from tests.domain import perform, submit
from tests.harness.app_role import as_owner
from workflows import demo

pytestmark = pytest.mark.django_db(transaction=True)

SWEDISH_SENTENCE = re.compile(r"^[A-ZÅÄÖ][^\n]*[.!]$")


# -- helpers -----------------------------------------------------------------------------


def _in_thread(target, results: dict, key, *args):
    """Run target(*args) on its own database connection; keep its result or exception."""

    def run():
        try:
            results[key] = ("ok", target(*args))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            results[key] = ("error", exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name=f"racer-{key}", daemon=True)
    thread.start()
    return thread


def _backends_waiting_on_locks() -> int:
    """How many other sessions of this test database are blocked on a heavyweight lock (as
    the owner: pg_stat_activity shows another session's wait only to a role with the
    privileges of that session's user)."""
    with as_owner(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _wait_for_waiters(count: int, timeout: float = 20.0, results: dict | None = None) -> None:
    deadline = time.monotonic() + timeout
    while (waiting := _backends_waiting_on_locks()) < count:
        if results and any(outcome == "error" for outcome, _ in results.values()):
            raise AssertionError(f"a racer failed before reaching the lock: {results}")
        if time.monotonic() > deadline:
            raise AssertionError(f"only {waiting} of {count} sessions queued on the lock within {timeout} s")
        time.sleep(0.02)


class Gate:
    """Holds ``lock(queryset)``'s row lock in its own thread and transaction until opened."""

    def __init__(self, lock):
        self._lock = lock
        self._held = threading.Event()
        self._open = threading.Event()
        self.error = None
        self._thread = threading.Thread(target=self._run, name="gate", daemon=True)

    def _run(self):
        try:
            with transaction.atomic():
                self._lock()
                self._held.set()
                if not self._open.wait(60):
                    raise TimeoutError("gate never opened")
        except BaseException as exc:  # noqa: BLE001
            self.error = exc
            self._held.set()
        finally:
            connection.close()

    def __enter__(self):
        self._thread.start()
        assert self._held.wait(30), "the gate did not take its lock"
        assert self.error is None, self.error
        return self

    def open(self):
        self._open.set()

    def __exit__(self, *exc_info):
        self._open.set()
        self._thread.join(30)
        assert not self._thread.is_alive()


def _join(threads, timeout=60.0):
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), f"{thread.name} is still running: deadlock?"


def _municipalities(count: int) -> list[Organisation]:
    orgs = list(Organisation.objects.filter(orgnr__startswith="2").order_by("orgnr")[:count])
    assert len(orgs) == count
    return orgs


# -- two decision makers, one case ------------------------------------------------------


def test_two_decision_makers_deciding_at_once_yield_exactly_one_decision(cast, make_application):
    second = demo._user("beslutsfattare2", "Bengt", "Beslutsfattare", [Role.DECISION_MAKER], None)
    assert second.groups.filter(name=Role.DECISION_MAKER).exists()
    deciders = [cast.decision_maker, second]

    for round_number, organisation in enumerate(_municipalities(3)):
        application = make_application(to=Status.DECISION_PROPOSED, organisation=organisation, title=f"Runda {round_number}")
        barrier = threading.Barrier(len(deciders), timeout=30)
        results: dict = {}

        def decide(actor, application=application, barrier=barrier):
            barrier.wait()
            return perform(actor=actor, application=application, node="decide", action="decide", data={})

        # Both deciders are released together and then queue on the application row,
        # which the gate holds until PostgreSQL shows both of them waiting for it.
        with Gate(lambda application=application: Application.objects.select_for_update(of=("self",)).get(pk=application.pk)) as gate:
            threads = [_in_thread(decide, results, actor.username, actor) for actor in deciders]
            _wait_for_waiters(len(deciders), results=results)
            gate.open()
        _join(threads)

        outcomes = {name: outcome for name, (outcome, _) in results.items()}
        assert sorted(outcomes.values()) == ["error", "ok"], results
        [winner] = [name for name, outcome in outcomes.items() if outcome == "ok"]
        [loser] = [name for name, outcome in outcomes.items() if outcome == "error"]
        error = results[loser][1]
        assert isinstance(error, ServiceError), repr(error)
        assert error.http_status == 409
        message = str(error)
        assert SWEDISH_SENTENCE.match(message), message
        assert re.search(r"[åäö]", message), message

        decisions = Decision.objects.filter(application=application)
        assert decisions.count() == 1
        decision = decisions.get()
        assert decision.decided_by.username == winner
        assert results[winner][1] == decision
        application.refresh_from_db()
        assert application.status == Status.GRANTED
        decide_events = JournalEvent.objects.filter(case=application.case, action="decide")
        assert decide_events.count() == 1
        assert decide_events.get().actor.username == winner
        decision_notices = OutboxMessage.objects.filter(reference=f"application:{application.pk}", kind="decision")
        assert decision_notices.count() == len(set(applicant_recipients(application)))
    assert journal_verify() == []


# -- diarienummer under load --------------------------------------------------------------

DIARIENUMMER = re.compile(r"^(\d{4})-(\d{5})$")


def test_twenty_parallel_submissions_get_distinct_consecutive_diarienummer(cast, call):
    assert settings.DIARIENUMMER_FORMAT == "{year}-{serial:05d}"
    organisations = _municipalities(20)
    drafts = [
        demo.new_application(cast=cast, organisation=org, call=call, title=f"Trygghet i {org.name}") for org in organisations
    ]
    year = timezone.localtime().year
    # The year's serial row exists (as after the year's first registration); the gate
    # holds it so that all twenty submissions queue for their number at once.
    DiarieSerial.objects.get_or_create(year=year)
    before = DiarieSerial.objects.get(year=year).last_serial

    barrier = threading.Barrier(len(drafts), timeout=30)
    results: dict = {}

    def submit_one(application):
        barrier.wait()
        return submit(
            actor=cast.signatory, application=application, idempotency_key=f"parallel-{application.pk}"
        )

    started = time.monotonic()
    with Gate(lambda: DiarieSerial.objects.select_for_update(of=("self",)).get(year=year)) as gate:
        threads = [_in_thread(submit_one, results, i, draft) for i, draft in enumerate(drafts)]
        _wait_for_waiters(len(drafts), results=results)
        gate.open()
    _join(threads)
    elapsed = time.monotonic() - started

    failures = {k: v for k, (outcome, v) in results.items() if outcome != "ok"}
    assert not failures, failures
    assert len(results) == 20

    cases = list(Case.objects.filter(application__in=drafts))
    numbers = [case.diarienummer for case in cases]
    assert len(set(numbers)) == 20, numbers
    serials = sorted(case.diarie_serial for case in cases)
    assert serials == list(range(before + 1, before + 21)), serials
    for case in cases:
        match = DIARIENUMMER.match(case.diarienummer)
        assert match, case.diarienummer
        assert case.diarienummer == settings.DIARIENUMMER_FORMAT.format(year=year, serial=case.diarie_serial)
        assert int(match.group(1)) == case.diarie_year == year
    assert DiarieSerial.objects.get(year=year).last_serial == before + 20
    assert Application.objects.filter(pk__in=[d.pk for d in drafts], status=Status.SUBMITTED).count() == 20
    # Each submission's journal, outbox and flow were written with its number.
    assert JournalEvent.objects.filter(case__in=cases, action="submit").count() == 20
    assert journal_verify() == []
    assert elapsed < 60


def test_rolled_back_numbering_leaves_no_gap_for_the_submission_queued_behind_it(cast, call, stockholm, malmo):
    first = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Återrullas")
    second = demo.new_application(cast=cast, organisation=malmo, call=call, title="Väntar i kö")
    year = timezone.localtime().year
    DiarieSerial.objects.get_or_create(year=year)
    before = DiarieSerial.objects.get(year=year).last_serial

    numbered = threading.Event()
    release = threading.Event()
    seen: dict = {}
    results: dict = {}

    class Abort(Exception):
        pass

    def submit_then_fail():
        # Numbered, journaled and notified, then something later in the same request fails.
        with transaction.atomic():
            application = submit(actor=cast.signatory, application=first, idempotency_key="first")
            seen["rolled_back_number"] = application.case.diarienummer
            numbered.set()
            assert release.wait(30)
            raise Abort

    def submit_after():
        assert numbered.wait(30)
        return submit(actor=cast.signatory, application=second, idempotency_key="second")

    threads = [_in_thread(submit_then_fail, results, "first"), _in_thread(submit_after, results, "second")]
    try:
        _wait_for_waiters(1, results=results)  # the second submission queues on the serial row
    finally:
        release.set()
    _join(threads)

    assert results["first"][0] == "error" and isinstance(results["first"][1], Abort), results
    assert results["second"][0] == "ok", results
    expected = settings.DIARIENUMMER_FORMAT.format(year=year, serial=before + 1)
    assert seen["rolled_back_number"] == expected
    second.refresh_from_db()
    second.case.refresh_from_db()
    assert second.case.diarienummer == expected  # the rolled-back number was reused
    assert DiarieSerial.objects.get(year=year).last_serial == before + 1

    first.refresh_from_db()
    first.case.refresh_from_db()
    assert first.status == Status.DRAFT
    assert first.case.diarienummer is None
    assert not JournalEvent.objects.filter(case=first.case, action="submit").exists()
    assert not OutboxMessage.objects.filter(reference=f"application:{first.pk}").exists()

    # Submitted again, it gets the next number.
    submit(actor=cast.signatory, application=first, idempotency_key="first-again")
    first.case.refresh_from_db()
    assert first.case.diarie_serial == before + 2
    assert DiarieSerial.objects.get(year=year).last_serial == before + 2


def test_serial_counts_exactly_the_registered_cases_after_refused_submissions(cast, call):
    organisations = _municipalities(6)
    year = timezone.localtime().year
    closed_call = Call.objects.create(
        scheme=call.scheme,
        title="Stängd utlysning",
        opens_at=timezone.now() - timedelta(days=60),
        closes_at=timezone.now() - timedelta(days=1),
        budget=call.budget,
    )
    complete = [demo.new_application(cast=cast, organisation=org, call=call, title="Komplett") for org in organisations[:3]]
    incomplete = demo.new_application(cast=cast, organisation=organisations[3], call=call, title="Ofullständig", complete=False)
    late = demo.new_application(cast=cast, organisation=organisations[4], call=closed_call, title="För sent")
    duplicate = demo.new_application(cast=cast, organisation=organisations[0], call=call, title="Dubblett")

    refused = []
    for i, application in enumerate([complete[0], incomplete, complete[1], late, duplicate, complete[2]]):
        try:
            submit(actor=cast.signatory, application=application, idempotency_key=f"mix-{i}")
        except ValidationFailed as exc:
            refused.append((application.title, exc.code))
    assert refused == [("Ofullständig", "incomplete"), ("För sent", "call_closed"), ("Dubblett", "invalid")]

    # Gap-free: the year's serial is exactly the number of cases registered in that year,
    # and those cases hold the serials 1..n.
    registered = Case.objects.filter(diarie_year=year, diarienummer__isnull=False)
    count = registered.count()
    assert count == 3
    assert DiarieSerial.objects.get(year=year).last_serial == count
    assert sorted(registered.values_list("diarie_serial", flat=True)) == list(range(1, count + 1))
    for application in (incomplete, late, duplicate):
        application.refresh_from_db()
        assert application.status == Status.DRAFT
        assert application.case.diarienummer is None


def test_two_drafts_of_one_organisation_submitted_at_once_take_the_calls_one_place_once(cast, call, stockholm):
    # The call admits one application per organisation (förordning 2023:442, the 2024 round).
    assert call.one_application_per_organisation
    drafts = [demo.new_application(cast=cast, organisation=stockholm, call=call, title=f"Utkast {i}") for i in (1, 2)]
    year = timezone.localtime().year
    DiarieSerial.objects.get_or_create(year=year)
    results: dict = {}
    # Both pass every check before either commits: the first waits at the numbering (held by
    # the gate), the second on the first's claim to the organisation's place.
    with Gate(lambda: DiarieSerial.objects.select_for_update(of=("self",)).get(year=year)) as gate:
        threads = [
            _in_thread(lambda d=d: submit(actor=cast.signatory, application=d, idempotency_key=f"same-org-{d.pk}"),
                       results, i)
            for i, d in enumerate(drafts)
        ]
        _wait_for_waiters(2, results=results)
        gate.open()
        _join(threads)
    outcomes = sorted(outcome for outcome, _ in results.values())
    assert outcomes == ["error", "ok"], results
    [error] = [value for outcome, value in results.values() if outcome == "error"]
    assert isinstance(error, ValidationFailed) and "redan skickat in" in str(error.message)
    assert Application.objects.filter(pk__in=[d.pk for d in drafts], status=Status.SUBMITTED).count() == 1
    assert Application.objects.filter(pk__in=[d.pk for d in drafts], status=Status.DRAFT).count() == 1
