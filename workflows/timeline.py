"""The applicant's status page in plain Swedish: what has happened, what happens next, by
when, and whom to ask (issue 6).

What has happened is read from the case journal (one query), so the page and the audit
trail never disagree; Brå's internal steps (claims, proposals, attestation) are left out:
the applicant sees what was asked of them, what they answered, and what Brå decided and
paid. What happens next follows from the status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from arenden.calendar import months_after, working_deadline
from arenden.formatting import day, moment, money
from arenden.models import JournalEvent
from bidrag.events import Event
from bidrag.models import Application
from bidrag.models.application import Status


@dataclass(frozen=True)
class Happened:
    at: datetime
    title: str
    text: str = ""  # the words exchanged: Brå's request, the applicant's own answer


@dataclass(frozen=True)
class Next:
    title: str | Promise
    text: str | Promise
    due: str = ""  # "21 februari 2027" or "" when nothing is due from anyone by a date
    yours: bool = False  # the applicant has to act


@dataclass
class Timeline:
    happened: list[Happened] = field(default_factory=list)
    next: Next | None = None
    report_due: date | None = None


# What the applicant is told of each journal event.
_TITLES = {
    Event.SUBMIT: _("Ansökan skickades in"),
    Event.REGISTER: _("Ansökan registrerades"),
    Event.REQUEST_SUPPLEMENT: _("Brå begärde komplettering"),
    Event.RECEIVE_SUPPLEMENT: _("Ni skickade komplettering"),
    Event.START_ASSESSMENT: _("Bedömningen började"),
    Event.COMMUNICATE: _("Brå gav er möjlighet att yttra er (FL 25 §)"),
    Event.RECEIVE_COMMENTS: _("Ni skickade ert yttrande"),
    Event.DEADLINE_PASSED: _("Svarsfristen gick ut utan svar"),
    Event.DECIDE: _("Brå fattade beslut"),
    Event.DISMISS: _("Brå avvisade ansökan"),
    Event.PAY_DISBURSEMENT: _("Brå betalade ut bidraget"),
    Event.STOP_DISBURSEMENT: _("Utbetalningen stoppades"),
    Event.REQUEST_CHANGE: _("Ni ändrade budgeten"),
    Event.APPROVE_CHANGE: _("Brå godkände ändringen av budgeten"),
    Event.REJECT_CHANGE: _("Brå avslog ändringen av budgeten"),
    Event.SUBMIT_INTERIM_REPORT: _("Ni lämnade en delrapport"),
    Event.SUBMIT_REPORT: _("Ni lämnade slutrapporten"),
    Event.RETURN_REPORT: _("Brå bad om komplettering av slutrapporten"),
    Event.APPROVE_REPORT: _("Brå godkände slutrapporten"),
    Event.CLAIM_REPAYMENT: _("Brå beslutade om återbetalning"),
    Event.REGISTER_REPAYMENT: _("Återbetalningen registrerades"),
    Event.WAIVE_REPAYMENT: _("Brå efterskänkte återbetalningen"),
    Event.WITHDRAW: _("Ansökan återkallades"),
    Event.REGISTER_APPEAL: _("Ert överklagande registrerades"),
    Event.FORWARD_APPEAL: _("Brå lämnade över ert överklagande till domstolen"),
    Event.DISMISS_APPEAL: _("Brå avvisade överklagandet som för sent inkommet"),
    Event.NOTIFY_DELAY: _("Brå meddelade att beslutet dröjer (FL 11 §)"),
    Event.DEMAND_DECISION: _("Ni begärde att ärendet avgörs (FL 12 §)"),
    Event.REFUSE_DEMAND: _("Brå avslog begäran om avgörande (FL 12 §)"),
    Event.CORRECT_DECISION: _("Brå rättade ett beslut (FL 36 §)"),
    Event.REQUEST_RECONSIDERATION: _("Er begäran om omprövning kom in (FL 37 §)"),
    Event.RECONSIDER: _("Brå ändrade beslutet efter omprövning (FL 37 §)"),
    Event.KEEP_DECISION: _("Brå prövade beslutet på nytt: det står fast"),
}


def report_due(application: Application) -> date | None:
    """The final report is due BIDRAG_REPORT_DUE_MONTHS after the project's end date, moved
    to the next working day when that is a weekend or holiday (arenden.calendar)."""
    if application.end_date is None:
        return None
    return working_deadline(months_after(application.end_date, settings.BIDRAG_REPORT_DUE_MONTHS))


def _text(action: str, payload: dict) -> str:
    if action in (Event.REQUEST_SUPPLEMENT, Event.COMMUNICATE):
        return payload.get("request", "")
    if action in (Event.RECEIVE_SUPPLEMENT, Event.RECEIVE_COMMENTS):
        return payload.get("answer", "")
    if action == Event.DEADLINE_PASSED:
        return payload.get("as_is", "")
    if action == Event.PAY_DISBURSEMENT and payload.get("amount") is not None:
        return money(payload["amount"])
    if action == Event.RETURN_REPORT:
        return payload.get("comment", "")
    if action == Event.REQUEST_RECONSIDERATION:
        return payload.get("text", "")
    if action == Event.KEEP_DECISION:
        return payload.get("answer", "")
    if action == Event.REQUEST_CHANGE and payload.get("amount") is not None:
        return f"{money(payload['amount'])}: {payload.get('from_line', '')} → {payload.get('to_line', '')}"
    if action in (Event.APPROVE_CHANGE, Event.REJECT_CHANGE):
        return payload.get("note", "")
    if action == Event.CLAIM_REPAYMENT and payload.get("amount") is not None:
        return money(payload["amount"])
    return ""


def _next(application: Application, *, granted, due: date | None) -> Next:
    status = application.status
    call = application.call
    if status == Status.DRAFT:
        return Next(_("Skicka in ansökan"), _("En firmatecknare signerar och skickar in ansökan innan utlysningen stänger."),
                    moment(call.closes_at), yours=True)
    if status in (Status.SUBMITTED, Status.IN_REVIEW):
        return Next(_("Brå kontrollerar ansökan"),
                    _("Brå registrerar ansökan och kontrollerar att den är komplett. Saknas något får ni en begäran "
                      "om komplettering med e-post och här."))
    if status == Status.AWAITING_SUPPLEMENT:
        return Next(_("Skicka kompletteringen"),
                    _("Svara på Brås begäran med text eller bifogad fil. Kommer inget svar bedöms ansökan som den är."),
                    day(application.deadline), yours=True)
    if status == Status.IN_ASSESSMENT:
        return Next(_("Brå bedömer ansökan"),
                    _("Ansökan bedöms efter relevans, genomförbarhet och bärkraft och jämförs med andra ansökningar "
                      "inom de medel som finns. Innan Brå beslutar får ni ta del av underlag som kan påverka beslutet."))
    if status == Status.AWAITING_COMMENTS:
        return Next(_("Yttra er"), _("Ni kan lämna synpunkter på underlaget innan Brå beslutar."),
                    day(application.deadline), yours=True)
    if status == Status.DECISION_PROPOSED:
        return Next(_("Brå fattar beslut"), _("Ni får beslutet med e-post och kan läsa det här."))
    if status == Status.GRANTED:
        return Next(_("Brå betalar ut bidraget"),
                    _("Brå betalar ut %(amount)s till organisationens konto kort efter beslutet.") % {"amount": money(granted)})
    if status == Status.IN_PROGRESS:
        text = _("Genomför projektet enligt ansökan och beslutets villkor. Slutrapporten redovisar resultat och vad "
                 "varje budgetrad faktiskt kostade, med den ekonomiska redovisningen bifogad.")
        if due and due < timezone.localdate():
            text = _("Slutrapporten är försenad. Lämna den så snart som möjligt; utebliven rapport kan leda till återkrav.")
        return Next(_("Lämna slutrapport"), text, day(due), yours=True)
    if status == Status.CHANGE_REVIEW:
        return Next(_("Brå prövar er ändringsansökan"),
                    _("Handläggaren prövar om pengarna får flyttas mellan budgetraderna. Ni får besked med e-post och här."))
    if status == Status.REPORT_REVIEW:
        return Next(_("Brå granskar slutrapporten"), _("Ni får besked när rapporten är granskad."))
    if status == Status.REPAYMENT_CLAIMED:
        return Next(_("Betala tillbaka"),
                    _("Betala tillbaka beloppet i beslutet om återkrav och ange ärendets diarienummer."), yours=True)
    if application.reconsiderations.filter(state="open").exists():
        return Next(_("Brå omprövar beslutet"),
                    _("Brå prövar beslutet på nytt (37 § förvaltningslagen). Ett nytt beslut får ni med e-post och här; "
                      "står beslutet fast ser ni beskedet här."))
    return Next(_("Ärendet är avslutat"), _("Inget mer behöver göras. Ni kan alltid läsa ansökan, beslut och handlingar här."))


def applicant_timeline(application: Application, *, decisions=()) -> Timeline:
    """Everything the applicant's status page says about the course of the case."""
    events = JournalEvent.objects.filter(case_id=application.case_id, action__in=list(_TITLES)).order_by("seq")
    happened = [
        Happened(at=e.occurred_at, title=str(_TITLES[Event(e.action)]), text=_text(e.action, e.payload or {}))
        for e in events.only("occurred_at", "action", "payload")
    ]
    granted = next((d.amount for d in decisions if d.outcome == "granted"), None)
    due = report_due(application) if granted is not None else None
    return Timeline(happened=happened, next=_next(application, granted=granted, due=due), report_due=due)

