"""Reminders to applicants, through time (``now=``): 7 and 1 days before a supplement or
comment deadline, 30 and 7 days before the final report is due and once when it is overdue;
each exactly once, also with two schedulers at the same moment (the database decides)."""

import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from arenden.calendar import months_after, working_deadline
from arenden.formatting import day
from bidrag.models import Application
from bidrag.models.application import Status
from notifications.models import Notice, OutboxMessage, ReminderSent
from workflows.queue_entries import queue_sync
from workflows.reminders import reminders_send
from workflows.scheduler import default_jobs, run_due
from workflows.timeline import report_due

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def morning(on: date) -> datetime:
    return datetime.combine(on, time(7, 0), tzinfo=STOCKHOLM)


def reminders(kind: str, person) -> list[str]:
    return list(OutboxMessage.objects.filter(kind=kind, recipient=person.email).order_by("created_at")
                .values_list("subject", flat=True))


def a_working_day(after: int) -> date:
    return working_deadline(timezone.localdate() + timedelta(days=after))


def midsommarafton(year: int) -> date:
    june_19 = date(year, 6, 19)
    return june_19 + timedelta(days=(4 - june_19.weekday()) % 7)


@pytest.mark.django_db
def test_a_deadline_is_reminded_7_and_1_days_before_once_each(make_application, cast):
    application = make_application(to=Status.AWAITING_SUPPLEMENT)
    deadline = a_working_day(30)
    Application.objects.filter(pk=application.pk).update(deadline=deadline)
    queue_sync(application.pk)  # time travel: the queue's row follows the deadline

    assert reminders_send(now=morning(deadline - timedelta(days=8))) == 0
    assert reminders_send(now=morning(deadline - timedelta(days=7))) == 1
    assert reminders_send(now=morning(deadline - timedelta(days=7)) + timedelta(hours=5)) == 0
    assert reminders_send(now=morning(deadline - timedelta(days=6))) == 0
    assert reminders_send(now=morning(deadline - timedelta(days=1))) == 1
    assert reminders_send(now=morning(deadline)) == 0

    seven, one = reminders("deadline_reminder", cast.applicant)
    assert f"svara senast {day(deadline, language='sv')} (om 7 dagar)" in seven
    assert f"svara senast {day(deadline, language='sv')} (i morgon)" in one
    assert application.case.diarienummer in seven
    assert Notice.objects.filter(user=cast.applicant, kind="deadline_reminder").count() == 2
    assert set(ReminderSent.objects.values_list("offset_days", flat=True)) == {7, 1}


@pytest.mark.django_db
def test_a_late_run_sends_the_reminder_it_is_in_and_skips_the_one_it_missed(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    from tests.domain import perform

    deadline = a_working_day(20)
    perform(actor=cast.officer, application=application, node="assess", action="communicate",
            data={"deadline": deadline, "request_text": "Yttra er över referensens bedömning."})
    assert reminders_send(now=morning(deadline - timedelta(days=1))) == 1
    [subject] = reminders("deadline_reminder", cast.applicant)
    assert "(i morgon)" in subject
    body = OutboxMessage.objects.get(kind="deadline_reminder", recipient=cast.applicant.email).body
    assert "yttrande" in body
    assert list(ReminderSent.objects.values_list("offset_days", flat=True)) == [1]
    # Answered, or the deadline gone: nothing more.
    assert reminders_send(now=morning(deadline + timedelta(days=1))) == 0


@pytest.mark.django_db
def test_a_new_deadline_is_reminded_again(make_application, cast):
    application = make_application(to=Status.AWAITING_SUPPLEMENT)
    first = a_working_day(30)
    Application.objects.filter(pk=application.pk).update(deadline=first)
    queue_sync(application.pk)  # time travel: the queue's row follows the deadline
    assert reminders_send(now=morning(first - timedelta(days=7))) == 1
    second = working_deadline(first + timedelta(days=14))
    Application.objects.filter(pk=application.pk).update(deadline=second)
    queue_sync(application.pk)  # time travel: the queue's row follows the deadline
    assert reminders_send(now=morning(second - timedelta(days=7))) == 1
    assert len(set(reminders("deadline_reminder", cast.applicant))) == 2


@pytest.mark.django_db
def test_the_final_report_is_reminded_30_and_7_days_before_and_once_when_overdue(make_application, cast):
    application = make_application(to=Status.IN_PROGRESS)
    # A project whose report falls due on midsommarafton: it is due the Monday after.
    eve = midsommarafton(timezone.localdate().year + 1)
    end = eve - timedelta(days=92)
    while months_after(end, 3) != eve:
        end += timedelta(days=1)
    Application.objects.filter(pk=application.pk).update(end_date=end)
    application.refresh_from_db()
    due = report_due(application)
    assert due == eve + timedelta(days=3) and due.weekday() == 0

    days = [31, 30, 29, 8, 7, 6, 0, -1, -2, -30]
    sent = [reminders_send(now=morning(due - timedelta(days=d))) for d in days]
    assert sent == [0, 1, 0, 0, 1, 0, 0, 1, 0, 0]

    thirty, seven, overdue = reminders("report_due", cast.applicant)
    assert f"senast {day(due, language='sv')} (om 30 dagar)" in thirty
    assert f"senast {day(due, language='sv')} (om 7 dagar)" in seven
    assert f"skulle ha lämnats senast {day(due, language='sv')}" in overdue
    assert day(eve, language="sv") not in thirty + seven + overdue


@pytest.mark.django_db
def test_the_scheduler_runs_the_reminders_daily(make_application, cast):
    [job] = [job for job in default_jobs() if job.name == "send_reminders"]
    assert job.daily_at == time(7, 0)
    application = make_application(to=Status.AWAITING_SUPPLEMENT)
    Application.objects.filter(pk=application.pk).update(deadline=timezone.localdate() + timedelta(days=1))
    queue_sync(application.pk)  # time travel: the queue's row follows the deadline
    [run] = run_due(jobs=[job])
    assert "1 reminder(s) sent" in run.output


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_the_same_moment_send_a_reminder_once(make_application, cast):
    application = make_application(to=Status.AWAITING_SUPPLEMENT)
    deadline = a_working_day(30)
    Application.objects.filter(pk=application.pk).update(deadline=deadline)
    queue_sync(application.pk)  # time travel: the queue's row follows the deadline
    now = morning(deadline - timedelta(days=7))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def scheduler():
        try:
            barrier.wait(10)
            results.append(reminders_send(now=now))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(results) == [0, 1]
    assert ReminderSent.objects.count() == 1
    assert len(reminders("deadline_reminder", cast.applicant)) == 1
    assert Notice.objects.filter(user=cast.applicant, kind="deadline_reminder").count() == 1


@pytest.mark.django_db
def test_when_the_deadline_passes_the_applicant_is_told_the_case_goes_on_as_it_stands(make_application, cast):
    from workflows.door import deadlines_run

    application = make_application(to=Status.AWAITING_SUPPLEMENT)
    passed = timezone.localdate() - timedelta(days=1)
    Application.objects.filter(pk=application.pk).update(deadline=passed)
    queue_sync(application.pk)  # time travel: the queue's row follows the deadline
    assert deadlines_run() == 1
    [subject] = reminders("deadline_passed", cast.applicant)
    assert subject == f"Svarstiden gick ut {day(passed, language='sv')} – {application.case.diarienummer}"
    body = OutboxMessage.objects.get(kind="deadline_passed", recipient=cast.applicant.email).body
    assert "i befintligt skick" in body
    assert Notice.objects.filter(user=cast.applicant, kind="deadline_passed").exists()
