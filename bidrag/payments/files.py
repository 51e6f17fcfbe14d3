"""Finance's files: the payment order for the bank (pain.001) and what finance may see of
the disbursements it concerns. Reads scoped to the acting user; the one write journals.

Only finance (role ekonomi) reaches these, never an auditor or an administrator (they read
cases, they do not make payment orders), and never for a case on which the person has
declared jäv that has not been ruled away (FL 16 §): such a case is not in their list.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.errors import NotAllowed, TransitionNotAllowed, ValidationFailed
from arenden.journal import journal_append
from arenden.models import ConflictOfInterest, JournalEvent

from ..events import Event
from ..locks import lock_application, lock_case
from ..models import Disbursement
from ..roles import Role, user_roles
from .accounts import normalise_account
from .pain001 import Debtor, Payment, end_to_end_id, pain001_build

NEVER_WRITE = frozenset({Role.AUDITOR, Role.ADMINISTRATOR})


def is_finance(actor: Actor | None) -> bool:
    """Finance staff who make payment files and read statements; auditors and administrators never."""
    if actor is None or not actor.is_authenticated or actor.is_superuser:
        return False
    roles = user_roles(actor)
    return Role.FINANCE in roles and not roles & NEVER_WRITE


def require_finance(actor: Actor | None) -> None:
    if not is_finance(actor):
        raise NotAllowed(_("Endast ekonomi får hantera betalfiler."))


def _barred(actor: Actor):
    """The cases on which the actor declared jäv, not ruled away (the queue's rule)."""
    return ConflictOfInterest.objects.filter(user=actor, case=OuterRef("application__case")).exclude(
        ruling__upheld=False
    )


def finance_disbursements(*, actor: Actor) -> QuerySet[Disbursement]:
    """Every disbursement the finance user may see, with its case and organisation."""
    if not is_finance(actor):
        return Disbursement.objects.none()
    return (
        Disbursement.objects.exclude(Exists(_barred(actor)))
        .select_related("application__case", "application__organisation", "prepared_by", "attested_by", "paid_by")
    )


def _in_files():
    """The journal's record of a disbursement put in a payment file, latest first."""
    return (
        JournalEvent.objects.filter(case_id=OuterRef("application__case_id"), action=Event.ADD_TO_PAYMENT_FILE)
        .annotate(disbursement=KeyTextTransform("disbursement", "payload"))
        .filter(disbursement=Cast(OuterRef("pk"), TextField()))
        .order_by("-seq")
    )


def payable_disbursements(*, actor: Actor) -> QuerySet[Disbursement]:
    """Attested, not yet paid, not stopped: what a payment file may hold, oldest first,
    each with `in_file` (the id of the last payment file it was put in, or None): a file
    sent to the bank but not yet seen on a statement must not be paid twice."""
    in_file = Subquery(_in_files().annotate(
        message_id=KeyTextTransform("message_id", "payload")).values("message_id")[:1])
    return (
        finance_disbursements(actor=actor).filter(status=Disbursement.Status.ATTESTED)
        .annotate(in_file=in_file).order_by("attested_at", "pk")
    )


def debtor_from_settings() -> Debtor:
    """Brå as the payer, from the settings; refused clearly when its bankgiro is not set."""
    try:
        bankgiro = normalise_account(method="bankgiro", number=settings.BRA_BANKGIRO or "")
    except ValidationFailed:
        raise TransitionNotAllowed(
            _("Brås eget bankgironummer (inställningen BRA_BANKGIRO) saknas eller är felaktigt. Ingen betalfil kan skapas.")
        ) from None
    return Debtor(name=settings.BRA_NAME, orgnr=settings.BRA_ORGNR, bankgiro=bankgiro, bic=settings.BRA_BANK_BIC)


def payment_of(disbursement: Disbursement) -> Payment:
    application = disbursement.application
    reference = application.case.diarienummer or str(application.pk)
    return Payment(
        end_to_end_id=end_to_end_id(disbursement.pk),
        amount=disbursement.amount,
        payee_name=disbursement.payee_name,
        payee_method=disbursement.payee_method,
        payee_account=disbursement.payee_account,
        remittance=f"Bidrag från Brå, dnr {reference}",
    )


@dataclass(frozen=True)
class PaymentFile:
    message_id: str
    content: bytes
    count: int
    total: Decimal
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.message_id}.xml"


def payment_file_create(
    *, actor: Actor, disbursement_ids: Iterable | None = None, execution_date: date | None = None,
    now: datetime | None = None,
) -> PaymentFile:
    """A pain.001 file of the attested disbursements (all, or those chosen), each journaled
    on its case (Event.ADD_TO_PAYMENT_FILE, with the file's id and digest). Making the file
    marks nothing paid: the bank's statement, or the pay step, does that through the door.

    Locks in the one order (application, case, then the disbursement) case by case, in
    the order of the applications' ids, so two files made at once never deadlock."""
    require_finance(actor)
    debtor = debtor_from_settings()
    now = now or timezone.now()
    execution_date = execution_date or timezone.localdate(now)
    if execution_date < timezone.localdate(now):
        raise ValidationFailed(_("Betalningsdagen kan inte ligga före i dag."), details={"field": "execution_date"})
    chosen = payable_disbursements(actor=actor)
    if disbursement_ids is not None:
        chosen = chosen.filter(pk__in=list(disbursement_ids))
    else:  # "all": those in no file yet; one already sent is put in again only when chosen
        chosen = chosen.exclude(Exists(_in_files()))
    candidates = sorted(chosen.values_list("application_id", "pk"), key=lambda row: str(row[0]))
    if not candidates:
        raise TransitionNotAllowed(_("Det finns inga attesterade utbetalningar att lägga i en betalfil."))
    message_id = f"BRA{timezone.localtime(now):%Y%m%d%H%M%S}{get_random_string(6).upper()}"
    with transaction.atomic():
        payments: list[tuple[Disbursement, Payment]] = []
        for application_id, disbursement_id in candidates:
            application = lock_application(application_id)
            application.case = lock_case(application.case_id)
            disbursement = (
                Disbursement.objects.select_for_update(of=("self",)).filter(pk=disbursement_id).first()
            )
            if disbursement is None or disbursement.status != Disbursement.Status.ATTESTED:
                raise TransitionNotAllowed(
                    _("En av utbetalningarna ändrades medan filen skapades. Försök igen.")
                )
            if not disbursement.payee_account or not disbursement.payee_name:
                raise TransitionNotAllowed(
                    _("Utbetalningen i ärende %(ref)s saknar betalningsmottagare eller konto. Stoppa den och "
                      "förbered en ny.") % {"ref": application.case.diarienummer or application.pk}
                )
            disbursement.application = application
            payments.append((disbursement, payment_of(disbursement)))
        content = pain001_build(payments=[p for _d, p in payments], debtor=debtor, message_id=message_id,
                                created_at=timezone.localtime(now), execution_date=execution_date)
        digest = hashlib.sha256(content).hexdigest()
        total = sum((p.amount for _d, p in payments), start=Decimal(0))
        for disbursement, payment in payments:
            application = disbursement.application
            journal_append(
                actor=actor, case_id=application.case_id, action=Event.ADD_TO_PAYMENT_FILE,
                from_state=application.status, to_state=application.status,
                payload={"disbursement": disbursement.pk, "message_id": message_id,
                         "end_to_end_id": payment.end_to_end_id, "amount": payment.amount,
                         "execution_date": execution_date, "file_sha256": digest},
            )
        return PaymentFile(message_id=message_id, content=content, count=len(payments), total=total, sha256=digest)
