"""Issue 7, disbursement: the SIE 4i voucher file for the agency's accounting. One voucher
per payment of the period, each balanced (the grant expense in debit, the bank in credit),
in PC8 (code page 437) as SIE requires."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arenden.errors import NotAllowed, ValidationFailed
from bidrag.models import Disbursement
from bidrag.payments.sie import sie_file_build

pytestmark = pytest.mark.django_db


def vouchers(text: str) -> list[list[str]]:
    """The #TRANS lines of each #VER."""
    return [re.findall(r"#TRANS [^\r\n]*", block) for block in re.findall(r"#VER [^\n]*\r\n\{\r\n(.*?)\r\n\}", text, re.S)]


def test_each_voucher_balances_and_the_file_is_pc8(cases, cast, settings):
    today = timezone.localdate()
    made = sie_file_build(actor=cast.finance, start=today - timedelta(days=1), end=today)
    text = made.content.decode("cp437")
    assert text.startswith("#FLAGGA 0\r\n#FORMAT PC8\r\n#SIETYP 4\r\n")
    assert '#FNAMN "Brottsförebyggande rådet"' in text  # ö and å as PC8 has them
    assert "ö".encode("cp437") in made.content and "ö".encode() not in made.content
    assert "#ORGNR 202100-4581" in text and '#PROGRAM "Bidragsportalen"' in text and "#GEN " in text
    paid = Disbursement.objects.get(application=cases.paid)
    found = vouchers(text)
    assert len(found) == made.count == 1
    for transactions in found:
        amounts = [Decimal(line.split()[3]) for line in transactions]
        assert sum(amounts) == 0 and len(amounts) == 2
        accounts = {line.split()[1]: Decimal(line.split()[3]) for line in transactions}
        assert accounts == {settings.SIE_GRANT_EXPENSE_ACCOUNT: paid.amount, settings.SIE_BANK_ACCOUNT: -paid.amount}
    assert f"{paid.amount:.2f}" in text and cases.paid.case.diarienummer in text
    assert made.total == paid.amount


def test_only_the_periods_payments_are_in_it(cases, cast):
    yesterday = timezone.localdate() - timedelta(days=1)
    made = sie_file_build(actor=cast.finance, start=yesterday - timedelta(days=30), end=yesterday)
    assert made.count == 0 and "#VER" not in made.content.decode("cp437")
    with pytest.raises(ValidationFailed):
        sie_file_build(actor=cast.finance, start=yesterday, end=yesterday - timedelta(days=1))
    with pytest.raises(NotAllowed):
        sie_file_build(actor=cast.auditor, start=yesterday, end=yesterday)


def test_finance_downloads_the_vouchers(cases, cast):
    client = Client()
    client.force_login(cast.finance2)
    today = timezone.localdate().isoformat()
    response = client.get(reverse("workflows:voucher_file"), {"start": today, "end": today})
    assert response.status_code == 200 and "IBM437" in response["Content-Type"]
    assert response["Content-Disposition"].endswith('.si"')
    assert len(vouchers(response.content.decode("cp437"))) == 1
    client.force_login(cast.auditor)
    assert client.get(reverse("workflows:voucher_file"), {"start": today, "end": today}).status_code == 403
