"""Working days: when a deadline given to a party falls on a day the agency is closed.

Lag (1930:173) om beräkning av lagstadgad tid: a time limit whose last day is a Saturday,
a Sunday, another public holiday, midsommarafton, julafton or nyårsafton ends on the next
working day instead. Brå applies the same rule to the deadlines it sets an applicant
(supplement requests, communication under FL 25 §, the final report), so an applicant is
never asked to answer on a day nobody is at work.

The holidays are those of the maintained `holidays` package for Sweden: its public
holidays and its de-facto ones, which are exactly midsommarafton, julafton and nyårsafton.
Dates are calendar days in Europe/Stockholm (`stockholm_today`).
"""

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.utils import timezone

STOCKHOLM = ZoneInfo("Europe/Stockholm")
_SATURDAY = 5


@lru_cache(maxsize=64)
def _closed_days(year: int) -> frozenset[date]:
    swedish = holidays.country_holidays(
        "SE",
        years=year,
        # Sundays are closed anyway; the package would otherwise list every one of them.
        include_sundays=False,
        categories=(holidays.PUBLIC, holidays.DE_FACTO),
    )
    return frozenset(swedish)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a Swedish public holiday, midsommarafton, julafton or nyårsafton."""
    return day.weekday() < _SATURDAY and day not in _closed_days(day.year)


def next_working_day(day: date) -> date:
    """The first working day after `day` (never `day` itself)."""
    candidate = day + timedelta(days=1)
    while not is_working_day(candidate):
        candidate += timedelta(days=1)
    return candidate


def working_deadline(day: date) -> date:
    """The deadline `day` as it counts: the day itself if a working day, else the next working day."""
    return day if is_working_day(day) else next_working_day(day)


def stockholm_today(now: datetime | None = None) -> date:
    """Today's date in Europe/Stockholm (at `now`, an aware datetime, when given)."""
    return (now or timezone.now()).astimezone(STOCKHOLM).date()


def months_after(start: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it has no such day
    (31 August + 6 months is 28 or 29 February)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
