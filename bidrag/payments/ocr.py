"""OCR references for payments to Brå (Bankgirot's OCR standard with "hård kontroll"):
the digits of the case, a length digit and a check digit (mod 10, Luhn), so the bank
refuses a mistyped reference and Brå's statement names the case a repayment belongs to."""

from stdnum import luhn


def ocr_reference(base: str) -> str:
    """`base`'s digits + a length digit (the whole reference's length, mod 10) + a check digit."""
    digits = "".join(c for c in base if c.isdigit())
    if not digits:
        raise ValueError(f"no digits in {base!r} to make an OCR reference of")
    with_length = digits + str((len(digits) + 2) % 10)
    return with_length + luhn.calc_check_digit(with_length)


def is_valid_ocr(reference: str) -> bool:
    return (reference.isdigit() and len(reference) >= 2 and luhn.is_valid(reference)
            and int(reference[-2]) == len(reference) % 10)
