"""Swedish organisationsnummer: validation with python-stdnum, legal form from the first digit."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.se import orgnr as stdnum_orgnr


class LegalForm(models.TextChoices):
    # First digit of the organisationsnummer (Skatteverket's "gruppnummer").
    PUBLIC = "offentlig", _("Stat, region eller kommun")
    ESTATE = "dodsbo", _("Dödsbo")
    FOREIGN = "utlandsk", _("Utländskt företag")
    LIMITED = "aktiebolag", _("Aktiebolag")
    SIMPLE = "enkelt_bolag", _("Enkelt bolag")
    ECONOMIC = "ekonomisk_forening", _("Ekonomisk förening")
    NONPROFIT = "ideell", _("Ideell förening eller stiftelse")
    PARTNERSHIP = "handelsbolag", _("Handelsbolag eller kommanditbolag")


_FIRST_DIGIT = {
    "1": LegalForm.ESTATE,
    "2": LegalForm.PUBLIC,
    "3": LegalForm.FOREIGN,
    "5": LegalForm.LIMITED,
    "6": LegalForm.SIMPLE,
    "7": LegalForm.ECONOMIC,
    "8": LegalForm.NONPROFIT,
    "9": LegalForm.PARTNERSHIP,
}


def normalise_orgnr(value: str) -> str:
    """Return the ten digits, or raise ValidationError with a message for the user."""
    try:
        digits = stdnum_orgnr.validate(value)
    except StdnumError:
        raise ValidationError(
            _("Ogiltigt organisationsnummer. Ange tio siffror i formen NNNNNN-NNNN."), code="invalid_orgnr"
        ) from None
    if digits[0] not in _FIRST_DIGIT:
        raise ValidationError(_("Organisationsnumrets första siffra anger ingen känd organisationsform."))
    return digits


def format_orgnr(digits: str) -> str:
    return f"{digits[:6]}-{digits[6:]}"


def legal_form_for(digits: str) -> str:
    return _FIRST_DIGIT[digits[0]]


def is_legal_person(orgnr: str) -> bool:
    """An organisationsnummer has a third digit of 2 or more; a personnummer (a sole
    trader's number) has the month there, 0 or 1. A dödsbo bears the deceased's name."""
    if len(orgnr) != 10 or not orgnr.isdigit() or orgnr[2] < "2":
        return False
    try:
        return legal_form_for(orgnr) != LegalForm.ESTATE
    except KeyError:
        return False
