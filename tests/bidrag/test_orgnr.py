import pytest
from django.core.exceptions import ValidationError

from bidrag.orgnr import LegalForm, format_orgnr, legal_form_for, normalise_orgnr


@pytest.mark.parametrize(
    "raw, digits, form",
    [
        ("202100-0068", "2021000068", LegalForm.PUBLIC),  # Brå
        ("2120000142", "2120000142", LegalForm.PUBLIC),  # Stockholms stad
        ("802400-0005", "8024000005", LegalForm.NONPROFIT),
    ],
)
def test_valid_orgnr_is_normalised_and_classified(raw, digits, form):
    assert normalise_orgnr(raw) == digits
    assert format_orgnr(digits) == f"{digits[:6]}-{digits[6:]}"
    assert legal_form_for(digits) == form


@pytest.mark.parametrize("raw", ["202100-0069", "12345", "", "2021000068x", "201000-0000"])
def test_invalid_orgnr_is_refused_with_a_swedish_message(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalise_orgnr(raw)
    assert "organisationsnummer" in " ".join(excinfo.value.messages).lower() or "siffra" in " ".join(excinfo.value.messages)
