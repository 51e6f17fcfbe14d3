"""Every read of the grant domain, scoped to the acting user.

A foreign object raises Http404 exactly like a missing one: callers never learn whether
an id exists.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache

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

from .models import (
    Application,
    BudgetLine,
    Call,
    Decision,
    GrantScheme,
    Invitation,
    JoinRequest,
    MandateDecision,
    Membership,
    Organisation,
)
from .models.application import Status
from .orgnr import is_legal_person
from .roles import Role, is_staff_reader, user_roles


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
    became of it after; drafts, withdrawn ones too, stay with the organisation's members.

    Membership is a semi-join (EXISTS), never a join: joined, every member of the
    organisation repeated the row, and the DISTINCT that undid it sorted every column of
    every visible row before the first page could be read (268 MB on disk at 100 000).
    """
    if not actor.is_authenticated:
        return Application.objects.none()
    member_of = Q(Exists(Membership.objects.filter(organisation_id=OuterRef("organisation_id"), user_id=actor.pk)))
    if is_staff_reader(actor):
        # The cheap test first: for a submitted case the membership is never looked up.
        visible = Q(case__diarienummer__isnull=False) | member_of
    else:
        visible = member_of
    # A deleted draft is gone for everyone: its id answers like a missing one.
    return Application.objects.filter(visible, deleted_at__isnull=True)


def awaits_signature_of(actor):
    """True for a draft whose signature a sökande asked for, where `actor` is a firmatecknare of
    its organisation (the SUBMIT action's party, workflows/flows.py): one expression per row."""
    signatory = Membership.objects.filter(
        Membership.SIGNING, organisation_id=OuterRef("organisation_id"), user_id=actor.pk
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


# The all-cases page's order, newest first; the index application_newest_first serves it
# from either end (the first page and the last one), and the tie-breaker makes it a keyset.
CASE_LIST_ORDER = ("-created_at", "-id")


def staff_cases(*, actor, status: str = "") -> QuerySet[Application]:
    """Every submitted case, for staff readers (the all-cases page), filtered by status;
    unordered (the page orders, and searches with case_search)."""
    if not is_staff_reader(actor):
        return Application.objects.none()
    # What applications_visible_to lets staff read, narrowed to the submitted, said on the
    # application itself: submission numbers the case in the same transaction and neither
    # is ever undone, so the list and its count ("fler än 1 000") read one index, joining
    # no case row for the 1 001 they count.
    cases = Application.objects.filter(submitted_at__isnull=False, deleted_at__isnull=True)
    if status:
        cases = cases.filter(status=status)
    return cases.order_by()


def case_search(query: str) -> list[Q]:
    """The staff search: the diarienummer, the organisation's name or the project's title
    contains `query` (any case). Each condition has its trigram index (migration 0016) and
    is read by itself (arenden.keyset's `any_of`): one OR across three joined tables can
    use none of them.

    The organisations are looked up first (one small query): joined, the planner takes a
    name that matches none for one that matches a few, and walks every application looking
    for them; as a list of ids it knows, and an empty list is no condition at all."""
    organisation_ids = list(Organisation.objects.filter(name__icontains=query).values_list("pk", flat=True))
    return [Q(case__diarienummer__icontains=query), Q(organisation_id__in=organisation_ids), Q(title__icontains=query)]


# What a staff list shows of an application, and nothing more: the texts of the
# application (thousands of characters each) and its call's scheme (JSON) stay unread.
STAFF_ROW_FIELDS = ("id", "title", "status", "created_at", "submitted_at", "case__id", "case__diarienummer",
                    "organisation__id", "organisation__name")


def staff_case_rows(cases: QuerySet[Application]) -> QuerySet[Application]:
    """What the all-cases page shows of each row; the requested amount is a subquery the
    database runs only for the rows of the page (the plan reads the page from the index
    and stops), never for every match."""
    return (
        cases.select_related("case", "organisation")
        .only(*STAFF_ROW_FIELDS)
        .annotate(requested_total=requested_total_subquery())
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


def appeal_letter_get(*, actor, application_id, appeal_id):
    """The översändelse of a forwarded appeal (FL 45 §), for staff who may read the case; a
    foreign or missing id gives the same 404."""
    from .models import AppealLetter

    if not is_staff_reader(actor):
        raise Http404
    application = application_get(actor=actor, application_id=application_id)
    try:
        return AppealLetter.objects.select_related("appeal").get(appeal_id=appeal_id,
                                                                 appeal__decision__application=application)
    except (AppealLetter.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


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
    """A firmatecknare whose mandate Brå's registrar has confirmed (as the door's policy counts them)."""
    return Membership.objects.filter(Membership.SIGNING, organisation_id=application.organisation_id, user=actor).exists()


def is_member(*, actor, application: Application) -> bool:
    return Membership.objects.filter(organisation_id=application.organisation_id, user=actor).exists()


def open_calls() -> QuerySet[Call]:
    now = timezone.now()
    return Call.objects.filter(opens_at__lte=now, closes_at__gt=now).select_related("scheme").order_by("closes_at")


# --- Public pages (no login): calls, and of an application only what a grant makes public.

# What a grant makes public, one rule for the start page, the call pages and open data
# (bidrag.open_data): an application whose standing decision on the application itself (no
# later grant, rejection or dismissal; a reconsideration under FL 37 § counts) is a grant,
# in a state a grant leads to, whose decision has been sent (its letter is stored: the
# applicant hears it from Brå before the public does). Never a draft, a proposal, a
# rejection or dismissal, or an unsent grant.
PUBLICLY_GRANTED = [Status.GRANTED, Status.IN_PROGRESS, Status.CHANGE_REVIEW, Status.REPORT_REVIEW,
                    Status.REPAYMENT_CLAIMED, Status.CLOSED]
_ON_THE_APPLICATION = [Decision.Outcome.GRANTED, Decision.Outcome.REJECTED, Decision.Outcome.DISMISSED]


def published_grants() -> QuerySet[Decision]:
    """Each published grant's standing decision (an anti-join), one query however used."""
    later = Decision.objects.filter(application_id=OuterRef("application_id"), outcome__in=_ON_THE_APPLICATION).filter(
        Q(decided_at__gt=OuterRef("decided_at")) | Q(decided_at=OuterRef("decided_at"), pk__gt=OuterRef("pk")))
    return (
        Decision.objects.filter(outcome=Decision.Outcome.GRANTED, letter__isnull=False,
                                application__status__in=PUBLICLY_GRANTED,
                                application__case__diarienummer__isnull=False, application__deleted_at__isnull=True)
        .exclude(Exists(later))
    )


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
    organisation: str  # empty for a sole trader or a dödsbo: the name is a person's (is_legal_person)
    title: str
    amount: Decimal | None


def granted_projects(*, call_ids: Iterable[uuid.UUID], at: datetime | None = None) -> list[GrantedProject]:
    """The published grants (published_grants) of the given calls that have closed, as plain
    values: the organisation's name, the project title and the granted amount, nothing
    else. One query."""
    at = at or timezone.now()
    rows = (
        published_grants().filter(application__call_id__in=list(call_ids), application__call__closes_at__lte=at)
        .order_by("application__organisation__name", "application__title", "application_id")
        .values_list("application__call_id", "application__organisation__name", "application__organisation__orgnr",
                     "application__title", "amount")
    )
    return [GrantedProject(call_id, name if is_legal_person(orgnr or "") else "", title, amount)
            for call_id, name, orgnr, title, amount in rows]


# The applicant's list, newest first, from the index application_newest_first (keyset).
MEMBER_LIST_ORDER = ("-created_at", "-id")


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
        .order_by(*MEMBER_LIST_ORDER)
    )


def calls_of_member(*, actor) -> QuerySet[Call]:
    """The calls that the organisations `actor` represents have applied in (for filtering)."""
    member = Membership.objects.filter(organisation_id=OuterRef("organisation_id"), user_id=actor.pk)
    applied = Application.objects.filter(Exists(member), call_id=OuterRef("pk"), deleted_at__isnull=True)
    return Call.objects.filter(Exists(applied)).order_by("-opens_at")


# --- Organisations, memberships and signing mandates (issue 6).


@dataclass(frozen=True)
class Municipality:
    kommunkod: str
    name: str
    lan: str


@cache
def _municipalities() -> dict[str, Municipality]:
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parent / "data" / "kommuner.csv"
    with path.open(encoding="utf-8") as rows:
        return {
            row["organisationsnummer"].replace("-", ""): Municipality(row["kommunkod"], row["kommun"], row["lan"])
            for row in csv.DictReader(rows)
        }


def municipality_for(orgnr: str) -> Municipality | None:
    """The municipality (kommun) with this organisationsnummer (ten digits), from kommuner.csv."""
    return _municipalities().get(orgnr)


def schemes_for_legal_form(legal_form: str) -> list[GrantScheme]:
    """The schemes an organisation of this legal form may apply in (GrantScheme.eligible_legal_forms).
    Read in Python: a handful of schemes, and SQLite (the quick start) has no JSON containment."""
    return [s for s in GrantScheme.objects.order_by("name") if legal_form in (s.eligible_legal_forms or [])]


def memberships_of(*, actor) -> QuerySet[Membership]:
    """The actor's own memberships, with their organisations, by organisation name."""
    if not actor.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user_id=actor.pk).select_related("organisation").order_by("organisation__name")


def join_requests_of(*, actor) -> QuerySet[JoinRequest]:
    if not actor.is_authenticated:
        return JoinRequest.objects.none()
    return JoinRequest.objects.filter(user_id=actor.pk, state=JoinRequest.State.PENDING).select_related("organisation")


def membership_for_member(*, actor, organisation_id) -> Membership:
    """The actor's membership of the organisation: a foreign or missing id is the same 404."""
    if not actor.is_authenticated:
        raise Http404
    try:
        return Membership.objects.select_related("organisation").get(organisation_id=organisation_id, user_id=actor.pk)
    except (Membership.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def organisation_members(*, actor, organisation_id) -> QuerySet[Membership]:
    membership_for_member(actor=actor, organisation_id=organisation_id)
    return (
        Membership.objects.filter(organisation_id=organisation_id)
        .select_related("user", "mandate_confirmed_by", "mandate_document")
        .order_by("user__last_name", "user__first_name", "user__username")
    )


def organisation_join_requests(*, actor, organisation_id) -> QuerySet[JoinRequest]:
    """Pending join requests, for the organisation's firmatecknare with a confirmed mandate only."""
    if not Membership.objects.filter(Membership.SIGNING, organisation_id=organisation_id, user_id=actor.pk).exists():
        return JoinRequest.objects.none()
    return JoinRequest.objects.filter(organisation_id=organisation_id, state=JoinRequest.State.PENDING).select_related("user")


def organisation_invitations(*, actor, organisation_id) -> QuerySet[Invitation]:
    """Open invitations, for the organisation's firmatecknare with a confirmed mandate only."""
    if not Membership.objects.filter(Membership.SIGNING, organisation_id=organisation_id, user_id=actor.pk).exists():
        return Invitation.objects.none()
    return Invitation.objects.filter(
        organisation_id=organisation_id, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def mandate_decisions_of(*, actor, organisation_id) -> QuerySet[MandateDecision]:
    membership_for_member(actor=actor, organisation_id=organisation_id)
    return MandateDecision.objects.filter(organisation_id=organisation_id).select_related("user", "decided_by").order_by(
        "-decided_at"
    )


def _is_registrar(actor) -> bool:
    return actor.is_authenticated and Role.REGISTRAR in user_roles(actor)


def mandate_queue(*, actor) -> QuerySet[Membership]:
    """Requested mandates, oldest first, for Brå's registrar; nobody else sees them."""
    if not _is_registrar(actor):
        return Membership.objects.none()
    return (
        Membership.objects.filter(mandate_state=Membership.Mandate.REQUESTED)
        .select_related("organisation", "user", "mandate_document")
        .annotate(registrar_is_member=Exists(Membership.objects.filter(organisation_id=OuterRef("organisation_id"),
                                                                      user_id=actor.pk)))
        .order_by("mandate_requested_at", "pk")
    )


def mandate_document_get(*, actor, attachment_id) -> Attachment:
    """A mandate's proof: for Brå's registrar and the members of its organisation, else 404."""
    if not actor.is_authenticated:
        raise Http404
    holders = Membership.objects.filter(mandate_document_id=OuterRef("pk"))
    recorded = MandateDecision.objects.filter(document_id=OuterRef("pk"))
    documents = Attachment.objects.filter(Q(Exists(holders)) | Q(Exists(recorded)))
    if not _is_registrar(actor):
        mine = Membership.objects.filter(user_id=actor.pk).values("organisation_id")
        documents = documents.filter(
            Q(Exists(holders.filter(organisation_id__in=mine))) | Q(Exists(recorded.filter(organisation_id__in=mine)))
        )
    try:
        return documents.get(pk=attachment_id)
    except (Attachment.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None
