"""Working days (arenden/calendar.py): a deadline on a Saturday, a Sunday, a Swedish public
holiday, midsommarafton, julafton or nyårsafton moves to the next working day (lag 1930:173)."""

from datetime import UTC, date, datetime

import pytest

from arenden.calendar import is_working_day, next_working_day, stockholm_today, working_deadline


@pytest.mark.parametrize(
    ("deadline", "counts_as"),
    [
        (date(2027, 6, 25), date(2027, 6, 28)),  # midsommarafton (Friday) -> Monday after midsommar
        (date(2027, 6, 26), date(2027, 6, 28)),  # midsommardagen (Saturday)
        (date(2027, 10, 2), date(2027, 10, 4)),  # a plain Saturday -> Monday
        (date(2027, 10, 3), date(2027, 10, 4)),  # a plain Sunday -> Monday
        (date(2027, 12, 24), date(2027, 12, 27)),  # julafton (Friday), juldagen, annandag jul -> Monday
        (date(2027, 12, 31), date(2028, 1, 3)),  # nyårsafton, nyårsdagen (Saturday), Sunday -> Monday
        (date(2027, 3, 26), date(2027, 3, 30)),  # långfredagen .. annandag påsk -> Tuesday
        (date(2027, 5, 6), date(2027, 5, 7)),  # Kristi himmelsfärdsdag -> the Friday after
        (date(2027, 6, 6), date(2027, 6, 7)),  # nationaldagen (a Sunday this year)
        (date(2026, 6, 6), date(2026, 6, 8)),  # nationaldagen on a Saturday
        (date(2027, 6, 23), date(2027, 6, 23)),  # a working day stays
        (date(2027, 12, 23), date(2027, 12, 23)),  # the day before julafton is a working day
    ],
)
def test_a_deadline_on_a_closed_day_counts_to_the_next_working_day(deadline, counts_as):
    assert working_deadline(deadline) == counts_as
    assert is_working_day(counts_as)


def test_next_working_day_is_always_after_the_day():
    assert next_working_day(date(2027, 6, 23)) == date(2027, 6, 24)  # Wednesday -> Thursday
    assert next_working_day(date(2027, 6, 24)) == date(2027, 6, 28)  # Thursday -> past midsommar
    assert next_working_day(date(2027, 12, 23)) == date(2027, 12, 27)


def test_today_is_the_date_in_stockholm():
    assert stockholm_today(datetime(2027, 6, 24, 22, 30, tzinfo=UTC)) == date(2027, 6, 25)  # 00:30 CEST
    assert stockholm_today(datetime(2027, 12, 31, 22, 59, tzinfo=UTC)) == date(2027, 12, 31)  # 23:59 CET
