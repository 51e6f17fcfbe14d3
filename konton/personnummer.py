"""Swedish personal identity numbers (and samordningsnummer), with python-stdnum."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.se import personnummer as stdnum_personnummer


def personnummer_normalise(value: str) -> str:
    """Twelve digits YYYYMMDDNNNN, or ValueError."""
    try:
        number = stdnum_personnummer.validate(value)
    except StdnumError as exc:
        raise ValueError(str(exc)) from exc
    digits = re.sub(r"\D", "", number)
    if len(digits) == 10:
        century = f"{stdnum_personnummer.get_birth_date(value).year:04d}"[:2]
        digits = century + digits
    return digits


def validate_personnummer(value: str) -> None:
    try:
        personnummer_normalise(value)
    except ValueError as exc:
        raise ValidationError(_("Ange ett giltigt personnummer (ÅÅÅÅMMDDNNNN)."), code="invalid") from exc
