from .application import Application, BudgetLine, Proposal
from .organisation import Call, CallTrack, GrantScheme, Membership, Organisation
from .outcomes import ChangeRequest, Decision, Disbursement, Repayment, Report, ReportLine
from .submitted import SubmittedVersion

__all__ = [
    "Application",
    "BudgetLine",
    "Call",
    "CallTrack",
    "ChangeRequest",
    "Decision",
    "Disbursement",
    "GrantScheme",
    "Membership",
    "Organisation",
    "Proposal",
    "Report",
    "ReportLine",
    "Repayment",
    "SubmittedVersion",
]
