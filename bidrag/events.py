"""The names of everything that happens to a grant application: one name per action.

The same value names the action in the flow (workflows/flows.py), the URL of its page, the
service that carries it out (`application_<name>`, `disbursement_…`), and the journal
event it leaves. Generic case events (closing, jäv) are `arenden.journal.CaseEvent`.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from arenden.journal import CaseEvent


class Event(StrEnum):
    CREATE_DRAFT = "create_draft"
    # Draft tidying: no state change, journaled so the case's history starts at the beginning.
    CHANGE_ORGANISATION = "change_organisation"
    REQUEST_SIGNATURE = "request_signature"
    REMOVE_ATTACHMENT = "remove_attachment"
    DELETE_DRAFT = "delete_draft"
    SUBMIT = "submit"
    REGISTER = "register"
    REQUEST_SUPPLEMENT = "request_supplement"
    RECEIVE_SUPPLEMENT = "receive_supplement"
    START_ASSESSMENT = "start_assessment"
    SCORE = "score"
    COMMUNICATE = "communicate"
    RECEIVE_COMMENTS = "receive_comments"
    DEADLINE_PASSED = "deadline_passed"
    PROPOSE_DECISION = "propose_decision"
    PROPOSE_DISMISSAL = "propose_dismissal"
    PROPOSE_REPAYMENT = "propose_repayment"
    PROPOSE_WAIVER = "propose_waiver"
    RETURN_PROPOSAL = "return_proposal"
    DECIDE = "decide"
    DISMISS = "dismiss"
    # The decision's letter stored (PDF/A, S3) with its SHA-256: after the decision commits.
    ISSUE_LETTER = "issue_letter"
    # Appeals (FL 44–45 §§; HFD 2016 ref. 49): registered, then forwarded or dismissed as late.
    REGISTER_APPEAL = "register_appeal"
    FORWARD_APPEAL = "forward_appeal"
    DISMISS_APPEAL = "dismiss_appeal"
    # The clocks of förvaltningslagen: a delay notice (FL 11 §), a demand for a decision and
    # its refusal (FL 12 §).
    NOTIFY_DELAY = "notify_delay"
    DEMAND_DECISION = "demand_decision"
    REFUSE_DEMAND = "refuse_demand"
    # FL 36 §: an obvious error in a sent decision corrected by a new decision.
    CORRECT_DECISION = "correct_decision"
    # FL 37–39 §§: reconsidering a sent decision. The applicant asks (or staff register a
    # letter asking), a case officer proposes a new decision, a decision maker decides it; or
    # the officer answers that the decision stands.
    REQUEST_RECONSIDERATION = "request_reconsideration"
    PROPOSE_RECONSIDERATION = "propose_reconsideration"
    RECONSIDER = "reconsider"
    KEEP_DECISION = "keep_decision"
    PREPARE_DISBURSEMENT = "prepare_disbursement"
    ATTEST_DISBURSEMENT = "attest_disbursement"
    PAY_DISBURSEMENT = "pay_disbursement"
    # The disbursement put in a pain.001 payment file for the bank: no change of state.
    ADD_TO_PAYMENT_FILE = "add_to_payment_file"
    STOP_DISBURSEMENT = "stop_disbursement"
    REQUEST_CHANGE = "request_change"
    APPROVE_CHANGE = "approve_change"
    REJECT_CHANGE = "reject_change"
    SUBMIT_INTERIM_REPORT = "submit_interim_report"
    SUBMIT_REPORT = "submit_report"
    RETURN_REPORT = "return_report"
    APPROVE_REPORT = "approve_report"
    CLAIM_REPAYMENT = "claim_repayment"
    REGISTER_REPAYMENT = "register_repayment"
    WAIVE_REPAYMENT = "waive_repayment"
    WITHDRAW = "withdraw"
    # A team lead (arbetsledare) hands a task to a person, or back to the queue
    # (workflows.door.assign): no change of state.
    ASSIGN_TASK = "assign_task"
    UNASSIGN_TASK = "unassign_task"
    # Who took a task from the queue, and gave it back, themselves.
    CLAIM_TASK = "claim_task"
    RELEASE_TASK = "release_task"


# Taking part in the assessment: whoever did one of these on a case may not decide it
# (four eyes; Myndighetsförordningen 21 §: the decider and the föredragande are two people).
ASSESSMENT_EVENTS = frozenset(
    {
        Event.REQUEST_SUPPLEMENT,
        Event.START_ASSESSMENT,
        Event.SCORE,
        Event.COMMUNICATE,
        Event.PROPOSE_DECISION,
        Event.PROPOSE_DISMISSAL,
        Event.PROPOSE_REPAYMENT,
        Event.PROPOSE_WAIVER,
        Event.PROPOSE_RECONSIDERATION,
    }
)


# What each event in a case's journal means, in words (the journal keeps the code).
ACTION_LABELS = {
    Event.CREATE_DRAFT: _("Utkast skapat"),
    Event.CHANGE_ORGANISATION: _("Utkastet flyttat till en annan organisation"),
    Event.REQUEST_SIGNATURE: _("Firmatecknaren ombedd att skriva under"),
    Event.REMOVE_ATTACHMENT: _("Bilaga borttagen"),
    Event.DELETE_DRAFT: _("Utkast raderat"),
    Event.SUBMIT: _("Ansökan inskickad"),
    Event.REGISTER: _("Ansökan registrerad"),
    Event.REQUEST_SUPPLEMENT: _("Komplettering begärd"),
    Event.RECEIVE_SUPPLEMENT: _("Komplettering inkommen"),
    Event.START_ASSESSMENT: _("Bedömning påbörjad"),
    Event.SCORE: _("Bedömd enligt kriterierna"),
    Event.COMMUNICATE: _("Kommunicerat med sökanden (FL 25 §)"),
    Event.RECEIVE_COMMENTS: _("Yttrande inkommet"),
    Event.DEADLINE_PASSED: _("Svarstiden gick ut"),
    Event.PROPOSE_DECISION: _("Beslutsförslag lämnat"),
    Event.PROPOSE_DISMISSAL: _("Förslag om avvisning lämnat"),
    Event.PROPOSE_REPAYMENT: _("Förslag om återkrav lämnat"),
    Event.PROPOSE_WAIVER: _("Förslag om eftergift lämnat"),
    Event.RETURN_PROPOSAL: _("Förslaget återförvisat"),
    Event.DECIDE: _("Beslut fattat"),
    Event.DISMISS: _("Ansökan avvisad"),
    Event.ISSUE_LETTER: _("Beslutsbrev upprättat och arkiverat"),
    Event.REGISTER_APPEAL: _("Överklagande registrerat"),
    Event.FORWARD_APPEAL: _("Överklagandet överlämnat till domstol"),
    Event.DISMISS_APPEAL: _("Överklagandet avvisat som för sent inkommet"),
    Event.NOTIFY_DELAY: _("Sökanden underrättad om försening (FL 11 §)"),
    Event.DEMAND_DECISION: _("Sökanden begärde att ärendet avgörs (FL 12 §)"),
    Event.REFUSE_DEMAND: _("Begäran om avgörande avslogs (FL 12 §)"),
    Event.CORRECT_DECISION: _("Beslut rättat (FL 36 §)"),
    Event.REQUEST_RECONSIDERATION: _("Begäran om omprövning inkommen (FL 37 §)"),
    Event.PROPOSE_RECONSIDERATION: _("Förslag om omprövning lämnat (FL 37 §)"),
    Event.RECONSIDER: _("Beslut ändrat efter omprövning (FL 37 §)"),
    Event.KEEP_DECISION: _("Beslutet står fast efter omprövning"),
    Event.PREPARE_DISBURSEMENT: _("Utbetalning förberedd"),
    Event.ATTEST_DISBURSEMENT: _("Utbetalning attesterad"),
    Event.PAY_DISBURSEMENT: _("Utbetalning gjord"),
    Event.ADD_TO_PAYMENT_FILE: _("Utbetalningen lagd i en betalfil till banken"),
    Event.STOP_DISBURSEMENT: _("Utbetalning stoppad"),
    Event.REQUEST_CHANGE: _("Ändring av budgeten begärd"),
    Event.APPROVE_CHANGE: _("Ändringen godkänd"),
    Event.REJECT_CHANGE: _("Ändringen avslagen"),
    Event.SUBMIT_INTERIM_REPORT: _("Delrapport inskickad"),
    Event.SUBMIT_REPORT: _("Slutrapport inskickad"),
    Event.RETURN_REPORT: _("Slutrapporten återsänd"),
    Event.APPROVE_REPORT: _("Slutrapporten godkänd"),
    Event.CLAIM_REPAYMENT: _("Återkrav beslutat"),
    Event.REGISTER_REPAYMENT: _("Återbetalning registrerad"),
    Event.WAIVE_REPAYMENT: _("Återkravet efterget"),
    Event.WITHDRAW: _("Ansökan återkallad"),
    Event.ASSIGN_TASK: _("Uppgiften tilldelad av arbetsledaren"),
    Event.UNASSIGN_TASK: _("Uppgiften lämnad tillbaka till kön av arbetsledaren"),
    Event.CLAIM_TASK: _("Uppgiften tagen ur kön"),
    Event.RELEASE_TASK: _("Uppgiften lämnad tillbaka till kön"),
    CaseEvent.CLOSE: _("Ärendet avslutat"),
    CaseEvent.REOPEN: _("Ärendet återupptaget"),
    CaseEvent.DECLARE_CONFLICT: _("Jäv anmält"),
    CaseEvent.RULE_CONFLICT: _("Jävsfrågan prövad"),
    CaseEvent.REGISTER_ITEM: _("Handling diarieförd"),
    CaseEvent.PRODUCE_DOCUMENTS: _("Allmänna handlingar utlämnade"),
}


def action_label(action: str) -> str:
    """The words for a journal event's code; the code itself for one this list lacks."""
    return str(ACTION_LABELS.get(action, action))  # type: ignore[call-overload]


# The journal as sentences (issue 7: "Ekonomi2 registrerade utbetalning 385 000 kr"): who
# did what, in the reader's language; an amount the event carries follows it.
SENTENCES = {
    Event.CREATE_DRAFT: _("%(actor)s skapade utkastet"),
    Event.CHANGE_ORGANISATION: _("%(actor)s flyttade utkastet till en annan organisation"),
    Event.REQUEST_SIGNATURE: _("%(actor)s bad firmatecknaren skriva under"),
    Event.REMOVE_ATTACHMENT: _("%(actor)s tog bort en bilaga"),
    Event.DELETE_DRAFT: _("%(actor)s raderade utkastet"),
    Event.SUBMIT: _("%(actor)s skickade in ansökan"),
    Event.REGISTER: _("%(actor)s registrerade ansökan"),
    Event.REQUEST_SUPPLEMENT: _("%(actor)s begärde komplettering"),
    Event.RECEIVE_SUPPLEMENT: _("%(actor)s skickade komplettering"),
    Event.START_ASSESSMENT: _("%(actor)s påbörjade bedömningen"),
    Event.SCORE: _("%(actor)s bedömde ansökan enligt kriterierna"),
    Event.COMMUNICATE: _("%(actor)s kommunicerade underlaget med sökanden (FL 25 §)"),
    Event.RECEIVE_COMMENTS: _("%(actor)s skickade yttrande"),
    Event.DEADLINE_PASSED: _("Svarstiden gick ut"),
    Event.PROPOSE_DECISION: _("%(actor)s lade beslutsförslag"),
    Event.PROPOSE_DISMISSAL: _("%(actor)s föreslog avvisning"),
    Event.PROPOSE_REPAYMENT: _("%(actor)s föreslog återkrav"),
    Event.PROPOSE_WAIVER: _("%(actor)s föreslog eftergift"),
    Event.RETURN_PROPOSAL: _("%(actor)s återförvisade förslaget"),
    Event.DECIDE: _("%(actor)s fattade beslut"),
    Event.DISMISS: _("%(actor)s avvisade ansökan"),
    Event.ISSUE_LETTER: _("Beslutsbrevet upprättades och arkiverades"),
    Event.REGISTER_APPEAL: _("%(actor)s registrerade ett överklagande"),
    Event.FORWARD_APPEAL: _("%(actor)s överlämnade överklagandet till domstol"),
    Event.DISMISS_APPEAL: _("%(actor)s avvisade överklagandet som för sent inkommet"),
    Event.NOTIFY_DELAY: _("%(actor)s underrättade sökanden om försening (FL 11 §)"),
    Event.DEMAND_DECISION: _("%(actor)s begärde att ärendet avgörs (FL 12 §)"),
    Event.REFUSE_DEMAND: _("%(actor)s avslog begäran om avgörande (FL 12 §)"),
    Event.CORRECT_DECISION: _("%(actor)s rättade ett beslut (FL 36 §)"),
    Event.REQUEST_RECONSIDERATION: _("Begäran om omprövning registrerad av %(actor)s (FL 37 §)"),
    Event.PROPOSE_RECONSIDERATION: _("%(actor)s föreslog ett ändrat beslut efter omprövning (FL 37 §)"),
    Event.RECONSIDER: _("%(actor)s ändrade beslutet efter omprövning (FL 37 §)"),
    Event.KEEP_DECISION: _("%(actor)s prövade beslutet på nytt och lät det stå fast"),
    Event.PREPARE_DISBURSEMENT: _("%(actor)s förberedde utbetalning"),
    Event.ATTEST_DISBURSEMENT: _("%(actor)s attesterade utbetalning"),
    Event.PAY_DISBURSEMENT: _("%(actor)s registrerade utbetalning"),
    Event.ADD_TO_PAYMENT_FILE: _("%(actor)s lade utbetalningen i en betalfil till banken"),
    Event.STOP_DISBURSEMENT: _("%(actor)s stoppade utbetalningen"),
    Event.REQUEST_CHANGE: _("%(actor)s begärde ändring av budgeten"),
    Event.APPROVE_CHANGE: _("%(actor)s godkände ändringen"),
    Event.REJECT_CHANGE: _("%(actor)s avslog ändringen"),
    Event.SUBMIT_INTERIM_REPORT: _("%(actor)s skickade in en delrapport"),
    Event.SUBMIT_REPORT: _("%(actor)s skickade in slutrapporten"),
    Event.RETURN_REPORT: _("%(actor)s återsände slutrapporten"),
    Event.APPROVE_REPORT: _("%(actor)s godkände slutrapporten"),
    Event.CLAIM_REPAYMENT: _("%(actor)s beslutade om återkrav"),
    Event.REGISTER_REPAYMENT: _("%(actor)s registrerade återbetalning"),
    Event.WAIVE_REPAYMENT: _("%(actor)s efterskänkte återkravet"),
    Event.WITHDRAW: _("%(actor)s återkallade ansökan"),
    Event.ASSIGN_TASK: _("%(actor)s tilldelade uppgiften"),
    Event.UNASSIGN_TASK: _("%(actor)s lämnade tillbaka uppgiften till kön"),
    Event.CLAIM_TASK: _("%(actor)s tog uppgiften"),
    Event.RELEASE_TASK: _("%(actor)s lämnade tillbaka uppgiften till kön"),
    CaseEvent.CLOSE: _("Ärendet avslutades"),
    CaseEvent.REOPEN: _("Ärendet återupptogs"),
    CaseEvent.DECLARE_CONFLICT: _("%(actor)s anmälde jäv"),
    CaseEvent.RULE_CONFLICT: _("%(actor)s prövade jävsfrågan"),
    CaseEvent.REGISTER_ITEM: _("%(actor)s diarieförde en handling"),
    CaseEvent.PRODUCE_DOCUMENTS: _("%(actor)s lämnade ut allmänna handlingar efter sekretessprövning"),
}


def journal_sentence(event) -> str:
    """What a journal event says, as a sentence in the active language, with its amount."""
    from arenden.formatting import money

    pattern = SENTENCES.get(event.action)
    if pattern is None:
        return action_label(event.action)
    actor = event.actor_label if event.actor_id or event.actor_label not in ("", "system") else _("Systemet")
    sentence = str(pattern) % {"actor": actor}
    amount = money((event.payload or {}).get("amount"))  # "" for none or an unreadable value
    return f"{sentence} {amount}" if amount else sentence
