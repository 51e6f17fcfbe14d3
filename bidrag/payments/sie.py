"""The vouchers for the agency's accounting: a SIE type 4i import file (SIE 4B, the
"vouchers only" file a feeder system writes for the ledger to import).

One #VER per paid disbursement, dated the day it was paid: debit the grant expense
(SIE_GRANT_EXPENSE_ACCOUNT), credit the bank (SIE_BANK_ACCOUNT), so each voucher balances.
The voucher number is left empty for the ledger to give (allowed in 4i). The file is in
IBM PC-8 (code page 437), as `#FORMAT PC8` says and SIE requires, with CR LF line ends.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.errors import ValidationFailed

from ..models import Disbursement
from .files import finance_disbursements, require_finance

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class SieFile:
    content: bytes
    count: int
    total: Decimal
    start: date
    end: date

    @property
    def filename(self) -> str:
        return f"utbetalningar-{self.start:%Y%m%d}-{self.end:%Y%m%d}.si"


def _quoted(text: str) -> str:
    """A SIE string: in quotes, a quote inside escaped, no line breaks or control characters."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _amount(value: Decimal) -> str:
    return f"{value.quantize(_CENT):.2f}"


def _orgnr(digits: str) -> str:
    return f"{digits[:6]}-{digits[6:]}" if len(digits) == 10 else digits


def paid_in_period(*, actor: Actor, start: date, end: date):
    """The disbursements paid from `start` to `end` (days in Europe/Stockholm), oldest first."""
    zone = timezone.get_default_timezone()
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return (
        finance_disbursements(actor=actor)
        .filter(status=Disbursement.Status.PAID, paid_at__gte=since, paid_at__lt=until)
        .order_by("paid_at", "pk")
    )


def sie_file_build(*, actor: Actor, start: date, end: date, now: datetime | None = None) -> SieFile:
    """The SIE 4i file of the disbursements paid in the period. Reads only."""
    require_finance(actor)
    if end < start:
        raise ValidationFailed(_("Periodens slut kan inte ligga före dess början."), details={"field": "end"})
    if (end - start).days > 366:
        raise ValidationFailed(_("Välj en period på högst ett år."), details={"field": "end"})
    now = timezone.localtime(now or timezone.now())
    expense, bank = str(settings.SIE_GRANT_EXPENSE_ACCOUNT), str(settings.SIE_BANK_ACCOUNT)
    series = str(settings.SIE_VOUCHER_SERIES)
    who = actor.get_full_name() or actor.get_username()
    lines = [
        "#FLAGGA 0",
        "#FORMAT PC8",
        "#SIETYP 4",
        f"#PROGRAM {_quoted('Bidragsportalen')} {_quoted('1.0')}",
        f"#GEN {now:%Y%m%d} {_quoted(who)}",
        f"#FNAMN {_quoted(str(settings.BRA_NAME))}",
        f"#ORGNR {_orgnr(str(settings.BRA_ORGNR))}",
        "#VALUTA SEK",
        f"#KONTO {expense} {_quoted('Lämnade bidrag')}",
        f"#KONTO {bank} {_quoted('Bank')}",
    ]
    count, total = 0, Decimal(0)
    for disbursement in paid_in_period(actor=actor, start=start, end=end):
        application = disbursement.application
        paid_on = timezone.localtime(disbursement.paid_at).date()
        reference = application.case.diarienummer or str(application.pk)
        payee = disbursement.payee_name or application.organisation.name
        text = f"Bidrag {reference} {payee}"[:100]
        amount = _amount(disbursement.amount)
        lines += [
            f"#VER {_quoted(series)} {_quoted('')} {paid_on:%Y%m%d} {_quoted(text)} {paid_on:%Y%m%d} {_quoted(who)}",
            "{",
            f"   #TRANS {expense} {{}} {amount} {paid_on:%Y%m%d} {_quoted(text)}",
            f"   #TRANS {bank} {{}} -{amount} {paid_on:%Y%m%d} {_quoted(text)}",
            "}",
        ]
        count += 1
        total += disbursement.amount
    content = ("\r\n".join(lines) + "\r\n").encode("cp437", errors="replace")
    return SieFile(content=content, count=count, total=total, start=start, end=end)
