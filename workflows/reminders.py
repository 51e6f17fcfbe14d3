"""Reminders to applicants (issue 8): 7 and 1 days before each deadline they must answer by
(a supplement request, a communication under FL 25 §), and for the final report 30 and 7
days before it is due and once when it is overdue.

Run daily by the scheduler (``send_reminders`` in workflows.scheduler.default_jobs). Days
count in Europe/Stockholm (arenden.calendar.stockholm_today); the deadlines themselves have
already moved off weekends and holidays (working_deadline, when they were set, and
workflows.timeline.report_due). A run that comes late sends the reminder whose window it is
in and skips those it missed (8 days to go, then 1: only the 1-day reminder), so nobody
gets a "7 days left" with one day left.

Each reminder is its own short transaction: the claim (notifications.reminders, a unique
row the database hands to one scheduler only) and the message commit together, or neither.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction

from arenden.calendar import stockholm_today
from bidrag.models import Application
from bidrag.models.application import Status
from bidrag.services.common import notify_applicant
from notifications.reminders import reminder_claim

from .timeline import report_due

DEADLINE_OFFSETS = (7, 1)
REPORT_OFFSETS = (30, 7)
OVERDUE = -1  # the offset of the one reminder after a report's due date
_WAITING = (Status.AWAITING_SUPPLEMENT, Status.AWAITING_COMMENTS)
_REPORT_OWED = (Status.IN_PROGRESS, Status.CHANGE_REVIEW)


def _window(days_left: int, offsets: tuple[int, ...]) -> int | None:
    """The reminder due with ``days_left`` days to go: the nearest offset not below it."""
    due = [offset for offset in offsets if 0 <= days_left <= offset]
    return min(due) if due else None


def _send(application: Application, *, kind: str, on: date, what: str, offset: int, context: dict) -> bool:
    with transaction.atomic():
        if not reminder_claim(kind=kind, reference=f"application:{application.pk}:{what}:{on.isoformat()}",
                              offset_days=offset):
            return False
        notify_applicant(application=application, kind=kind, context=context)
    return True


def reminders_send(*, now: datetime | None = None) -> int:
    """Send every reminder due today (at ``now``, default the real time). Returns how many
    this call sent; any number of calls at once send each reminder once."""
    today = stockholm_today(now)
    sent = 0
    waiting = Application.objects.filter(
        status__in=_WAITING, deadline__gte=today, deadline__lte=today + timedelta(days=max(DEADLINE_OFFSETS))
    ).select_related("case", "organisation")
    for application in waiting:
        deadline = application.deadline
        assert deadline is not None
        days_left = (deadline - today).days
        offset = _window(days_left, DEADLINE_OFFSETS)
        if offset is None:
            continue
        sent += _send(application, kind="deadline_reminder", on=deadline, what="deadline", offset=offset, context={
            "deadline": deadline, "days_left": days_left, "comments": application.status == Status.AWAITING_COMMENTS,
        })
    # The report is due months after the project's end: only projects that have ended, or end
    # within the first reminder's window, can have one due.
    owing = Application.objects.filter(
        status__in=_REPORT_OWED, end_date__lte=today + timedelta(days=max(REPORT_OFFSETS))
    ).select_related("case", "organisation")
    for application in owing:
        due = report_due(application)
        if due is None:
            continue
        days_left = (due - today).days
        offset = OVERDUE if days_left < 0 else _window(days_left, REPORT_OFFSETS)
        if offset is None:
            continue
        sent += _send(application, kind="report_due", on=due, what="report", offset=offset, context={
            "due": due, "days_left": days_left, "overdue": offset == OVERDUE,
        })
    return sent
