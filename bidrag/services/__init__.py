"""Every write of the grant domain. Keyword-only, the acting user first, one transaction each.

A service locks the application row, checks the actor itself (FSM permissions are
advisory), runs the FSM transition, appends the journal event and writes outbox rows, all
in one transaction (DESIGN.md §3).
"""

from .applications import (
    application_create,
    application_receive_comments,
    application_receive_supplement,
    application_register,
    application_request_supplement,
    application_communicate,
    application_start_assessment,
    application_submit,
    application_update,
    application_withdraw,
    attachment_add,
    budget_line_add,
    budget_line_remove,
)
from .decisions import (
    application_decide,
    application_dismiss,
    application_return_proposal,
    proposal_create,
)
from .followup import (
    disbursement_attest,
    disbursement_pay,
    disbursement_prepare,
    repayment_claim,
    repayment_settle,
    report_approve,
    report_return,
    report_submit,
)

__all__ = [
    "application_communicate",
    "application_create",
    "application_decide",
    "application_dismiss",
    "application_receive_comments",
    "application_receive_supplement",
    "application_register",
    "application_request_supplement",
    "application_return_proposal",
    "application_start_assessment",
    "application_submit",
    "application_update",
    "application_withdraw",
    "attachment_add",
    "budget_line_add",
    "budget_line_remove",
    "disbursement_attest",
    "disbursement_pay",
    "disbursement_prepare",
    "proposal_create",
    "repayment_claim",
    "repayment_settle",
    "report_approve",
    "report_return",
    "report_submit",
]
