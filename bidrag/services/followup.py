"""After the decision: disbursement, final report, repayment (återkrav)."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from arenden.errors import ErrorCode, NotAllowed, TransitionNotAllowed, ValidationFailed
from arenden.journal import journal_append
from arenden.models import DiariumEntry
from arenden.services import diarium_entry_add

from ..models import Decision, Disbursement, Proposal, Report, Repayment
from ..models.application import Status
from ..roles import Role
from .common import lock_application, notify_applicant, require_member, require_no_conflict, require_role, transition
from .decisions import _proposal_for_decider, _record_decision


def _granted_amount(application) -> Decimal:
    decision = application.decisions.filter(outcome=Decision.Outcome.GRANTED).order_by("-decided_at").first()
    return decision.amount if decision else Decimal("0")


def _outgoing(actor, application, description: str) -> None:
    diarium_entry_add(
        actor=actor,
        case=application.case,
        direction=DiariumEntry.Direction.OUTGOING,
        counterpart=application.organisation.name,
        description=description,
    )


def _lock_disbursement(disbursement: Disbursement) -> Disbursement:
    return Disbursement.objects.select_for_update().get(pk=disbursement.pk)


def _disbursement_step(*, actor, application, disbursement: Disbursement, name: str, payload: dict) -> None:
    if not can_proceed(getattr(disbursement, name)):
        raise TransitionNotAllowed(
            _("Utbetalningen har status ”%(status)s”.") % {"status": disbursement.get_status_display()}
        )
    from_state = disbursement.status
    getattr(disbursement, name)()
    journal_append(
        actor=actor,
        case=application.case,
        action=f"disbursement_{name}",
        from_state=application.status,
        to_state=application.status,
        payload={"disbursement": disbursement.pk, "from": from_state, "to": disbursement.status, **payload},
    )


def disbursement_prepare(*, actor, application) -> Disbursement:
    require_role(actor, Role.CASE_OFFICER)
    with transaction.atomic():
        application = lock_application(application)
        if application.status != Status.GRANTED:
            raise TransitionNotAllowed(_("Utbetalning kan bara förberedas för en beviljad ansökan."))
        if application.disbursements.exclude(status=Disbursement.Status.STOPPED).exists():
            raise TransitionNotAllowed(_("En utbetalning är redan förberedd."))
        amount = _granted_amount(application)
        disbursement = Disbursement.objects.create(application=application, amount=amount, prepared_by=actor)
        journal_append(
            actor=actor,
            case=application.case,
            action="disbursement_prepare",
            from_state=application.status,
            to_state=application.status,
            payload={"disbursement": disbursement.pk, "amount": amount},
        )
        return disbursement


def disbursement_attest(*, actor, application, disbursement: Disbursement) -> Disbursement:
    require_role(actor, Role.FINANCE)
    with transaction.atomic():
        application = lock_application(application)
        disbursement = _lock_disbursement(disbursement)
        if disbursement.prepared_by_id == actor.pk:
            raise NotAllowed(
                _("Du har själv förberett utbetalningen och får inte attestera den (fyraögonsprincipen)."),
                code=ErrorCode.FOUR_EYES,
            )
        _disbursement_step(actor=actor, application=application, disbursement=disbursement, name="attest", payload={})
        disbursement.attested_by = actor
        disbursement.attested_at = timezone.now()
        disbursement.save()
        return disbursement


def disbursement_pay(*, actor, application, disbursement: Disbursement, payment_reference: str) -> Disbursement:
    require_role(actor, Role.FINANCE)
    if not payment_reference.strip():
        raise ValidationFailed(_("Ange betalningsreferensen från betalningsordern."))
    with transaction.atomic():
        application = lock_application(application)
        disbursement = _lock_disbursement(disbursement)
        _disbursement_step(
            actor=actor,
            application=application,
            disbursement=disbursement,
            name="pay",
            payload={"reference": payment_reference.strip()},
        )
        disbursement.paid_by = actor
        disbursement.paid_at = timezone.now()
        disbursement.payment_reference = payment_reference.strip()
        disbursement.save()
        transition(actor=actor, application=application, name="mark_paid", payload={"amount": disbursement.amount})
        _outgoing(actor, application, f"Underrättelse om utbetalning, {disbursement.amount} kr")
        notify_applicant(
            application=application,
            kind="payment",
            subject="Utbetalning",
            body=f"Brå har betalat ut {disbursement.amount} kr för projektet ”{application.title}”.",
        )
        return disbursement


def report_submit(*, actor, application, summary: str, actual_costs: Decimal) -> Report:
    with transaction.atomic():
        application = lock_application(application)
        require_member(actor, application, signatory=True)
        if not summary.strip():
            raise ValidationFailed(_("Beskriv hur projektet genomförts och vad det gav."))
        if actual_costs is None or actual_costs < 0:
            raise ValidationFailed(_("Ange de faktiska kostnaderna (0 kr eller mer)."))
        report = Report.objects.create(
            application=application, summary=summary.strip(), actual_costs=actual_costs, submitted_by=actor
        )
        transition(
            actor=actor,
            application=application,
            name="submit_report",
            payload={"report": report.pk, "actual_costs": actual_costs},
        )
        diarium_entry_add(
            actor=actor,
            case=application.case,
            direction=DiariumEntry.Direction.INCOMING,
            counterpart=application.organisation.name,
            description="Slutrapport med ekonomisk redovisning",
        )
        return report


def _open_report(application) -> Report:
    report = application.reports.select_for_update().filter(status=Report.Status.SUBMITTED).first()
    if report is None:
        raise TransitionNotAllowed(_("Det finns ingen inskickad slutrapport att granska."))
    return report


def report_approve(*, actor, application, comment: str = "") -> Report:
    require_role(actor, Role.CASE_OFFICER)
    with transaction.atomic():
        application = lock_application(application)
        require_no_conflict(actor, application)
        report = _open_report(application)
        transition(actor=actor, application=application, name="approve_report", payload={"report": report.pk})
        report.approve()
        report.reviewed_by, report.reviewed_at, report.review_comment = actor, timezone.now(), comment.strip()
        report.save()
        application.case.closed_at = timezone.now()
        application.case.save(update_fields=["closed_at"])
        _outgoing(actor, application, "Slutrapporten godkänd; ärendet avslutas")
        notify_applicant(
            application=application,
            kind="report_approved",
            subject="Slutrapporten är godkänd",
            body=f"Brå har godkänt slutrapporten för ”{application.title}”. Ärendet är avslutat.",
        )
        return report


def report_return(*, actor, application, comment: str) -> Report:
    require_role(actor, Role.CASE_OFFICER)
    if not comment.strip():
        raise ValidationFailed(_("Skriv vad som ska kompletteras i rapporten."))
    with transaction.atomic():
        application = lock_application(application)
        report = _open_report(application)
        transition(
            actor=actor,
            application=application,
            name="return_report",
            payload={"report": report.pk, "comment": comment.strip()},
        )
        report.return_for_supplement()
        report.reviewed_by, report.reviewed_at, report.review_comment = actor, timezone.now(), comment.strip()
        report.save()
        _outgoing(actor, application, "Begäran om komplettering av slutrapport")
        notify_applicant(
            application=application,
            kind="report_returned",
            subject="Slutrapporten behöver kompletteras",
            body=f"{comment.strip()}\n\nSkicka in en kompletterad slutrapport via Bidragsportalen.",
        )
        return report


def repayment_claim(*, actor, application) -> Repayment:
    """Decide on the open repayment proposal (återkrav)."""
    with transaction.atomic():
        application = lock_application(application)
        proposal = _proposal_for_decider(actor, application, Proposal.Kind.REPAYMENT)
        decision = _record_decision(
            actor=actor, application=application, proposal=proposal, outcome=Decision.Outcome.REPAYMENT_CLAIMED
        )
        repayment = Repayment.objects.create(
            application=application, amount=proposal.amount, reason=proposal.reasons, claimed_by=actor
        )
        transition(
            actor=actor,
            application=application,
            name="claim_repayment",
            payload={"decision": decision.pk, "repayment": repayment.pk, "amount": repayment.amount},
        )
        return repayment


def repayment_settle(*, actor, application, waived: bool, note: str = "") -> Repayment:
    """Finance records the repayment; or a decision maker waives it for special reasons."""
    require_role(actor, Role.DECISION_MAKER if waived else Role.FINANCE)
    if waived and not note.strip():
        raise ValidationFailed(_("Ange de särskilda skälen för eftergift."))
    with transaction.atomic():
        application = lock_application(application)
        if waived:
            require_no_conflict(actor, application)
        repayment = application.repayments.select_for_update().filter(status=Repayment.Status.CLAIMED).first()
        if repayment is None:
            raise TransitionNotAllowed(_("Det finns inget öppet återkrav i ärendet."))
        repayment.status = Repayment.Status.WAIVED if waived else Repayment.Status.REPAID
        repayment.settled_by, repayment.settled_at = actor, timezone.now()
        repayment.save()
        if waived:
            Decision.objects.create(
                application=application,
                outcome=Decision.Outcome.REPAYMENT_WAIVED,
                amount=repayment.amount,
                reasons=note.strip(),
                decided_by=actor,
                presented_by=actor,
                decided_at=timezone.now(),
            )
        transition(
            actor=actor,
            application=application,
            name="settle_repayment",
            action="repayment_waived" if waived else "repayment_repaid",
            payload={"repayment": repayment.pk, "amount": repayment.amount, "note": note.strip()},
        )
        application.case.closed_at = timezone.now()
        application.case.save(update_fields=["closed_at"])
        return repayment
