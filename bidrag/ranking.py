"""Reads for assessment and ranking (issue 7), scoped to the acting user.

`case_scoring` is the case page's table of scores; `call_ranking` ranks a call's
applications (in assessment or later) by their mean total score, with the requested,
proposed and decided amounts, and `allocate` funds them from the top against a budget,
with the simulator's changes (a partial amount, a cut row) applied in memory only.

The ranking reads a call of thousands in a constant number of queries: one for the rows,
each amount a correlated subquery on an indexed foreign key, the scores' mean from
Assessment.total (kept with the scores), nothing per row afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from arenden.models import ConflictOfInterest, JournalEvent

from .events import ASSESSMENT_EVENTS
from .models import Application, Assessment, Call, CallTrack, Decision, Proposal
from .models.application import Status
from .models.assessment import criteria_of
from .roles import Role, user_roles
from .selectors import applications_visible_to, requested_total_subquery

# Who reads the ranking: those who assess and those who decide; auditors read everything.
RANKING_READERS = frozenset({Role.CASE_OFFICER, Role.DECISION_MAKER, Role.AUDITOR})

# In assessment or later: the applications that compete for the call's money. Dismissed
# and withdrawn ones never reached (or left) the competition.
RANKED_STATES = (
    Status.IN_ASSESSMENT, Status.AWAITING_COMMENTS, Status.DECISION_PROPOSED, Status.GRANTED, Status.REJECTED,
    Status.IN_PROGRESS, Status.CHANGE_REVIEW, Status.REPORT_REVIEW, Status.REPAYMENT_CLAIMED, Status.CLOSED,
)
DECIDED_STATES = frozenset(RANKED_STATES[3:])
MONEY = DecimalField(max_digits=14, decimal_places=2)
SCORE = DecimalField(max_digits=8, decimal_places=2)


def may_read_ranking(actor) -> bool:
    return bool(actor is not None and actor.is_authenticated and user_roles(actor) & RANKING_READERS)


# --- the case page ---------------------------------------------------------------------


def case_scoring(*, application: Application) -> dict[str, Any]:
    """The scores of one application as the case page shows them: one row per assessor,
    one cell per criterion of the scheme (in its order), the mean per criterion. Two queries."""
    criteria = criteria_of(application.call)
    assessments = list(
        Assessment.objects.filter(application=application).select_related("assessor").prefetch_related("scores")
    )
    codes = [c["code"] for c in criteria]
    # A criterion no longer in the scheme still shows where it was scored.
    for assessment in assessments:
        for s in assessment.scores.all():
            if s.criterion not in codes:
                codes.append(s.criterion)
                criteria.append({"code": s.criterion, "name": s.criterion_name, "description": ""})
    rows: list[dict[str, Any]] = []
    for assessment in assessments:
        by_code = {s.criterion: s for s in assessment.scores.all()}
        rows.append({"assessment": assessment, "cells": [by_code.get(code) for code in codes]})
    means = []
    for i in range(len(codes)):
        values = [row["cells"][i].value for row in rows if row["cells"][i] is not None]
        means.append(Decimal(sum(values)) / len(values) if values else None)
    scale = application.call.score_scale_max
    return {
        "criteria": criteria,
        "rows": rows,
        "means": means,
        "mean_total": (Decimal(sum(a.total for a in assessments)) / len(assessments)) if assessments else None,
        "scale_max": scale,
        "total_max": scale * len(criteria_of(application.call)),
    }


# --- the ranking -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Case:
    pk: Any
    diarienummer: str | None


@dataclass(frozen=True, slots=True)
class _Organisation:
    name: str


@dataclass(frozen=True, slots=True)
class RankedApplication:
    """What the ranking shows of an application: read as plain values, not as three model
    instances per row (a call of 2 000 would build 6 000 to show 25)."""

    pk: Any
    title: str
    status: str
    track_id: Any
    case: _Case
    organisation: _Organisation

    @property
    def case_id(self):
        return self.case.pk

    def get_status_display(self) -> str:
        return str(Status(self.status).label)


@dataclass
class RankedRow:
    application: RankedApplication
    rank: int
    mean_score: Decimal | None
    assessors: int
    requested: Decimal
    proposal_outcome: str | None
    proposed: Decimal | None
    decided_outcome: str | None
    decided: Decimal | None
    barred: bool = False  # the reader declared jäv on the case (FL 16 §): amounts and scores hidden
    took_part: bool = False  # the reader took part in its assessment: may not decide it (four eyes)
    # What the allocation gives it (allocate()):
    default_amount: Decimal = Decimal("0")
    amount: Decimal = Decimal("0")
    adjusted: bool = False
    cut: bool = False
    cumulative: Decimal = Decimal("0")
    funded: str = ""  # "full", "partial", "none" (outside the budget), "zero" (nothing to fund)
    remaining_at_row: Decimal = Decimal("0")

    @property
    def fixed(self) -> bool:
        """Decided: the simulator cannot move it."""
        return self.application.status in DECIDED_STATES

    @property
    def decidable(self) -> bool:
        return self.application.status == Status.DECISION_PROPOSED


@dataclass
class Ranking:
    call: Call
    track: CallTrack | None
    tracks: list[CallTrack]
    criteria: list[dict]
    total_max: int
    rows: list[RankedRow] = field(default_factory=list)


def _ranked_applications(*, actor, call: Call, track: CallTrack | None) -> QuerySet[Application, Any]:
    latest_decision = Decision.objects.filter(
        application=OuterRef("pk"), outcome__in=[Decision.Outcome.GRANTED, Decision.Outcome.REJECTED]
    ).order_by("-decided_at")
    scored = Assessment.objects.filter(application=OuterRef("pk")).values("application")
    rows = (
        applications_visible_to(actor)
        .filter(call=call, status__in=RANKED_STATES)
        .annotate(
            requested_total=requested_total_subquery(),
            mean_score=Subquery(scored.annotate(m=Avg("total", output_field=SCORE)).values("m")[:1]),
            assessor_count=Coalesce(Subquery(scored.annotate(n=Count("pk")).values("n")[:1]), Value(0),
                                    output_field=IntegerField()),
            # A join, not a subquery: an application has at most one open proposal
            # (the constraint one_open_proposal_per_application), so no row is repeated.
            open_decision=FilteredRelation(
                "proposals", condition=Q(proposals__is_open=True, proposals__kind=Proposal.Kind.DECISION)),
            proposal_outcome=F("open_decision__outcome"),
            proposal_amount=F("open_decision__amount"),
            # Looked up only for the decided ones (a CASE evaluates its subquery only where it applies).
            decided_outcome=Case(When(status__in=DECIDED_STATES, then=Subquery(latest_decision.values("outcome")[:1]))),
            decided_amount=Case(When(status__in=DECIDED_STATES, then=Subquery(latest_decision.values("amount")[:1])),
                                output_field=MONEY),
        )
    )
    if track is not None:
        rows = rows.filter(track=track)
    # Highest mean first; unscored last; among equals, the one that came in first.
    return rows.order_by(F("mean_score").desc(nulls_last=True), "submitted_at", "id").values_list(
        "id", "title", "status", "track_id", "case_id", "case__diarienummer", "organisation__name",
        "requested_total", "mean_score", "assessor_count", "proposal_outcome", "proposal_amount", "decided_outcome",
        "decided_amount", named=True,
    )


def call_ranking(*, actor, call_id, track_id=None) -> Ranking | None:
    """The ranking of a call (or one of its tracks) for someone who may read it; None for
    anyone else or an unknown call or track (the caller answers 404 either way)."""
    if not may_read_ranking(actor):
        return None
    call = Call.objects.select_related("scheme").filter(pk=call_id).first()
    if call is None:
        return None
    tracks = list(call.tracks.all())
    track = None
    if track_id:
        track = next((t for t in tracks if str(t.pk) == str(track_id)), None)
        if track is None:
            return None
    criteria = criteria_of(call)
    ranking = Ranking(call=call, track=track, tracks=tracks, criteria=criteria,
                      total_max=call.score_scale_max * len(criteria))
    applications = list(_ranked_applications(actor=actor, call=call, track=track))
    # The reader's own few declarations and assessment events in the call, by a join: a list
    # of 2 000 case ids as parameters costs more to send than the lookup itself.
    barred = set(
        ConflictOfInterest.objects.filter(user=actor, case__application__call=call).exclude(ruling__upheld=False)
        .values_list("case_id", flat=True)
    )
    took_part = set(
        JournalEvent.objects.filter(actor_id=actor.pk, action__in=[str(e) for e in ASSESSMENT_EVENTS],
                                    case__application__call=call)
        .values_list("case_id", flat=True).distinct()
    )
    for rank, a in enumerate(applications, start=1):
        shown = RankedApplication(pk=a.id, title=a.title, status=a.status, track_id=a.track_id,
                                  case=_Case(a.case_id, a.case__diarienummer),
                                  organisation=_Organisation(a.organisation__name))
        ranking.rows.append(RankedRow(
            application=shown, rank=rank, mean_score=a.mean_score, assessors=a.assessor_count,
            requested=a.requested_total or Decimal("0"), proposal_outcome=a.proposal_outcome,
            proposed=a.proposal_amount, decided_outcome=a.decided_outcome, decided=a.decided_amount,
            barred=a.case_id in barred, took_part=a.case_id in took_part,
        ))
    return ranking


def ranking_calls(*, actor) -> list[Call]:
    """The calls a ranking reader may choose among, newest first, with their tracks."""
    if not may_read_ranking(actor):
        return []
    return list(Call.objects.select_related("scheme").prefetch_related("tracks").order_by("-opens_at"))


# --- the allocation simulator ----------------------------------------------------------


def default_amount(row: RankedRow) -> Decimal:
    """What a row asks of the budget before anyone changes it: the decided amount once
    decided (nothing if rejected), else the open proposal's (nothing if it proposes a
    refusal), else the requested amount."""
    if row.application.status in DECIDED_STATES:
        granted = row.decided_outcome == Decision.Outcome.GRANTED
        return (row.decided or Decimal("0")) if granted else Decimal("0")
    if row.proposal_outcome == Proposal.Outcome.GRANTED:
        return row.proposed or Decimal("0")
    if row.proposal_outcome == Proposal.Outcome.REJECTED:
        return Decimal("0")
    return row.requested


def allocate(rows: list[RankedRow], *, budget: Decimal, amounts: dict[str, Decimal] | None = None,
             cut: set[str] | None = None) -> dict[str, Any]:
    """Fund the rows from the top until the budget runs out: each row whose running total
    stays within the budget is funded in full; the first that does not gets what is left
    (partial), and every row after it falls outside. `amounts` (application id -> amount)
    and `cut` change undecided rows only. Changes the rows in place, writes nothing."""
    amounts, cut = amounts or {}, cut or set()
    running, line_at, left = Decimal("0"), None, budget
    changes = bool(amounts or cut)
    for row in rows:
        key = str(row.application.pk) if changes else ""
        row.default_amount = default_amount(row)
        row.cut = changes and key in cut and not row.fixed
        row.adjusted = changes and key in amounts and not row.fixed and not row.cut
        row.amount = Decimal("0") if row.cut else amounts[key] if row.adjusted else row.default_amount
        row.remaining_at_row = max(budget - running, Decimal("0"))
        running += row.amount
        row.cumulative = running
        if row.amount == 0:
            row.funded = "zero"
        elif line_at is None and running <= budget:
            row.funded = "full"
        elif line_at is None:
            row.funded = "partial" if row.remaining_at_row > 0 else "none"
            line_at = row.rank
        else:
            row.funded = "none"
        if line_at is None:
            left = budget - running
    funded = [r for r in rows if r.funded == "full"]
    return {
        "budget": budget,
        "total": running,
        "funded_count": len(funded),
        "funded_total": sum((r.amount for r in funded), Decimal("0")),
        "line_at": line_at,  # the rank of the first row the budget does not cover in full
        "left": max(left, Decimal("0")),
        "over": max(running - budget, Decimal("0")),
    }


def moved(rows: list[RankedRow], *, budget: Decimal, amounts: dict[str, Decimal], cut: set[str]) -> dict[str, list]:
    """What the changes move: rows funded in full with them that were not without them, and
    the other way round (compared with allocate() on the same rows, unchanged)."""
    simulated = {r.application.pk: r.funded for r in rows}
    baseline = [RankedRow(**{f: getattr(r, f) for f in RankedRow.__dataclass_fields__}) for r in rows]
    allocate(baseline, budget=budget)
    before = {r.application.pk: r.funded for r in baseline}
    came_in = [r for r in rows if simulated[r.application.pk] == "full" and before[r.application.pk] != "full"]
    fell_out = [r for r in rows if simulated[r.application.pk] != "full" and before[r.application.pk] == "full"
                and not r.cut]
    return {"came_in": came_in, "fell_out": fell_out}
