"""Swedish personal identity numbers: personnummer and samordningsnummer.

A samordningsnummer (coordination number, folkbokföringslagen 18 a §) is written like a
personnummer with 60 added to the day of birth (day 61-91). python-stdnum's
``se.personnummer`` refuses those, so the check is ours: ten digits YYMMDDNNNC with a
Luhn check digit over them, and a real date of birth, today or earlier, once 60 is taken
off a samordningsnummer's day. Numbers are kept as twelve digits YYYYMMDDNNNN, the day
as written (61-91 for a samordningsnummer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError

SAMORDNING_DAY_OFFSET = 60

_WRITTEN = re.compile(r"^(\d{2})?(\d{6})([-+]?)(\d{4})$")

MESSAGES = {
    "format": _("Skriv personnumret med tolv siffror, ÅÅÅÅMMDDNNNN (eller ÅÅMMDD-NNNN)."),
    "date": _("Datumet i personnumret finns inte. (I ett samordningsnummer är dagen födelsedagen plus 60.)"),
    "future": _("Födelsedatumet i personnumret ligger i framtiden."),
    "checksum": _("Kontrollsiffran stämmer inte. Kontrollera att personnumret är rätt skrivet."),
}


class PersonnummerError(ValueError):
    """Why a number is not a personnummer: ``code`` is one of MESSAGES; the text names
    the reason only, never the number."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self):
        return MESSAGES[self.code]


@dataclass(frozen=True)
class Personnummer:
    digits: str  # twelve, YYYYMMDDNNNN, the day as written
    samordningsnummer: bool
    birth_date: date


def is_samordningsnummer(digits: str) -> bool:
    """For twelve valid digits: is the day a samordningsnummer's (61-91)?"""
    return int(digits[6:8]) > SAMORDNING_DAY_OFFSET


def _date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise PersonnummerError("date") from None


def personnummer_parse(value: str, *, today: date | None = None) -> Personnummer:
    """A personnummer or samordningsnummer as written by people and brokers:
    YYYYMMDDNNNN, YYYYMMDD-NNNN, YYMMDD-NNNN, YYMMDDNNNN, or YYMMDD+NNNN (aged 100 or
    more). Ten digits take the century that puts the birth date at the latest today;
    a plus sign one century earlier. PersonnummerError if it is none."""
    today = today or timezone.localdate()
    match = _WRITTEN.match(re.sub(r"\s", "", value or ""))
    if not match:
        raise PersonnummerError("format")
    century, body, sign, serial = match.groups()
    if century and sign == "+":
        raise PersonnummerError("format")
    month, written_day = int(body[2:4]), int(body[4:6])
    samordning = written_day > SAMORDNING_DAY_OFFSET
    day = written_day - SAMORDNING_DAY_OFFSET if samordning else written_day
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise PersonnummerError("date")
    if century:
        year = int(century + body[:2])
    else:
        yy = int(body[:2])
        year = today.year - (today.year - yy) % 100  # the latest year <= this one ending so
        if (year, month, day) > (today.year, today.month, today.day):
            year -= 100
        if sign == "+":
            year -= 100
    born = _date(year, month, day)
    if born > today:
        raise PersonnummerError("future")
    try:
        luhn.validate(body + serial)
    except StdnumError:
        raise PersonnummerError("checksum") from None
    return Personnummer(digits=f"{year:04d}{body[2:]}{serial}", samordningsnummer=samordning, birth_date=born)


def personnummer_normalise(value: str) -> str:
    """Twelve digits YYYYMMDDNNNN, or PersonnummerError (a ValueError)."""
    return personnummer_parse(value).digits


def validate_personnummer(value: str) -> None:
    try:
        personnummer_parse(value)
    except PersonnummerError as error:
        raise ValidationError(error.message, code=error.code) from None
