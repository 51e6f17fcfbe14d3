"""Personnummer and samordningsnummer (coordination numbers): the day of a samordningsnummer
is the day of birth plus 60 (SFS 1991:481 18 a §), which python-stdnum refuses; ours checks
the Luhn digit over the ten digits and the date once 60 is taken off the day."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from konton.models import EIdentity
from konton.personnummer import (
    PersonnummerError,
    personnummer_normalise,
    personnummer_parse,
    validate_personnummer,
)

# Luhn-valid over YYMMDDNNNC.
SAMORDNINGSNUMMER = "199001612382"  # day 61: born 1 January 1990
SAMORDNINGSNUMMER_LAST_DAY = "199001912386"  # day 91: 31 January 1990
SAMORDNINGSNUMMER_LEAP_DAY = "200002891232"  # day 89: 29 February 2000 (a leap year)
PERSONNUMMER = "199001012385"


@pytest.mark.parametrize(
    ("value", "born"),
    [(SAMORDNINGSNUMMER, date(1990, 1, 1)), (SAMORDNINGSNUMMER_LAST_DAY, date(1990, 1, 31)),
     (SAMORDNINGSNUMMER_LEAP_DAY, date(2000, 2, 29))],
    ids=["day-61", "day-91", "leap-day-89"],
)
def test_a_samordningsnummer_is_accepted_as_one_with_its_birth_date(value, born):
    number = personnummer_parse(value)
    assert number.digits == value  # kept as given: the day stays 61-91
    assert number.samordningsnummer is True
    assert number.birth_date == born
    assert personnummer_normalise(value) == value
    validate_personnummer(value)  # no error


def test_an_ordinary_personnummer_is_not_a_samordningsnummer():
    number = personnummer_parse(PERSONNUMMER)
    assert (number.digits, number.samordningsnummer, number.birth_date) == (PERSONNUMMER, False, date(1990, 1, 1))


@pytest.mark.parametrize(
    "written",
    ["19900161-2382", "900161-2382", "9001612382", " 19900161 2382 "],
    ids=["twelve-with-dash", "ten-with-dash", "ten-digits", "spaces"],
)
def test_a_samordningsnummer_written_any_usual_way_comes_out_as_twelve_digits(written):
    assert personnummer_normalise(written) == SAMORDNINGSNUMMER


def test_ten_digits_take_the_latest_century_and_a_plus_sign_one_more():
    # A plus sign is written for someone aged 100 or more.
    assert personnummer_normalise("010101-2383") == "200101012383"
    assert personnummer_normalise("010101+2383") == "190101012383"
    assert personnummer_normalise("010161+2380") == "190101612380"  # a samordningsnummer too


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("199001612383", "checksum", "Kontrollsiffran stämmer inte"),
        ("199001012384", "checksum", "Kontrollsiffran stämmer inte"),
        ("199001921239", "date", "Datumet i personnumret finns inte"),  # day 92: 32 January
        ("199001601237", "date", "Datumet i personnumret finns inte"),  # day 60: day 0
        ("200102891231", "date", "Datumet i personnumret finns inte"),  # 29 February 2001
        ("199013011234", "date", "Datumet i personnumret finns inte"),  # month 13
        ("19900161238", "format", "tolv siffror"),  # eleven digits
        ("19900161238X", "format", "tolv siffror"),
        ("", "format", "tolv siffror"),
        ("212112311235", "future", "ligger i framtiden"),  # 31 December 2121
    ],
    ids=["samordningsnummer-check-digit", "personnummer-check-digit", "day-92", "day-60",
         "no-leap-day-2001", "month-13", "too-short", "letter", "empty", "born-in-the-future"],
)
def test_an_invalid_number_is_refused_with_the_reason_in_swedish(value, code, message):
    with pytest.raises(PersonnummerError) as raised:
        personnummer_parse(value)
    assert raised.value.code == code
    with pytest.raises(ValueError):  # what callers of personnummer_normalise catch
        personnummer_normalise(value)
    with pytest.raises(ValidationError) as invalid:
        validate_personnummer(value)
    [error] = invalid.value.error_list
    assert error.code == code and message in str(error.message)


def test_the_e_identity_model_takes_a_samordningsnummer_and_says_so(db, cast):
    identity = EIdentity(user=cast.applicant, personnummer="19900161-2382", issuer="https://broker.example")
    identity.full_clean()
    identity.save()
    identity.refresh_from_db()
    assert identity.personnummer == SAMORDNINGSNUMMER and identity.is_samordningsnummer
    assert not EIdentity(personnummer=PERSONNUMMER).is_samordningsnummer


def test_the_e_identity_model_refuses_an_invalid_number_at_the_field(db, cast):
    identity = EIdentity(user=cast.applicant, personnummer="199001921239", issuer="https://broker.example")
    with pytest.raises(ValidationError) as invalid:
        identity.full_clean()
    assert "Datumet i personnumret finns inte" in " ".join(invalid.value.message_dict["personnummer"])


def test_the_admin_tells_samordningsnummer_apart(client, db, cast):
    from django.urls import reverse

    EIdentity.objects.create(user=cast.applicant, personnummer=SAMORDNINGSNUMMER, issuer="https://broker.example")
    EIdentity.objects.create(user=cast.signatory, personnummer=PERSONNUMMER, issuer="https://broker.example")
    client.force_login(cast.admin)
    changelist = reverse("admin:konton_eidentity_changelist")
    only = client.get(changelist, {"samordningsnummer": "ja"}).content.decode()
    assert "19900161-****" in only and "19900101-****" not in only
    others = client.get(changelist, {"samordningsnummer": "nej"}).content.decode()
    assert "19900101-****" in others and "19900161-****" not in others

    # An administrator tying a staff member's samordningsnummer: written with a dash, kept as twelve digits.
    response = client.post(reverse("admin:konton_eidentity_add"),
                           {"user": cast.officer.pk, "personnummer": "19900191-2386"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert EIdentity.objects.get(user=cast.officer).personnummer == SAMORDNINGSNUMMER_LAST_DAY
    response = client.post(reverse("admin:konton_eidentity_add"),
                           {"user": cast.finance.pk, "personnummer": "19900192-1239"})
    assert response.status_code == 200 and "Datumet i personnumret finns inte" in response.content.decode()
