"""The payee's account: a bankgiro or plusgiro number, checked and written the usual way.

Both carry a mod-10 (Luhn) check digit over the whole number. Bankgiro numbers have 7 or
8 digits, written NNN-NNNN or NNNN-NNNN; plusgiro numbers 2 to 8 digits, written with the
check digit after a hyphen (N…N-N). Stored as digits only.
"""

from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from stdnum import luhn

from arenden.actors import Actor
from arenden.errors import NotAllowed, NotFound, ValidationFailed
from notifications.messages import Recipient, notify

from ..models import Membership, Organisation
from ..models.organisation import PaymentMethod

LENGTHS = {PaymentMethod.BANKGIRO: (7, 8), PaymentMethod.PLUSGIRO: (2, 8)}


@dataclass(frozen=True)
class Account:
    method: str
    digits: str

    @property
    def display(self) -> str:
        return format_account(method=self.method, digits=self.digits)


def format_account(*, method: str, digits: str) -> str:
    """"5050-1055", "123-4567" for bankgiro, "12345-6" for plusgiro; "" when none."""
    if not digits:
        return ""
    if method == PaymentMethod.BANKGIRO:
        return f"{digits[:-4]}-{digits[-4:]}"
    if method == PaymentMethod.PLUSGIRO:
        return f"{digits[:-1]}-{digits[-1]}"
    return digits


def normalise_account(*, method: str, number: str) -> str:
    """The number's digits, or ValidationFailed with a Swedish message at the right field."""
    if method not in LENGTHS:
        raise ValidationFailed(_("Välj bankgiro eller plusgiro."), details={"field": "method"})
    digits = "".join(number.split()).replace("-", "")
    label = PaymentMethod(method).label
    if not digits:
        raise ValidationFailed(_("Ange %(kind)snumret.") % {"kind": label.lower()}, details={"field": "number"})
    if not digits.isdigit():
        raise ValidationFailed(
            _("Ett %(kind)snummer består bara av siffror (och ett bindestreck).") % {"kind": label.lower()},
            details={"field": "number"},
        )
    shortest, longest = LENGTHS[PaymentMethod(method)]
    if not shortest <= len(digits) <= longest:
        raise ValidationFailed(
            _("Ett %(kind)snummer har %(min)s–%(max)s siffror; du angav %(n)s.")
            % {"kind": label.lower(), "min": shortest, "max": longest, "n": len(digits)},
            details={"field": "number"},
        )
    if not luhn.is_valid(digits):
        raise ValidationFailed(
            _("Kontrollsiffran stämmer inte: kontrollera %(kind)snumret.") % {"kind": label.lower()},
            details={"field": "number"},
        )
    return digits


def account_of(organisation: Organisation) -> Account | None:
    """The organisation's account, if it has a valid one (checked again: stored data may predate a rule)."""
    if not organisation.payment_method or not organisation.payment_account:
        return None
    try:
        digits = normalise_account(method=organisation.payment_method, number=organisation.payment_account)
    except ValidationFailed:
        return None
    return Account(method=organisation.payment_method, digits=digits)


def organisation_payment_account_set(
    *, actor: Actor, organisation_id, method: str, number: str
) -> Organisation:
    """A firmatecknare/ombud with a confirmed mandate sets where Brå pays the organisation's
    grants. Every firmatecknare is told by e-mail, so a change nobody made is noticed; a
    disbursement already prepared keeps the account it was prepared for."""
    digits = normalise_account(method=method, number=number)
    with transaction.atomic():
        try:
            organisation = Organisation.objects.select_for_update(of=("self",)).get(pk=organisation_id)
        except (Organisation.DoesNotExist, ValueError):
            raise NotFound(_("Organisationen finns inte.")) from None
        signing = Membership.objects.filter(Membership.SIGNING, organisation=organisation)
        if actor is None or not signing.filter(user=actor).exists():
            raise NotAllowed(
                _("Endast organisationens firmatecknare eller ombud med bekräftad behörighet får ändra kontot för utbetalningar.")
            )
        before = format_account(method=organisation.payment_method, digits=organisation.payment_account)
        organisation.payment_method, organisation.payment_account = method, digits
        organisation.save(update_fields=["payment_method", "payment_account"])
        after = format_account(method=method, digits=digits)
        if before != after:
            who = actor.get_full_name() or actor.get_username()
            notify(
                kind="payment_account_changed", reference=f"organisation:{organisation.pk}",
                recipients=[Recipient(email=email, user_id=user_id)
                            for user_id, email in signing.values_list("user_id", "user__email")],
                link=reverse("bidrag:organisation_detail", args=[organisation.pk]),
                context={"changed_by": who, "organisation": organisation.name,
                         "method": PaymentMethod(method).label, "account": after, "previous": before},
            )
        return organisation
