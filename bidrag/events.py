"""The names of everything that happens to a grant application: one name per action.

The same value names the action in the flow (workflows/flows.py), the URL of its page, the
service that carries it out (`application_<name>`, `disbursement_…`), and the journal
event it leaves. Generic case events (closing, jäv) are `arenden.journal.CaseEvent`.
"""

from enum import StrEnum


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
    PREPARE_DISBURSEMENT = "prepare_disbursement"
    ATTEST_DISBURSEMENT = "attest_disbursement"
    PAY_DISBURSEMENT = "pay_disbursement"
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


# Taking part in the assessment: whoever did one of these on a case may not decide it
# (four eyes; Myndighetsförordningen 21 §: the decider and the föredragande are two people).
ASSESSMENT_EVENTS = frozenset(
    {
        Event.REQUEST_SUPPLEMENT,
        Event.START_ASSESSMENT,
        Event.COMMUNICATE,
        Event.PROPOSE_DECISION,
        Event.PROPOSE_DISMISSAL,
        Event.PROPOSE_REPAYMENT,
        Event.PROPOSE_WAIVER,
    }
)
