"""Statistics for staff and auditors (issue 9): what was asked for and granted per call and
per county, the outcomes per scheme and track, the handling time from registration to
decision against the call's target (FL 9 and 11 §§, `Call.target_days`) and the share of
final reports that came in on time.

Every figure is an aggregate the database computes (GROUP BY over the applications or the
decisions, never a loop over cases in Python): the page runs the same few queries whether
it covers two calls or twenty and ten or 100 000 applications. What Python folds are the
grouped rows (calls × counties × outcomes), never cases.

Definitions, as the page states them:

* An application counts once it was submitted (it has a diarienummer: registered under
  OSL 5 kap. 1 § at submission), unless it was withdrawn; drafts never do.
* Requested is the amount the applicant signed (the submitted version's total).
* The outcome of an application is its latest decision that is a grant, a rejection or a
  dismissal: a reconsideration (FL 37 §) counts, a correction (FL 36 §) keeps the outcome,
  a repayment claim is a decision of another kind and leaves the grant standing. Granted
  is that decision's amount.
* Handling time runs from the registration (submission) to the first such decision, in
  calendar days in Stockholm, held against the call's target (`target_days`, measured from
  the same day, as the queue's *Försenade* does).
* A final report is due BIDRAG_REPORT_DUE_MONTHS after the project's end date, moved to
  the next working day (workflows.timeline.report_due); it is on time when its first
  submission came by then. Reports not yet due are left out; a report still missing after
  its due date counts as missing.
* The year is the year the call closes (Stockholm time).

Staff readers see every case but those on which they declared jäv (the decision log's
rule, workflows.decision_log.barred_case_ids).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DateField,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Substr, TruncDate
from django.utils import timezone

from arenden.calendar import stockholm_today, working_deadline
from bidrag.models import Application, Call, Decision, Report
from bidrag.models.application import Status
from bidrag.roles import is_staff_reader

from .decision_log import barred_case_ids

OUTCOMES = (Decision.Outcome.GRANTED, Decision.Outcome.REJECTED, Decision.Outcome.DISMISSED)
# A working-day move (arenden.calendar) is at most a few days (Easter: Friday to Monday).
MOST_DAYS_MOVED = 7
# States a grant leads to, in which a final report becomes due.
REPORTING = (Status.GRANTED, Status.IN_PROGRESS, Status.CHANGE_REVIEW, Status.REPORT_REVIEW,
             Status.REPAYMENT_CLAIMED, Status.CLOSED)
NO_COUNTY = ""


@dataclass(frozen=True)
class StatisticsFilter:
    """What the page narrows to; None filters nothing."""

    year: int | None = None  # the year the call closes, Stockholm time
    scheme_id: int | None = None


class DaysBetween(Func):
    """Calendar days from one date (the second) to another (the first), as an integer."""

    output_field = IntegerField()
    arity = 2
    template = "(%(expressions)s)"
    arg_joiner = " - "

    def as_sqlite(self, compiler, connection, **extra_context):  # the quick start
        return self.as_sql(compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)",
                           arg_joiner=") - julianday(", **extra_context)


class MonthsAfter(Func):
    """A date `months` calendar months later, clamped to the month's last day as
    arenden.calendar.months_after is (PostgreSQL's interval arithmetic does exactly that)."""

    output_field = DateField()
    arity = 1
    template = "CAST((%(expressions)s + INTERVAL '%(months)d months') AS date)"

    def __init__(self, expression, *, months: int):
        super().__init__(expression, months=int(months))

    def as_sqlite(self, compiler, connection, **extra_context):  # the quick start: 31 + 1 month rolls over
        return self.as_sql(compiler, connection, template="date(%(expressions)s, '+%(months)d months')",
                           **extra_context)


def _local_day(expression: str):
    return TruncDate(expression, tzinfo=timezone.get_default_timezone())


def all_calls() -> list[Call]:
    """Every call, newest first, with its scheme: one query (calls are a handful a year)."""
    return list(Call.objects.select_related("scheme").only(
        "id", "title", "opens_at", "closes_at", "budget", "target_days", "scheme__id", "scheme__name", "scheme__code",
    ).order_by("-closes_at", "title"))


def call_year(call: Call) -> int:
    return timezone.localtime(call.closes_at).year


def calls_for(statistics_filter: StatisticsFilter, calls: list[Call] | None = None) -> list[Call]:
    """The calls (of `calls`, else all) the filter covers."""
    f = statistics_filter
    return [c for c in (all_calls() if calls is None else calls)
            if (f.year is None or call_year(c) == f.year) and (f.scheme_id is None or c.scheme_id == f.scheme_id)]


def _counted(prefix: str, call_ids: list[uuid.UUID], barred: list) -> Q:
    """The applications that count (submitted, not withdrawn, not barred), from `prefix`."""
    return Q(**{f"{prefix}call_id__in": call_ids, f"{prefix}case__diarienummer__isnull": False,
                f"{prefix}deleted_at__isnull": True}) & ~Q(**{f"{prefix}status": Status.WITHDRAWN}) & ~Q(
        **{f"{prefix}case_id__in": barred})


def _county():
    return Substr("organisation__kommunkod", 1, 2)


def _application_county():
    return Substr("application__organisation__kommunkod", 1, 2)


def _requested():
    return Cast(KeyTextTransform("total", "submitted_version__content"), DecimalField(max_digits=14, decimal_places=2))


def _decisions_of(counted: Q) -> QuerySet[Decision]:
    # Joined to their applications, not `application__in` a subquery: the planner then
    # starts from whichever side is smaller.
    return Decision.objects.filter(counted, outcome__in=OUTCOMES)


def current_decisions(counted: Q) -> QuerySet[Decision]:
    """Each application's latest grant, rejection or dismissal (an anti-join: no later one)."""
    later = Decision.objects.filter(application_id=OuterRef("application_id"), outcome__in=OUTCOMES).filter(
        Q(decided_at__gt=OuterRef("decided_at")) | Q(decided_at=OuterRef("decided_at"), pk__gt=OuterRef("pk"))
    )
    return _decisions_of(counted).exclude(Exists(later))


def first_decisions(counted: Q) -> QuerySet[Decision]:
    """Each application's first grant, rejection or dismissal: the end of its handling time."""
    earlier = Decision.objects.filter(application_id=OuterRef("application_id"), outcome__in=OUTCOMES).filter(
        Q(decided_at__lt=OuterRef("decided_at")) | Q(decided_at=OuterRef("decided_at"), pk__lt=OuterRef("pk"))
    )
    return _decisions_of(counted).exclude(Exists(earlier))


@dataclass
class Money:
    applications: int = 0
    requested: Decimal = Decimal("0")
    granted_count: int = 0
    granted: Decimal = Decimal("0")


@dataclass
class Outcomes:
    granted: int = 0
    rejected: int = 0
    dismissed: int = 0
    granted_amount: Decimal = Decimal("0")

    @property
    def decided(self) -> int:
        return self.granted + self.rejected + self.dismissed


@dataclass
class HandlingTime:
    decided: int = 0
    within_target: int = 0
    average_days: Decimal | None = None
    longest_days: int | None = None

    @property
    def share_within(self) -> Decimal | None:
        return Decimal(self.within_target * 100) / self.decided if self.decided else None


@dataclass
class Reports:
    on_time: int = 0
    late: int = 0
    missing: int = 0

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.missing

    @property
    def share_on_time(self) -> Decimal | None:
        return Decimal(self.on_time * 100) / self.due if self.due else None


@dataclass
class Statistics:
    calls: list[Call]
    per_call: dict[uuid.UUID, Money] = field(default_factory=dict)
    per_county: dict[str, Money] = field(default_factory=dict)
    # (scheme name, track name or "") → outcomes
    per_track: dict[tuple[str, str], Outcomes] = field(default_factory=dict)
    handling: dict[uuid.UUID, HandlingTime] = field(default_factory=dict)
    reports: dict[uuid.UUID, Reports] = field(default_factory=dict)

    @property
    def total(self) -> Money:
        total = Money()
        for figures in self.per_call.values():
            total.applications += figures.applications
            total.requested += figures.requested
            total.granted_count += figures.granted_count
            total.granted += figures.granted
        return total


def statistics_compute(*, actor, statistics_filter: StatisticsFilter | None = None,
                       calls: list[Call] | None = None, today: date | None = None) -> Statistics:
    """Every figure of the page for the calls (of `calls`, else all) the filter covers, in
    a fixed number of queries. Anyone who is not Brå staff gets nothing."""
    f = statistics_filter or StatisticsFilter()
    if not is_staff_reader(actor):
        return Statistics(calls=[])
    calls = calls_for(f, calls)
    stats = Statistics(calls=calls)
    call_ids = [c.pk for c in calls]
    if not call_ids:
        return stats
    barred = barred_case_ids(actor)
    applications = Application.objects.filter(_counted("", call_ids, barred))
    decisions = _counted("application__", call_ids, barred)

    # Applications and what they asked for, per call and county.
    for asked in (applications.annotate(county=_county()).values("call_id", "county").order_by()
                  .annotate(n=Count("pk"), requested=Sum(_requested()))):
        for figures in (stats.per_call.setdefault(asked["call_id"], Money()),
                        stats.per_county.setdefault(asked["county"] or NO_COUNTY, Money())):
            figures.applications += asked["n"]
            figures.requested += asked["requested"] or 0

    # Outcomes and granted amounts, per call, track and county.
    decided = (current_decisions(decisions).annotate(county=_application_county())
               .values("application__call_id", "application__call__scheme__name", "application__track__name",
                       "county", "outcome")
               .order_by().annotate(n=Count("pk"), amount=Sum("amount")))
    for row in decided:
        key = (row["application__call__scheme__name"], row["application__track__name"] or "")
        outcomes = stats.per_track.setdefault(key, Outcomes())
        setattr(outcomes, row["outcome"], getattr(outcomes, row["outcome"]) + row["n"])
        if row["outcome"] == Decision.Outcome.GRANTED:
            outcomes.granted_amount += row["amount"] or 0
            for figures in (stats.per_call.setdefault(row["application__call_id"], Money()),
                            stats.per_county.setdefault(row["county"] or NO_COUNTY, Money())):
                figures.granted_count += row["n"]
                figures.granted += row["amount"] or 0

    # Handling time, registration to first decision, against the call's target.
    days = DaysBetween(_local_day("decided_at"), _local_day("application__submitted_at"))
    timed = (first_decisions(decisions).annotate(days=days)
             .values("application__call_id").order_by()
             .annotate(n=Count("pk"), within=Count("pk", filter=Q(days__lte=F("application__call__target_days"))),
                       average=Avg("days"), longest=Max("days")))
    for time in timed:
        stats.handling[time["application__call_id"]] = HandlingTime(
            decided=time["n"], within_target=time["within"], longest_days=time["longest"],
            average_days=Decimal(str(time["average"])) if time["average"] is not None else None)

    _reports_compute(stats, applications, today or stockholm_today())
    return stats


def _reports_compute(stats: Statistics, applications: QuerySet[Application], today: date) -> None:
    """Final reports on time, late or missing, per call. The database compares each first
    submission with the due date before its working-day move; only the few that came (or
    are missing) within a week after that date are grouped by the two dates and judged
    here against the moved deadline (arenden.calendar, Swedish holidays)."""
    first_report = (Report.objects.filter(application_id=OuterRef("pk"), kind=Report.Kind.FINAL)
                    .order_by("submitted_at").values("submitted_at")[:1])
    due = MonthsAfter(F("end_date"), months=settings.BIDRAG_REPORT_DUE_MONTHS)
    margin = timedelta(days=MOST_DAYS_MOVED)
    reported = applications.filter(status__in=REPORTING, end_date__isnull=False).annotate(
        reported_at=Subquery(first_report)).annotate(reported_on=_local_day("reported_at"), due_on=due)
    bucket = Case(
        When(reported_on__isnull=False, reported_on__lte=F("due_on"), then=Value("on_time")),
        When(reported_on__isnull=False, reported_on__gt=F("due_on") + margin, then=Value("late")),
        When(reported_on__isnull=False, then=Value("edge")),
        When(due_on__gte=today, then=Value("not_due")),
        When(due_on__lt=today - margin, then=Value("missing")),
        default=Value("edge_missing"),
        output_field=CharField(),
    )
    edge = Q(bucket__in=["edge", "edge_missing"])
    rows = (reported.annotate(bucket=bucket)
            .annotate(edge_due=Case(When(edge, then=F("due_on")), default=None, output_field=DateField()),
                      edge_reported=Case(When(edge, then=F("reported_on")), default=None, output_field=DateField()))
            .values("call_id", "bucket", "edge_due", "edge_reported").order_by().annotate(n=Count("pk")))
    for row in rows:
        figures = stats.reports.setdefault(row["call_id"], Reports())
        kind = row["bucket"]
        if kind in ("edge", "edge_missing"):
            deadline = working_deadline(row["edge_due"])
            if kind == "edge":
                kind = "on_time" if row["edge_reported"] <= deadline else "late"
            else:
                kind = "missing" if deadline < today else "not_due"
        if kind != "not_due":
            setattr(figures, kind, getattr(figures, kind) + row["n"])
