"""Every write of the grant domain. Keyword-only, the acting user first.

Draft editing (create, update, budget lines, attachments) locks and checks membership
itself. Every state change runs only through the door (workflows/door.py), which locks,
applies the policy and moves the flow in one transaction; these services then change the
domain, journal and write the outbox inside it (DESIGN.md §3).
"""

from .applications import (
    application_change_organisation,
    application_communicate,
    application_create,
    application_deadline_passed,
    application_receive_comments,
    application_receive_supplement,
    application_register,
    application_request_signature,
    application_request_supplement,
    application_start_assessment,
    application_submit,
    application_update,
    application_withdraw,
    attachment_add,
    budget_line_add,
    budget_line_remove,
)
from .assessments import assessment_record
from .decisions import (
    application_decide,
    application_dismiss,
    application_return_proposal,
    proposal_create,
)
from .drafts import application_delete_draft, attachment_remove, attachment_replace, budget_line_update
from .followup import (
    change_decide,
    change_request,
    disbursement_attest,
    disbursement_pay,
    disbursement_prepare,
    disbursement_stop,
    repayment_claim,
    repayment_register,
    repayment_waive,
    report_approve,
    report_return,
    report_submit,
    report_submit_interim,
)
from .reconsiderations import application_reconsider, reconsideration_propose

# The services that change an application's state: refused outside the door.
STATE_CHANGING = (
    change_decide,
    change_request,
    application_communicate,
    application_deadline_passed,
    application_decide,
    application_dismiss,
    application_receive_comments,
    application_receive_supplement,
    application_reconsider,
    application_register,
    application_request_supplement,
    application_return_proposal,
    application_start_assessment,
    application_submit,
    application_withdraw,
    assessment_record,
    disbursement_attest,
    disbursement_pay,
    disbursement_prepare,
    disbursement_stop,
    proposal_create,
    reconsideration_propose,
    repayment_claim,
    repayment_register,
    repayment_waive,
    report_approve,
    report_return,
    report_submit,
    report_submit_interim,
)

__all__ = [f.__name__ for f in STATE_CHANGING] + [
    "STATE_CHANGING",
    "application_change_organisation",
    "application_delete_draft",
    "attachment_remove",
    "attachment_replace",
    "budget_line_update",
    "application_create",
    "application_request_signature",
    "application_update",
    "attachment_add",
    "budget_line_add",
    "budget_line_remove",
]
