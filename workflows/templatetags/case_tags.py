from django import template
from django.conf import settings

from bidrag.models import Appeal, Decision
from bidrag.services.reconsiderations import decision_in_force, is_reconsiderable, open_reconsideration

from .. import appeals, beside, policy
from ..flows import PROPOSE_RECONSIDERATION

register = template.Library()


@register.inclusion_tag("workflows/_appeals.html")
def appeals_section(application, user):
    """The case's appeals and what `user` may do with them; nothing before a decision."""
    has_decision = application.decisions.exclude(outcome=Decision.Outcome.APPEAL_DISMISSED).exists()
    listed = list(Appeal.objects.filter(decision__application=application).select_related("decision", "covers"))
    may_handle = appeals.may(user, application)
    return {
        "application": application,
        "appeals": listed,
        # FL 38 §: before forwarding, the officer considers changing the decision themselves.
        "may_reconsider": bool(listed) and is_reconsiderable(application)
        and policy.may_take(actor=user, application=application, action=PROPOSE_RECONSIDERATION),
        "show": has_decision or listed,
        "may_register": has_decision and may_handle,
        "may_forward": may_handle,
        "may_dismiss": appeals.may(user, application, dismiss=True),
        "default_court": settings.APPEAL_COURT,
    }


@register.inclusion_tag("workflows/_clocks.html")
def clocks_section(application, user, staff=False):
    """FL 9, 11 and 12 §§ on the case, for staff (`staff`) or the applicant."""
    from arenden.calendar import stockholm_today
    from bidrag.services import clocks as clock_rules

    from .. import beside, policy

    undecided = application.status in clock_rules.UNDECIDED
    demands = list(application.decision_demands.all())
    notices = list(application.delay_notices.all())
    allowed_from = clock_rules.demand_allowed_from(application)
    open_demand = any(d.answer == "" for d in demands)
    return {
        "application": application,
        "show": bool(application.submitted_at) and (undecided or demands or notices),
        "staff": staff,
        "target": clock_rules.target_date(application) if staff else None,
        "at_risk": clock_rules.at_risk(application),
        "allowed_from": allowed_from if undecided and not staff else None,
        "demands": demands,
        "notices": notices,
        "may_demand": (not staff and undecided and not open_demand and allowed_from is not None
                       and stockholm_today() >= allowed_from and beside.may(policy.check_decision_demand, user,
                                                                             application)),
        "may_refuse": staff and open_demand and beside.may(policy.check_demand_refusal, user, application),
        "may_notify": staff and undecided and beside.may(policy.check_delay_notice, user, application),
    }


@register.inclusion_tag("workflows/_correction.html")
def correction_section(application, user):
    """The latest sent decision, for a decision maker who may correct it (FL 36 §)."""
    from .. import beside, policy

    latest = application.decisions.filter(corrections__isnull=True).order_by("-decided_at").first()
    may = latest is not None and beside.may(policy.check_correction, user, application)
    return {"application": application, "decision": latest if may else None}


@register.simple_tag
def money_in_play(application) -> dict:
    """The amounts a case officer weighs at a glance: proposed (the open proposal), granted
    (the decision in force) and paid so far."""
    from django.db.models import Sum

    from bidrag.models import Disbursement

    proposal = application.proposals.filter(is_open=True).exclude(amount=None).order_by("-proposed_at").first()
    granted = (application.decisions.filter(outcome=Decision.Outcome.GRANTED, corrections__isnull=True)
               .order_by("-decided_at").values_list("amount", flat=True).first())
    paid = application.disbursements.filter(status=Disbursement.Status.PAID).aggregate(total=Sum("amount"))["total"]
    return {"proposed": proposal.amount if proposal else None, "granted": granted, "paid": paid}


@register.inclusion_tag("workflows/_reconsideration.html")
def reconsideration_section(application, user, staff=False):
    """FL 37–39 §§ on a case: its reconsiderations, the decision in force and what `user` may
    do: ask (the firmatecknare, on the applicant's page), register a letter asking, propose
    the decision changed, answer that it stands (staff, on the case page)."""
    listed = list(application.reconsiderations.select_related("decision", "result", "requested_by", "opened_by"))
    in_force = decision_in_force(application)
    pending = open_reconsideration(application)
    proposed = application.proposals.filter(is_open=True, kind="reconsideration").exists()
    reconsiderable = in_force is not None and is_reconsiderable(application)

    def may(check) -> bool:
        return reconsiderable and beside.may(check, user, application)

    return {
        "application": application,
        "staff": staff,
        "show": bool(listed) or in_force is not None,
        "reconsiderations": listed,
        "in_force": in_force,
        "pending": pending,
        "may_request": not staff and pending is None and may(policy.check_reconsideration_request),
        "may_register": staff and pending is None and may(policy.check_reconsideration_letter),
        "may_propose": staff and not proposed and reconsiderable
        and policy.may_take(actor=user, application=application, action=PROPOSE_RECONSIDERATION),
        "may_keep": staff and pending is not None and not proposed and may(policy.check_reconsideration_answer),
    }
