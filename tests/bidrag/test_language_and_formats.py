"""Issue 6: Swedish whatever the browser says; English by choice, remembered; money, sizes,
dates and times written one way in both languages, never in US formats."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from arenden import formatting

NBSP = "\u00a0"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.mark.django_db
def test_swedish_is_the_default_whatever_the_browser_sends(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    assert '<html lang="sv"' in response.content.decode()
    assert response["Content-Language"] == "sv"


@pytest.mark.django_db
def test_english_by_explicit_choice_is_remembered(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302
    cookie = response.cookies["django_language"]
    assert cookie.value == "en" and int(cookie["max-age"]) >= 365 * 24 * 3600
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="sv")
    assert '<html lang="en"' in page.content.decode()
    # and back to Swedish by choice
    client.post(reverse("set_language"), {"language": "sv", "next": reverse("login")})
    assert '<html lang="sv"' in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        ("sv", Decimal("385000.00"), f"385{NBSP}000{NBSP}kr"),
        ("sv", Decimal("400000"), f"400{NBSP}000{NBSP}kr"),
        ("sv", Decimal("1234.5"), f"1{NBSP}234,50{NBSP}kr"),
        ("sv", Decimal("-5000"), f"\u22125{NBSP}000{NBSP}kr"),
        ("en", Decimal("400000"), f"SEK{NBSP}400,000"),
        ("en", Decimal("1234.5"), f"SEK{NBSP}1,234.50"),
    ],
)
def test_money_is_written_one_way(language, value, expected):
    with translation.override(language):
        assert formatting.money(value) == expected


def test_file_sizes_use_the_languages_decimal_sign():
    size = int(21.2 * 1_048_576)
    with translation.override("sv"):
        assert formatting.megabytes(size) == f"21,2{NBSP}MB"
        assert formatting.megabytes(20 * 1_048_576) == f"20,0{NBSP}MB"
    with translation.override("en"):
        assert formatting.megabytes(size) == f"21.2{NBSP}MB"


def test_deadlines_read_as_swedish_long_form_with_24_hour_time():
    deadline = datetime(2027, 2, 21, 23, 59, tzinfo=STOCKHOLM)
    with translation.override("sv"):
        assert formatting.moment(deadline) == "21 februari 2027 kl. 23.59"
    with translation.override("en"):
        assert formatting.moment(deadline) == "21 February 2027 at 23:59"


@pytest.mark.parametrize("language", ["sv", "en"])
def test_django_date_filters_never_give_us_formats(language):
    when = datetime(2026, 11, 23, 9, 29, tzinfo=STOCKHOLM)
    template = Template(
        '{{ d|date:"SHORT_DATE_FORMAT" }}|{{ d|date }}|{{ t }}|{{ t|time }}|{{ n|floatformat:"2g" }}'
    )
    with translation.override(language):
        text = template.render(Context({"d": date(2027, 4, 1), "t": when, "n": 1234.5}))
    short, long, moment_text, time_text, number = text.split("|")
    assert short == "2027-04-01"
    assert long == ("1 april 2027" if language == "sv" else "1 April 2027")
    assert "a.m." not in moment_text and "Nov." not in moment_text and "23 " in moment_text
    assert time_text in ("09.29", "09:29")
    assert number == ("1\xa0234,50" if language == "sv" else "1,234.50")
