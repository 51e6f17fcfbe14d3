"""Template questions to the flow, for pages of other apps that must offer only what the
door would allow (DESIGN.md §2: bidrag never imports workflows; its templates may ask).

    {% load flow_tags %}{% may_take application "start" "submit" as may_submit %}
"""

from datetime import date
from decimal import Decimal

from django import template

from arenden.journal import CaseEvent
from bidrag.events import Event

from .. import door, policy

register = template.Library()


@register.simple_tag(takes_context=True)
def may_take(context, application, node, action) -> bool:
    """Whether the door's policy would let the person viewing the page take `action` at `node`."""
    _node, spec = door.find(node or None, action)
    request = context.get("request")
    if spec is None or request is None:
        return False
    return policy.may_take(actor=request.user, application=application, action=spec)


# What the person taking an action must see to take it (issue 7): the decider the proposal
# decided on, finance the decision the money rests on and where it goes.
_DECIDING = {Event.DECIDE, Event.DISMISS, Event.CLAIM_REPAYMENT, Event.WAIVE_REPAYMENT, Event.RETURN_PROPOSAL,
             Event.RECONSIDER}
_PAYING = {Event.PREPARE_DISBURSEMENT, Event.ATTEST_DISBURSEMENT, Event.PAY_DISBURSEMENT, Event.STOP_DISBURSEMENT}


@register.simple_tag
def action_basis(application, action) -> dict:
    """{"proposal": the open proposal} for a decider's action; {"granted": the decision in
    force, "paid": the total paid, "disbursement": the one under way} for finance's."""
    from bidrag.models import Decision, Disbursement

    if action in _DECIDING:
        proposal = application.proposals.filter(is_open=True).select_related("proposed_by").first()
        return {"proposal": proposal} if proposal else {}
    if action in _PAYING:
        granted = (application.decisions.filter(outcome=Decision.Outcome.GRANTED)
                   .select_related("decided_by", "presented_by").order_by("-decided_at").first())
        disbursements = list(application.disbursements.select_related("prepared_by", "attested_by"))
        paid = sum((d.amount for d in disbursements if d.status == Disbursement.Status.PAID), start=Decimal(0))
        under_way = next((d for d in disbursements
                          if d.status in (Disbursement.Status.PLANNED, Disbursement.Status.ATTESTED)), None)
        from bidrag.payments.accounts import account_of

        # Before preparation: the account the disbursement would be prepared for (or none);
        # after: the one copied onto the disbursement, which is the one paid.
        return {"granted": granted, "paid": paid, "disbursement": under_way, "payment": True,
                "account": None if under_way else account_of(application.organisation)}
    return {}


# The letters exchanged in a case, from its journal: Brå's requests, the applicant's answers,
# the registrar's note at registration (issue 7: "appear nowhere on the case page").
_CORRESPONDENCE = {
    Event.REGISTER: ("note", "note"),
    Event.REQUEST_SUPPLEMENT: ("request", "request"),
    Event.COMMUNICATE: ("request", "request"),
    Event.RECEIVE_SUPPLEMENT: ("answer", "answer"),
    Event.RECEIVE_COMMENTS: ("answer", "answer"),
    Event.DEADLINE_PASSED: ("deadline", "as_is"),
    # Items registered by hand (e-mail, letters, tjänsteanteckningar): their description.
    CaseEvent.REGISTER_ITEM: ("item", "description"),
}


@register.simple_tag
def correspondence(application) -> list[dict]:
    """Each request, answer and registration note of the case, oldest first: who, when, what."""
    from arenden.models import JournalEvent

    rows = []
    events = (JournalEvent.objects.filter(case_id=application.case_id, action__in=list(_CORRESPONDENCE))
              .select_related("actor").order_by("seq"))
    for event in events:
        kind, key = _CORRESPONDENCE[event.action]  # type: ignore[index]  # StrEnum keys match their values
        text = (event.payload or {}).get(key, "") if key else ""
        if kind == "note" and not text:
            continue  # registered without a note: nothing to read
        if kind == "item" and (event.payload or {}).get("note"):
            text = f"{text}\n{event.payload['note']}"  # what was said (FL 27 §)
        deadline = (event.payload or {}).get("deadline")
        rows.append({"event": event, "kind": kind, "text": text,
                     "deadline": date.fromisoformat(deadline) if isinstance(deadline, str) and deadline else None})
    return rows
