"""Money, sizes, dates and times written the one way Bidragsportalen writes them.

Pages (through the `sek`, `megabytes`, `day`, `moment` and `deadline` filters of
bidrag_tags), e-mails, diarium texts and error messages all call these, so an amount reads
"400 000 kr" in Swedish and "SEK 400,000" in English wherever it appears, and never
"400000.00 kr". Dates are ISO (2027-02-21) or Swedish long form ("21 februari 2027"),
times 24-hour, in Europe/Stockholm: never US formats, in either language.

Each function writes in the active language (django.utils.translation), which is Swedish
unless the person chose English (config.middleware.LanguageMiddleware).
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

NBSP = "\u00a0"
MINUS = "\u2212"
_CENT = Decimal("0.01")


def _english(language: str | None = None) -> bool:
    return (language or get_language() or "sv").startswith("en")


def _group(digits: str, separator: str) -> str:
    parts: list[str] = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return separator.join(parts)


def _number(value: Decimal, *, decimals: int | None, language: str | None = None) -> str:
    """Grouped digits with the language's separators; `decimals=None`: öre only when not zero."""
    english = _english(language)
    places = 2 if decimals is None else decimals
    quantum = Decimal(1).scaleb(-places)
    value = value.quantize(quantum, rounding=ROUND_HALF_UP)
    whole, _dot, fraction = f"{abs(value):.{places}f}".partition(".")
    text = _group(whole, "," if english else NBSP)
    if fraction and not (decimals is None and set(fraction) == {"0"}):
        text += ("." if english else ",") + fraction
    return (MINUS + text) if value < 0 else text


def money(value, *, language: str | None = None) -> str:
    """An amount in kronor: "1 234 567 kr", "1 234,50 kr"; in English "SEK 1,234,567".

    Öre are shown only when they are not zero. None and unreadable values give "".
    `language` overrides the active one: the diarium is kept in Swedish whoever acts.
    """
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        return ""
    text = _number(amount, decimals=None, language=language)
    return f"SEK{NBSP}{text}" if _english(language) else f"{text}{NBSP}kr"


def megabytes(size_bytes: int, *, decimals: int = 1) -> str:
    """A file size in MB (MiB, as the upload limit is set): "21,2 MB", in English "21.2 MB"."""
    value = Decimal(size_bytes) / Decimal(1_048_576)
    return f"{_number(value, decimals=decimals)}{NBSP}MB"


def day(value: date | datetime | None, *, language: str | None = None) -> str:
    """A date in long form: "21 februari 2027" / "21 February 2027"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    with translation.override(language or get_language()):
        return date_format(value, "j F Y")


def iso_day(value: date | datetime | None) -> str:
    """A date as ISO 8601: "2027-02-21"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d")


def clock(value: datetime, *, language: str | None = None) -> str:
    """The time of day, 24-hour, in Swedish with a dot ("23.59"), in English "23:59"."""
    local = timezone.localtime(value)
    return local.strftime("%H:%M") if _english(language) else local.strftime("%H.%M")


def moment(value: datetime | None, *, language: str | None = None) -> str:
    """A point in time: "21 februari 2027 kl. 23.59" / "21 February 2027 at 23:59"."""
    if value is None:
        return ""
    with translation.override(language or get_language()):
        return _("%(day)s kl. %(time)s") % {"day": day(value), "time": clock(value)}
