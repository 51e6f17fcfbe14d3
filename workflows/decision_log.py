"""The decision log (beslutslogg, issue 9): every decision Brå has sent, one row each, for
staff readers and above all the auditors; the rows the exports write (workflows.exports).

A decision is a row of bidrag.Decision (MF 21 §: who decided after whose presentation, and
who else took part); corrections (FL 36 §), reconsiderations (FL 37 §), dismissed late
appeals (FL 45 §) and refused demands for a decision (FL 12 §) are decisions too, and each
row says what it refers to.

Every join is to one row (the application, its case, call, scheme, track, organisation,
the two officers), so the list needs no DISTINCT; what a decision refers to and its letter
are subqueries run for the rows read; the participants come in one more query for the page. Pages are keyset (arenden.keyset)
in DECISION_LOG_ORDER, which the index decision_log_order (migration workflows 0007)
serves from either end. The reasons are searched with PostgreSQL's full-text search in its
Swedish configuration (the stemmer: "kommunerna" finds "kommun"), through the GIN index
decision_reasons_swedish, whose expression is exactly what reasons_document() writes.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import DecimalField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from arenden.models import ConflictOfInterest
from bidrag.models import Appeal, Decision, DecisionDemand, DecisionLetter, Disbursement, SubmittedVersion
from bidrag.roles import is_staff_reader

from .selectors import requested_as_submitted

# Newest first; the id breaks ties (arenden.keyset wants a unique last key).
DECISION_LOG_ORDER = ("-decided_at", "-id")
DISBURSEMENT_ORDER = ("-prepared_at", "-id")
SEARCH_CONFIG = "swedish"
EXCERPT_LENGTH = 240


@dataclass(frozen=True)
class DecisionLogFilter:
    """What the decision log's filter form asks for; empty values filter nothing."""

    decided_from: date | None = None
    decided_to: date | None = None
    call_id: uuid.UUID | str | None = None
    scheme_id: int | None = None
    outcome: str = ""
    officer_id: int | None = None  # decided or presented
    county: str = ""  # länskod, the kommunkod's first two digits
    amount_min: Decimal | None = None  # the decided amount
    amount_max: Decimal | None = None
    query: str = ""  # full-text search in the reasons

    @property
    def narrowed(self) -> bool:
        return any(value not in (None, "") for value in asdict(self).values())


def _stockholm_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def barred_case_ids(actor) -> list:
    """FL 16 §: the cases on which the actor declared jäv (not ruled away); they see no more
    of such a case than its diarium entry, so not its decisions either. Read first, as a
    list (a person's few declarations): an anti-join in the page's query would add two
    more tables to a join the planner already takes long to order."""
    return list(
        ConflictOfInterest.objects.filter(user=actor).exclude(ruling__upheld=False).values_list("case_id", flat=True)
    )


def reasons_document() -> SearchVector:
    """The reasons as a Swedish tsvector. Django writes it as
    to_tsvector('swedish'::regconfig, COALESCE(reasons, '')), the expression of the index
    decision_reasons_swedish (migration workflows 0007): the planner uses an expression
    index only for the very same expression."""
    return SearchVector("reasons", config=SEARCH_CONFIG)


def reasons_search(decisions: QuerySet[Decision], query: str) -> QuerySet[Decision]:
    """Decisions whose reasons match `query`, written as people write a web search ("a b",
    "a or b", "-a", quoted phrases), each word by its Swedish stem. SQLite (the quick start)
    has no full-text search and matches the words as written."""
    if connections[decisions.db].vendor != "postgresql":
        return decisions.filter(reasons__icontains=query)
    return decisions.alias(reasons_document=reasons_document()).filter(
        reasons_document=SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
    )


def decision_log(*, actor, log_filter: DecisionLogFilter | None = None) -> QuerySet[Decision]:
    """The decisions the actor may read, filtered; unordered and without what a row shows
    (decision_log_rows adds that). Staff readers read every submitted case's decisions,
    except on a case where they declared jäv; anyone else reads none."""
    if not is_staff_reader(actor):
        return Decision.objects.none()
    f = log_filter or DecisionLogFilter()
    decisions = Decision.objects.filter(
        application__case__diarienummer__isnull=False, application__deleted_at__isnull=True
    ).exclude(application__case_id__in=barred_case_ids(actor))
    if f.decided_from:
        decisions = decisions.filter(decided_at__gte=_stockholm_midnight(f.decided_from))
    if f.decided_to:
        decisions = decisions.filter(decided_at__lt=_stockholm_midnight(f.decided_to + timedelta(days=1)))
    if f.call_id:
        decisions = decisions.filter(application__call_id=f.call_id)
    if f.scheme_id:
        decisions = decisions.filter(application__call__scheme_id=f.scheme_id)
    if f.outcome:
        decisions = decisions.filter(outcome=f.outcome)
    if f.officer_id:
        decisions = decisions.filter(Q(decided_by_id=f.officer_id) | Q(presented_by_id=f.officer_id))
    if f.county:
        decisions = decisions.filter(application__organisation__kommunkod__startswith=f.county)
    if f.amount_min is not None:
        decisions = decisions.filter(amount__gte=f.amount_min)
    if f.amount_max is not None:
        decisions = decisions.filter(amount__lte=f.amount_max)
    if f.query:
        decisions = reasons_search(decisions, f.query)
    return decisions.order_by()


def requested_subquery() -> Subquery:
    """The amount the applicant asked for as submitted (the signed SubmittedVersion), for the
    rows read only: a correlated subquery on the version's unique application_id."""
    versions = SubmittedVersion.objects.filter(application_id=OuterRef("application_id"))
    return Subquery(versions.annotate(total=requested_as_submitted()).values("total")[:1],
                    output_field=DecimalField(max_digits=14, decimal_places=2))


_PERSON = ("id", "username", "first_name", "last_name")

# What a row shows, and nothing more: the application's texts and the scheme's JSON stay unread.
ROW_FIELDS = (
    "id", "outcome", "amount", "reasons", "decided_at", "application_id", "decided_by_id", "presented_by_id",
    "corrects_id", "reconsiders_id",
    "application__id", "application__title", "application__status", "application__case_id", "application__call_id",
    "application__track_id", "application__organisation_id",
    "application__case__id", "application__case__diarienummer",
    "application__call__id", "application__call__title", "application__call__scheme_id",
    "application__call__scheme__id", "application__call__scheme__name",
    "application__track__id", "application__track__name",
    "application__organisation__id", "application__organisation__name", "application__organisation__kommunkod",
    *(f"decided_by__{name}" for name in _PERSON), *(f"presented_by__{name}" for name in _PERSON),
)


def _references():
    """What each row refers to, as values read by subqueries for the rows read only: the
    earlier decision (corrected, reconsidered, or whose late appeal this dismisses), the
    appeal's day, the refused demand's day, and the stored letter. Joined instead, the
    page's query had 17 tables and PostgreSQL spent 100 ms choosing their order for a
    query that then ran in 1 ms."""
    # Unordered: each finds one row by a unique key (the models' default orderings would sort it).
    appeal = Appeal.objects.filter(dismissal_id=OuterRef("pk")).order_by()
    earlier = Decision.objects.filter(pk=OuterRef("earlier_id")).order_by()
    return {
        "earlier_outcome": Subquery(earlier.values("outcome")[:1]),
        "earlier_decided_at": Subquery(earlier.values("decided_at")[:1]),
        "appeal_received_on": Subquery(appeal.values("received_on")[:1]),
        "demand_made_at": Subquery(
            DecisionDemand.objects.filter(refusal_id=OuterRef("pk")).order_by().values("made_at")[:1]),
        "stored_letter": Subquery(DecisionLetter.objects.filter(decision_id=OuterRef("pk")).order_by().values("pk")[:1]),
    }


def decision_log_rows(decisions: QuerySet[Decision]) -> QuerySet[Decision]:
    """What the log (and its export) shows of each decision: one query for the rows, one for
    their participants (MF 21 §), whatever their number."""
    people = get_user_model().objects.only(*_PERSON).order_by("last_name", "first_name", "username")
    earlier_id = Coalesce("corrects_id", "reconsiders_id",
                          Subquery(Appeal.objects.filter(dismissal_id=OuterRef("pk")).order_by().values("decision_id")[:1]))
    return (
        decisions.select_related(
            "application__case", "application__call__scheme", "application__track", "application__organisation",
            "decided_by", "presented_by",
        )
        .only(*ROW_FIELDS)
        .alias(earlier_id=earlier_id)
        .annotate(requested=requested_subquery(), **_references())
        .prefetch_related(Prefetch("participants", queryset=people))
    )


def letter_of(decision: Decision):
    """The decision's stored letter's id, or None while the worker has not stored it yet."""
    return getattr(decision, "stored_letter", None)


@dataclass(frozen=True)
class Reference:
    """What a decision refers to: the decision it corrects (FL 36 §) or changes on
    reconsideration (FL 37 §), the decision whose late appeal it dismisses (FL 45 §), or the
    demand for a decision it refuses (FL 12 §)."""

    kind: str  # "correction", "reconsideration", "appeal" or "demand"
    earlier_outcome: str = ""
    earlier_decided_at: datetime | None = None
    on: date | datetime | None = None


def reference_of(decision: Decision) -> Reference | None:
    """Read from decision_log_rows' annotations."""
    earlier = {"earlier_outcome": getattr(decision, "earlier_outcome", None) or "",
               "earlier_decided_at": getattr(decision, "earlier_decided_at", None)}
    if decision.corrects_id:
        return Reference("correction", **earlier, on=earlier["earlier_decided_at"])
    if decision.reconsiders_id:
        return Reference("reconsideration", **earlier, on=earlier["earlier_decided_at"])
    if getattr(decision, "appeal_received_on", None):
        return Reference("appeal", **earlier, on=decision.appeal_received_on)
    if getattr(decision, "demand_made_at", None):
        return Reference("demand", on=decision.demand_made_at)
    return None


def disbursement_log(*, actor, status: str = "") -> QuerySet[Disbursement]:
    """Every disbursement of a submitted case the actor may read (the export), newest
    prepared first, with the case, organisation and the three people who handled it."""
    if not is_staff_reader(actor):
        return Disbursement.objects.none()
    disbursements = Disbursement.objects.filter(
        application__case__diarienummer__isnull=False, application__deleted_at__isnull=True
    ).exclude(application__case_id__in=barred_case_ids(actor))
    if status:
        disbursements = disbursements.filter(status=status)
    return (
        disbursements.select_related("application__case", "application__organisation", "prepared_by",
                                     "attested_by", "paid_by")
        .only("id", "amount", "status", "prepared_at", "attested_at", "paid_at", "payment_reference", "payee_name",
              "payee_method", "payee_account", "application_id", "prepared_by_id", "attested_by_id", "paid_by_id",
              "application__id", "application__case_id", "application__organisation_id",
              "application__case__id", "application__case__diarienummer",
              "application__organisation__id", "application__organisation__name",
              *(f"{who}__{name}" for who in ("prepared_by", "attested_by", "paid_by") for name in _PERSON))
        .order_by(*DISBURSEMENT_ORDER)
    )
