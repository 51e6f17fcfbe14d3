from .appeals import Appeal, AppealLetter
from .application import Application, BudgetLine, Proposal
from .assessment import Assessment, Score
from .clocks import DecisionDemand, DelayNotice
from .mandates import Invitation, JoinRequest, MandateDecision
from .organisation import Call, CallTrack, GrantScheme, Membership, Organisation
from .outcomes import (
    ChangeRequest,
    Decision,
    DecisionLetter,
    DetrimentGround,
    Disbursement,
    Repayment,
    Report,
    ReportLine,
)
from .reconsiderations import Reconsideration, ReconsiderationCommunication
from .submitted import SubmittedVersion

__all__ = [
    "Appeal",
    "AppealLetter",
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
    "DetrimentGround",
    "Disbursement",
    "GrantScheme",
    "Invitation",
    "JoinRequest",
    "MandateDecision",
    "Membership",
    "Organisation",
    "Proposal",
    "Reconsideration",
    "ReconsiderationCommunication",
    "Report",
    "ReportLine",
    "Repayment",
    "Score",
    "SubmittedVersion",
]
