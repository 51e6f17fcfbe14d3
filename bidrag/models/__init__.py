from .appeals import Appeal
from .application import Application, BudgetLine, Proposal
from .assessment import Assessment, Score
from .clocks import DecisionDemand, DelayNotice
from .mandates import Invitation, JoinRequest, MandateDecision
from .organisation import Call, CallTrack, GrantScheme, Membership, Organisation
from .outcomes import ChangeRequest, Decision, DecisionLetter, Disbursement, Repayment, Report, ReportLine
from .submitted import SubmittedVersion

__all__ = [
    "Appeal",
    "Application",
    "Assessment",
    "BudgetLine",
    "Call",
    "CallTrack",
    "ChangeRequest",
    "Decision",
    "DecisionDemand",
    "DecisionLetter",
    "DelayNotice",
    "Disbursement",
    "GrantScheme",
    "Invitation",
    "JoinRequest",
    "MandateDecision",
    "Membership",
    "Organisation",
    "Proposal",
    "Report",
    "ReportLine",
    "Repayment",
    "Score",
    "SubmittedVersion",
]
