"""The clocks of förvaltningslagen on an application (FL 9, 11 and 12 §§).

* FL 11 §: when the decision risks being considerably delayed, Brå tells the applicant,
  with the reason and when a decision is now expected. The call's `target_days` (from
  registration to decision) is the mark; a case within two weeks of it, or past it, is
  at risk and shows so to staff.
* FL 12 §: six months after submission without a decision, the applicant may demand one
  in writing; within four weeks Brå decides the case or refuses the demand by a decision of
  its own. A decision on the case answers the demand.

Not steps of the application's flow (the status does not change): workflows.clocks locks
the application and its case, applies the policy and calls these in its transaction.
"""

from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arenden.actors import Actor
from arenden.calendar import months_after, stockholm_today, working_deadline
from arenden.errors import TransitionNotAllowed, ValidationFailed
from arenden.formatting import day
from arenden.models import DiariumEntry

from ..events import Event
from ..models import Application, Decision, DecisionDemand, DelayNotice
from ..models.application import WITHDRAWABLE, Status
from .common import diarise, notify_applicant, record_beside_flow
from .letters import letter_queue

# Before a decision on the case: the states a demand or a delay notice belongs to.
UNDECIDED = tuple(s for s in WITHDRAWABLE if s != Status.DRAFT)
DEMAND_ANSWER_PERIOD = timedelta(weeks=4)
RISK_MARGIN = timedelta(days=14)


def demand_allowed_from(application: Application) -> date | None:
    """FL 12 §: the first day the applicant may demand a decision (six months after submission)."""
    if application.submitted_at is None:
        return None
    return months_after(timezone.localdate(application.submitted_at), 6)


def target_date(application: Application) -> date | None:
    """The day Brå aims to have decided by (FL 9 §), from the submission and the call's target."""
    if application.submitted_at is None:
        return None
    return timezone.localdate(application.submitted_at) + timedelta(days=application.call.target_days)


def at_risk(application: Application, today: date | None = None) -> bool:
    """FL 11 §: undecided and within two weeks of the target, or past it."""
    target = target_date(application)
    today = today or stockholm_today()
    return application.status in UNDECIDED and target is not None and today >= target - RISK_MARGIN


def open_demand(application: Application) -> DecisionDemand | None:
    return application.decision_demands.filter(answer=DecisionDemand.Answer.OPEN).first()


def decision_demand(*, actor: Actor, application: Application) -> DecisionDemand:
    """FL 12 §: the applicant demands that the case be decided."""
    if application.status not in UNDECIDED:
        raise TransitionNotAllowed(_("Ärendet är redan avgjort."))
    allowed_from = demand_allowed_from(application)
    if allowed_from is None or stockholm_today() < allowed_from:
        raise TransitionNotAllowed(
            _("Ni kan begära att ärendet avgörs när det har gått sex månader sedan ansökan kom in, från den "
              "%(day)s (förvaltningslagen 12 §).") % {"day": day(allowed_from) if allowed_from else "–"})
    if open_demand(application) is not None:
        raise TransitionNotAllowed(_("Ni har redan begärt att ärendet avgörs. Brå svarar inom fyra veckor."))
    demand = DecisionDemand.objects.create(
        application=application, made_by=actor, due_on=working_deadline(stockholm_today() + DEMAND_ANSWER_PERIOD))
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.INCOMING,
            description="Begäran om att ärendet ska avgöras (12 § förvaltningslagen)", kind=DiariumEntry.Kind.LETTER)
    record_beside_flow(actor=actor, application=application, event=Event.DEMAND_DECISION,
                       payload={"demand": str(demand.pk), "due_on": demand.due_on.isoformat()})
    notify_applicant(application=application, kind="decision_demand", context={"due_on": demand.due_on})
    return demand


def demands_answered_by_decision(*, application: Application) -> None:
    """A decision on the case answers an open demand (called with the decision's rows)."""
    application.decision_demands.filter(answer=DecisionDemand.Answer.OPEN).update(
        answer=DecisionDemand.Answer.DECIDED, answered_at=timezone.now())


def demand_refuse(*, actor: Actor, application: Application, reasons: str) -> Decision:
    """FL 12 §: refuse the demand by a decision of its own, with reasons (FL 32 §)."""
    demand = open_demand(application)
    if demand is None:
        raise TransitionNotAllowed(_("Det finns ingen obesvarad begäran om avgörande i ärendet."))
    if not reasons.strip():
        raise ValidationFailed(_("Skälen för beslutet måste anges (FL 32 §)."), details={"field": "reasons"})
    decision = Decision.objects.create(
        application=application, outcome=Decision.Outcome.DEMAND_REFUSED, reasons=reasons.strip(),
        decided_by=actor, presented_by=actor, decided_at=timezone.now(),
    )
    DecisionDemand.objects.filter(pk=demand.pk).update(
        answer=DecisionDemand.Answer.REFUSED, answered_at=timezone.now(), refusal=decision)
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.OUTGOING,
            description="Beslut: begäran om avgörande avslagen", kind=DiariumEntry.Kind.DECISION)
    record_beside_flow(actor=actor, application=application, event=Event.REFUSE_DEMAND,
                       payload={"demand": str(demand.pk), "decision": str(decision.pk)})
    letter_queue(decision)
    notify_applicant(application=application, kind="demand_refused", context={"reasons": decision.reasons})
    return decision


def delay_notify(*, actor: Actor, application: Application, reason: str, expected_by: date) -> DelayNotice:
    """FL 11 §: tell the applicant the decision is delayed, why, and when it is now expected."""
    if application.status not in UNDECIDED:
        raise TransitionNotAllowed(_("Ärendet är redan avgjort."))
    problems = {}
    if not reason.strip():
        problems["reason"] = _("Skriv varför beslutet dröjer (förvaltningslagen 11 §).")
    if expected_by <= stockholm_today():
        problems["expected_by"] = _("Ange en dag efter i dag.")
    if problems:
        field, message = next(iter(problems.items()))
        raise ValidationFailed(message, details={"field": field, "fields": {k: [v] for k, v in problems.items()}})
    notice = DelayNotice.objects.create(application=application, sent_by=actor, reason=reason.strip(),
                                        expected_by=expected_by)
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.OUTGOING,
            description="Underrättelse om försening (11 § förvaltningslagen)", kind=DiariumEntry.Kind.LETTER)
    record_beside_flow(actor=actor, application=application, event=Event.NOTIFY_DELAY,
                       payload={"notice": str(notice.pk), "expected_by": expected_by.isoformat()})
    notify_applicant(application=application, kind="delay_notice",
                     context={"reason": notice.reason, "expected_by": expected_by})
    return notice
