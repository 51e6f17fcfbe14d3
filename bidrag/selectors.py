"""Every read of the grant domain, scoped to the acting user.

A foreign object raises Http404 exactly like a missing one: callers never learn whether
an id exists.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from arenden.models import Attachment
from arenden.services import conflict_barred_user_ids

from .models import Application, BudgetLine, Call, Decision, Membership, Organisation
from .models.application import Status
from .roles import is_staff_reader


def requested_total_subquery(outer_ref: str = "pk"):
    """Sum of budget lines of the application `outer_ref` points at, as one subquery."""
    return Coalesce(
        Subquery(
            BudgetLine.objects.filter(application=OuterRef(outer_ref))
            .values("application")
            .annotate(total=Sum("amount"))
            .values("total")[:1]
        ),
        Value(0),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def applications_visible_to(actor) -> QuerySet[Application]:
    """Staff read every application once it was submitted (it has a diarienummer), whatever
    became of it after; drafts, withdrawn ones too, stay with the organisation's members."""
    if not actor.is_authenticated:
        return Application.objects.none()
    member_of = Q(organisation__memberships__user=actor)
    if is_staff_reader(actor):
        visible = member_of | Q(case__diarienummer__isnull=False)
    else:
        visible = member_of
    # A deleted draft is gone for everyone: its id answers like a missing one.
    return Application.objects.filter(visible, deleted_at__isnull=True).distinct()


def awaits_signature_of(actor):
    """True for a draft whose signature a sökande asked for, where `actor` is a firmatecknare of
    its organisation (the SUBMIT action's party, workflows/flows.py): one expression per row."""
    signatory = Membership.objects.filter(
        organisation_id=OuterRef("organisation_id"), user_id=actor.pk, role=Membership.Role.SIGNATORY
    )
    return ExpressionWrapper(
        Q(status=Application.Status.DRAFT, signature_requested_at__isnull=False) & Q(Exists(signatory)),
        output_field=BooleanField(),
    )


def application_list(*, actor) -> QuerySet[Application]:
    return (
        applications_visible_to(actor)
        .select_related("case", "call", "call__scheme", "organisation")
        .annotate(requested_total=requested_total_subquery(), awaits_my_signature=awaits_signature_of(actor))
        .order_by("-created_at")
    )


def application_get(*, actor, application_id) -> Application:
    try:
        return (
            applications_visible_to(actor)
            .select_related("case", "call", "call__scheme", "organisation")
            .get(pk=application_id)
        )
    except (Application.DoesNotExist, ValueError):
        raise Http404 from None


def application_for_member(*, actor, application_id) -> Application:
    """The application if the actor represents its organisation (applicant pages)."""
    application = application_get(actor=actor, application_id=application_id)
    if not Membership.objects.filter(organisation_id=application.organisation_id, user=actor).exists():
        raise Http404
    return application


def attachment_get(*, actor, attachment_id) -> Attachment:
    try:
        attachment = Attachment.objects.select_related("case").get(pk=attachment_id)
    except (Attachment.DoesNotExist, ValueError):
        raise Http404 from None
    if not applications_visible_to(actor).filter(case_id=attachment.case_id).exists():
        raise Http404
    if actor.pk in conflict_barred_user_ids(case=attachment.case) and not Membership.objects.filter(
        organisation__applications__case_id=attachment.case_id, user=actor
    ).exists():
        raise Http404  # FL 16 §: the declarer sees no more than the diarium entry
    return attachment


def organisations_for(*, actor) -> QuerySet[Organisation]:
    return Organisation.objects.filter(memberships__user=actor).distinct()


def is_signatory(*, actor, application: Application) -> bool:
    return Membership.objects.filter(
        organisation_id=application.organisation_id, user=actor, role=Membership.Role.SIGNATORY
    ).exists()


def is_member(*, actor, application: Application) -> bool:
    return Membership.objects.filter(organisation_id=application.organisation_id, user=actor).exists()


def open_calls() -> QuerySet[Call]:
    now = timezone.now()
    return Call.objects.filter(opens_at__lte=now, closes_at__gt=now).select_related("scheme").order_by("closes_at")


# --- Public pages (no login): calls, and of an application only what a grant makes public.

PUBLICLY_GRANTED = [Status.GRANTED, Status.IN_PROGRESS, Status.REPORT_REVIEW, Status.CLOSED]
_FINAL_OUTCOMES = [Decision.Outcome.GRANTED, Decision.Outcome.REJECTED, Decision.Outcome.DISMISSED]


def public_calls() -> QuerySet[Call]:
    """Every call with its scheme and tracks (two queries whatever their number)."""
    return Call.objects.select_related("scheme").prefetch_related("tracks").order_by("closes_at", "title")


def public_call_get(*, call_id) -> Call:
    try:
        return public_calls().get(pk=call_id)
    except (Call.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


@dataclass(frozen=True)
class GrantedProject:
    call_id: uuid.UUID
    organisation: str
    title: str
    amount: Decimal | None


def granted_projects(*, call_ids: Iterable[uuid.UUID], at: datetime | None = None) -> list[GrantedProject]:
    """Granted projects of the given calls that have closed, as plain values: the
    organisation's name, the project title and the granted amount, nothing else.

    Only applications in a state a grant leads to whose last decision on the application
    itself (not a repayment) is a grant; never drafts, never anything undecided. One query.
    """
    at = at or timezone.now()
    last_decision = Decision.objects.filter(application=OuterRef("pk"), outcome__in=_FINAL_OUTCOMES).order_by(
        "-decided_at", "-pk"
    )
    rows = (
        Application.objects.filter(call_id__in=list(call_ids), call__closes_at__lte=at, status__in=PUBLICLY_GRANTED)
        .annotate(
            final_outcome=Subquery(last_decision.values("outcome")[:1]),
            granted_amount=Subquery(last_decision.values("amount")[:1]),
        )
        .filter(final_outcome=Decision.Outcome.GRANTED)
        .order_by("organisation__name", "title", "pk")
        .values_list("call_id", "organisation__name", "title", "granted_amount")
    )
    return [GrantedProject(call_id, organisation, title, amount) for call_id, organisation, title, amount in rows]


def member_applications(*, actor, organisation_id=None, call_id=None, status: str = "") -> QuerySet[Application]:
    """The applications of the organisations `actor` represents, newest first, filtered.

    Membership is a semi-join (EXISTS), never a join with DISTINCT: a person who represents
    many organisations gets each application once, and the newest page comes from the
    (created_at, id) index without sorting the lot.
    """
    if not actor.is_authenticated:
        return Application.objects.none()
    member = Membership.objects.filter(organisation_id=OuterRef("organisation_id"), user_id=actor.pk)
    applications = Application.objects.filter(Exists(member), deleted_at__isnull=True)
    if organisation_id:
        applications = applications.filter(organisation_id=organisation_id)
    if call_id:
        applications = applications.filter(call_id=call_id)
    if status:
        applications = applications.filter(status=status)
    return (
        applications.select_related("case", "call", "organisation")
        .annotate(requested_total=requested_total_subquery(), awaits_my_signature=awaits_signature_of(actor))
        .order_by("-created_at", "-id")
    )


def calls_of_member(*, actor) -> QuerySet[Call]:
    """The calls that the organisations `actor` represents have applied in (for filtering)."""
    member = Membership.objects.filter(organisation_id=OuterRef("organisation_id"), user_id=actor.pk)
    applied = Application.objects.filter(Exists(member), call_id=OuterRef("pk"), deleted_at__isnull=True)
    return Call.objects.filter(Exists(applied)).order_by("-opens_at")
