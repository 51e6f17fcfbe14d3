"""After the decision: disbursement, final report, repayment (återkrav) and its waiver.

The door has checked who may act (attester ≠ preparer, payer ≠ attester, the waiver's
decider ≠ its proposer) and locked the application; these lock the row they work on.
"""

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from arenden.actors import Actor
from arenden.calendar import stockholm_today, working_deadline
from arenden.errors import ErrorCode, TransitionNotAllowed, ValidationFailed
from arenden.formatting import day, money
from arenden.models import DiariumEntry
from arenden.storage import StoredUpload, attachment_record

from ..events import Event
from ..locks import lock_disbursement, lock_repayment, lock_report
from ..models import BudgetLine, ChangeRequest, Decision, Disbursement, Proposal, Repayment, Report, ReportLine
from ..models.application import AttachmentKind, Status
from ..payments.accounts import account_of, format_account
from ..payments.ocr import ocr_reference
from .common import diarise, notify_applicant, record, require_door, transition
from .decisions import proposal_for_decider, record_decision


def _granted_amount(application) -> Decimal:
    decision = application.decisions.filter(outcome=Decision.Outcome.GRANTED).order_by("-decided_at").first()
    return decision.amount if decision else Decimal("0")


def _outgoing(actor, application, description: str) -> None:
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.OUTGOING, description=description)


def _disbursement_in(application, *states) -> Disbursement:
    disbursement = lock_disbursement(application)
    if disbursement is None or disbursement.status not in states:
        raise TransitionNotAllowed(_("Det finns ingen utbetalning i rätt skede i ärendet."))
    return disbursement


def _disbursement_step(disbursement: Disbursement, name: str) -> dict:
    if not can_proceed(getattr(disbursement, name)):
        raise TransitionNotAllowed(
            _("Utbetalningen har status ”%(status)s”.") % {"status": disbursement.get_status_display()}
        )
    from_state = disbursement.status
    getattr(disbursement, name)()
    return {"disbursement": disbursement.pk, "from": from_state, "to": disbursement.status}


def disbursement_prepare(*, actor: Actor, application) -> Disbursement:
    require_door()
    if application.status != Status.GRANTED:
        raise TransitionNotAllowed(_("Utbetalning kan bara förberedas för en beviljad ansökan."))
    if lock_disbursement(application) is not None:
        raise TransitionNotAllowed(_("En utbetalning är redan förberedd."))
    organisation = application.organisation
    account = account_of(organisation)
    if account is None:
        raise TransitionNotAllowed(
            _("%(name)s har inget giltigt bankgiro- eller plusgironummer. Organisationens firmatecknare anger det "
              "under Mina organisationer; därefter kan utbetalningen förberedas.") % {"name": organisation.name},
            code=ErrorCode.INCOMPLETE,
        )
    amount = _granted_amount(application)
    # The payee copied as it is now: a later change of the organisation's account does not
    # redirect this payment once it is attested.
    disbursement = Disbursement.objects.create(
        application=application, amount=amount, prepared_by=actor, payee_name=organisation.name,
        payee_method=account.method, payee_account=account.digits,
    )
    record(
        actor=actor,
        application=application,
        event=Event.PREPARE_DISBURSEMENT,
        payload={"disbursement": disbursement.pk, "amount": amount, "payee": organisation.name,
                 "account": f"{account.method} {account.display}"},
    )
    return disbursement


def disbursement_attest(*, actor: Actor, application) -> Disbursement:
    require_door()
    disbursement = _disbursement_in(application, Disbursement.Status.PLANNED)
    payload = _disbursement_step(disbursement, "attest")
    disbursement.attested_by = actor
    disbursement.attested_at = timezone.now()
    disbursement.save()
    record(actor=actor, application=application, event=Event.ATTEST_DISBURSEMENT, payload=payload)
    return disbursement


def disbursement_stop(*, actor: Actor, application, reason: str) -> Disbursement:
    """Stop a disbursement before it is paid (utbetalningsstopp); a new one may be prepared."""
    require_door()
    if not reason.strip():
        raise ValidationFailed(_("Ange skälet till att utbetalningen stoppas."))
    disbursement = _disbursement_in(application, Disbursement.Status.PLANNED, Disbursement.Status.ATTESTED)
    payload = _disbursement_step(disbursement, "stop")
    disbursement.save()
    record(
        actor=actor, application=application, event=Event.STOP_DISBURSEMENT, payload={**payload, "reason": reason.strip()}
    )
    return disbursement


def disbursement_pay(*, actor: Actor, application, payment_reference: str, disbursement_id=None) -> Disbursement:
    """Register the payment. `disbursement_id`, when given (a bank statement's entry names
    the one it paid), must be the attested disbursement under way, checked under its lock."""
    require_door()
    if not payment_reference.strip():
        raise ValidationFailed(_("Ange betalningsreferensen från betalningsordern."))
    disbursement = _disbursement_in(application, Disbursement.Status.ATTESTED)
    if disbursement_id is not None and str(disbursement.pk) != str(disbursement_id):
        raise TransitionNotAllowed(_("Betalningen gäller en annan utbetalning än den som är attesterad i ärendet."))
    payload = _disbursement_step(disbursement, "pay")
    disbursement.paid_by = actor
    disbursement.paid_at = timezone.now()
    disbursement.payment_reference = payment_reference.strip()
    disbursement.save()
    transition(
        actor=actor,
        application=application,
        event=Event.PAY_DISBURSEMENT,
        payload={**payload, "amount": disbursement.amount, "reference": disbursement.payment_reference},
    )
    _outgoing(actor, application, f"Underrättelse om utbetalning, {money(disbursement.amount, language='sv')}")
    notify_applicant(application=application, kind="payment", context={"amount": disbursement.amount})
    return disbursement


def _report_create(
    *,
    actor: Actor,
    application,
    kind: str,
    summary: str,
    actual_costs: Mapping[str, Decimal | None],
    financial_report: StoredUpload | None,
) -> tuple[Report, dict]:
    """A report's content checked and recorded: results in words, the actual cost of every
    budget line against the granted budget, and the signed ledger extract behind the figures.
    Returns the report and the journal payload.

    `actual_costs` maps each budget line's id (as text) to what it actually cost (so far).
    """
    name = _("Delrapporten") if kind == Report.Kind.INTERIM else _("Slutrapporten")
    if application.status != Status.IN_PROGRESS:
        raise TransitionNotAllowed(_("%(report)s kan bara lämnas medan projektet pågår.") % {"report": name})
    today = timezone.localdate()
    if application.start_date and today < application.start_date:
        raise ValidationFailed(
            _("Projektet har inte börjat än (startdatum %(start)s). %(report)s lämnas när projektet är i gång.")
            % {"start": day(application.start_date), "report": name},
            code=ErrorCode.INVALID,
        )
    errors: dict[str, list[str | Promise]] = {}
    if not summary.strip():
        errors["summary"] = [_("Beskriv hur projektet genomförts och vad det gav i förhållande till målen.")]
    lines = list(application.budget_lines.all())
    costs: dict[BudgetLine, Decimal] = {}
    for line in lines:
        amount = actual_costs.get(str(line.pk))
        if amount is None:
            errors[f"line_{line.pk}"] = [_("Ange vad ”%(line)s” faktiskt kostade (0 kr om inget).") % {"line": line.description}]
        elif amount < 0:
            errors[f"line_{line.pk}"] = [_("En kostnad kan inte vara negativ.")]
        else:
            costs[line] = amount
    unknown = set(actual_costs) - {str(line.pk) for line in lines}
    if unknown:
        raise ValidationFailed(_("Redovisningen nämner budgetrader som inte finns i ansökan."))
    if financial_report is None:
        errors["financial_report"] = [
            _("Bifoga den ekonomiska redovisningen (huvudboksutdrag undertecknat av behörig företrädare).")
        ]
    if errors or financial_report is None:
        raise ValidationFailed(
            _("%(report)s är inte komplett. Rätta det som är markerat.") % {"report": name}, details={"fields": errors}
        )
    total = sum(costs.values(), Decimal("0"))
    granted = _granted_amount(application)
    unused = max(granted - total, Decimal("0"))
    attachment = attachment_record(
        actor=actor, case=application.case, stored=financial_report, kind=AttachmentKind.EKONOMISK_REDOVISNING
    )
    report = Report.objects.create(
        application=application,
        kind=kind,
        summary=summary.strip(),
        actual_costs=total,
        unused_amount=unused,
        financial_report=attachment,
        submitted_by=actor,
    )
    ReportLine.objects.bulk_create(
        [ReportLine(report=report, budget_line=line, actual_amount=amount) for line, amount in costs.items()]
    )
    payload = {
        "report": report.pk,
        "kind": kind,
        "actual_costs": total,
        "granted": granted,
        "unused": unused,
        "lines": {str(line.pk): amount for line, amount in costs.items()},
        "financial_report_sha256": attachment.sha256,
    }
    return report, payload


def report_submit(
    *,
    actor: Actor,
    application,
    summary: str,
    actual_costs: Mapping[str, Decimal | None],
    financial_report: StoredUpload | None,
) -> Report:
    """The final report: the project is done and its report goes to review."""
    require_door()
    report, payload = _report_create(
        actor=actor, application=application, kind=Report.Kind.FINAL, summary=summary,
        actual_costs=actual_costs, financial_report=financial_report,
    )
    transition(actor=actor, application=application, event=Event.SUBMIT_REPORT, payload=payload)
    _report_diarise(actor, application, report, "Slutrapport med ekonomisk redovisning")
    return report


def report_submit_interim(
    *,
    actor: Actor,
    application,
    summary: str,
    actual_costs: Mapping[str, Decimal | None],
    financial_report: StoredUpload | None,
) -> Report:
    """An interim report (delrapport): results and costs so far; the project goes on."""
    require_door()
    report, payload = _report_create(
        actor=actor, application=application, kind=Report.Kind.INTERIM, summary=summary,
        actual_costs=actual_costs, financial_report=financial_report,
    )
    record(actor=actor, application=application, event=Event.SUBMIT_INTERIM_REPORT, payload=payload)
    _report_diarise(actor, application, report, "Delrapport med ekonomisk redovisning")
    return report


def _report_diarise(actor, application, report: Report, description: str) -> None:
    diarise(actor=actor, application=application, direction=DiariumEntry.Direction.INCOMING,
            description=description, attachment=report.financial_report, kind=DiariumEntry.Kind.REPORT)


def _open_report(application) -> Report:
    report = lock_report(application)
    if report is None:
        raise TransitionNotAllowed(_("Det finns ingen inskickad slutrapport att granska."))
    return report


def report_approve(*, actor: Actor, application, comment: str = "") -> Report:
    require_door()
    report = _open_report(application)
    transition(actor=actor, application=application, event=Event.APPROVE_REPORT, payload={"report": report.pk})
    report.approve()
    report.reviewed_by, report.reviewed_at, report.review_comment = actor, timezone.now(), comment.strip()
    report.save()
    _outgoing(actor, application, "Slutrapporten godkänd")
    notify_applicant(application=application, kind="report_approved")
    return report


def report_return(*, actor: Actor, application, comment: str) -> Report:
    require_door()
    if not comment.strip():
        raise ValidationFailed(_("Skriv vad som ska kompletteras i rapporten."))
    report = _open_report(application)
    transition(
        actor=actor,
        application=application,
        event=Event.RETURN_REPORT,
        payload={"report": report.pk, "comment": comment.strip()},
    )
    report.return_for_supplement()
    report.reviewed_by, report.reviewed_at, report.review_comment = actor, timezone.now(), comment.strip()
    report.save()
    _outgoing(actor, application, "Begäran om komplettering av slutrapport")
    notify_applicant(application=application, kind="report_returned", context={"comment": comment.strip()})
    return report


def repayment_claim(*, actor: Actor, application) -> Repayment:
    """Decide on the open repayment proposal (återkrav)."""
    require_door()
    proposal = proposal_for_decider(application, Proposal.Kind.REPAYMENT)
    decision = record_decision(
        actor=actor, application=application, proposal=proposal, outcome=Decision.Outcome.REPAYMENT_CLAIMED
    )
    assert proposal.amount is not None  # a repayment proposal always names its amount
    repayment = Repayment.objects.create(
        application=application, amount=proposal.amount, reason=proposal.reasons, claimed_by=actor,
        due_on=working_deadline(stockholm_today() + timedelta(days=settings.REPAYMENT_DUE_DAYS)),
        ocr=ocr_reference(application.case.diarienummer or str(application.case.pk.int)[:20]),
    )
    transition(
        actor=actor,
        application=application,
        event=Event.CLAIM_REPAYMENT,
        payload={"decision": decision.pk, "repayment": repayment.pk, "amount": repayment.amount,
                 "due_on": repayment.due_on.isoformat() if repayment.due_on else None, "ocr": repayment.ocr},
    )
    notify_applicant(application=application, kind="repayment_instructions", context={
        "amount": repayment.amount, "due_on": repayment.due_on, "ocr": repayment.ocr, "bankgiro": _bankgiro(),
    })
    return repayment


def _bankgiro() -> str:
    """Brå's bankgiro as written (1234-5678), or "" when none is configured."""
    if not settings.BRA_BANKGIRO:
        return ""
    return format_account(method="bankgiro", digits="".join(c for c in settings.BRA_BANKGIRO if c.isdigit()))


def repayment_instructions(repayment: Repayment) -> str:
    """How to pay a claim back, in Swedish (the letter's and the notice's words)."""
    due = day(repayment.due_on, language="sv") if repayment.due_on else ""
    if not settings.BRA_BANKGIRO:
        return (f"Betala {money(repayment.amount, language='sv')} senast {due}. Brås ekonomi skickar "
                f"betalningsuppgifterna; ange OCR-nummer {repayment.ocr}.")
    bankgiro = _bankgiro()
    return (f"Betala {money(repayment.amount, language='sv')} till Brås bankgiro {bankgiro} senast {due}. "
            f"Ange OCR-nummer {repayment.ocr}, så kopplas betalningen till ärendet.")


def _open_repayment(application) -> Repayment:
    repayment = lock_repayment(application)
    if repayment is None:
        raise TransitionNotAllowed(_("Det finns inget öppet återkrav i ärendet."))
    return repayment


def repayment_register(*, actor: Actor, application, note: str = "") -> Repayment:
    """Finance records that the claimed amount has come in."""
    require_door()
    repayment = _open_repayment(application)
    repayment.status = Repayment.Status.REPAID
    repayment.settled_by, repayment.settled_at = actor, timezone.now()
    repayment.save()
    transition(
        actor=actor,
        application=application,
        event=Event.REGISTER_REPAYMENT,
        payload={"repayment": repayment.pk, "amount": repayment.amount, "note": note.strip()},
    )
    return repayment


def repayment_waive(*, actor: Actor, application) -> Repayment:
    """Waive the claim for special reasons, deciding on a waiver proposal by someone else."""
    require_door()
    repayment = _open_repayment(application)
    proposal = proposal_for_decider(application, Proposal.Kind.WAIVER)
    decision = record_decision(
        actor=actor, application=application, proposal=proposal, outcome=Decision.Outcome.REPAYMENT_WAIVED
    )
    repayment.status = Repayment.Status.WAIVED
    repayment.settled_by, repayment.settled_at = actor, timezone.now()
    repayment.save()
    transition(
        actor=actor,
        application=application,
        event=Event.WAIVE_REPAYMENT,
        payload={"repayment": repayment.pk, "amount": repayment.amount, "decision": decision.pk,
                 "presented_by": proposal.proposed_by_id},
    )
    return repayment


# -- changes to the granted budget ----------------------------------------------------------


def needs_change_request(*, application, from_line: BudgetLine, amount: Decimal) -> bool:
    """Above the scheme's threshold: more than its amount AND at least its share of the line."""
    scheme = application.call.scheme
    share = Decimal(scheme.change_threshold_share) / 100
    return amount > scheme.change_threshold_amount and amount >= from_line.amount * share


def _move(from_line: BudgetLine, to_line: BudgetLine, amount: Decimal) -> None:
    from_line.amount -= amount
    to_line.amount += amount
    BudgetLine.objects.bulk_update([from_line, to_line], ["amount"])


def change_request(*, actor: Actor, application, from_line_id, to_line_id, amount: Decimal | None,
                   reason: str) -> ChangeRequest:
    """Move money between two lines of the granted budget: at once with a note below the
    scheme's threshold, as a written request for the case officer to decide above it."""
    require_door()
    if application.status != Status.IN_PROGRESS:
        raise TransitionNotAllowed(_("Budgeten kan bara ändras medan projektet pågår."))
    lines = {str(line.pk): line for line in application.budget_lines.select_for_update(of=("self",))}
    from_line, to_line = lines.get(str(from_line_id)), lines.get(str(to_line_id))
    errors: dict[str, list[str | Promise]] = {}
    if from_line is None:
        errors["from_line"] = [_("Välj den budgetrad pengarna flyttas från.")]
    if to_line is None:
        errors["to_line"] = [_("Välj den budgetrad pengarna flyttas till.")]
    elif from_line is not None and from_line.pk == to_line.pk:
        errors["to_line"] = [_("Välj två olika budgetrader.")]
    if amount is None or amount <= 0:
        errors["amount"] = [_("Ange ett belopp större än noll.")]
    elif from_line is not None and amount > from_line.amount:
        errors["amount"] = [
            _("Raden ”%(line)s” har bara %(amount)s att flytta.") % {"line": from_line.description,
                                                                    "amount": money(from_line.amount)}
        ]
    if not reason.strip():
        errors["reason"] = [_("Beskriv varför budgeten behöver ändras.")]
    if errors or from_line is None or to_line is None or amount is None:
        raise ValidationFailed(_("Ändringen kunde inte göras. Rätta det som är markerat."), details={"fields": errors})
    request = ChangeRequest.objects.create(
        application=application, from_line=from_line, to_line=to_line, amount=amount, reason=reason.strip(),
        requested_by=actor,
    )
    payload = {"change_request": request.pk, "from_line": from_line.description, "to_line": to_line.description,
               "amount": amount, "reason": request.reason}
    if needs_change_request(application=application, from_line=from_line, amount=amount):
        transition(actor=actor, application=application, event=Event.REQUEST_CHANGE, payload=payload)
        diarise(actor=actor, application=application, direction=DiariumEntry.Direction.INCOMING,
                description=f"Ändringsansökan: {money(amount, language='sv')} från {from_line.description} "
                            f"till {to_line.description}")
    else:
        _move(from_line, to_line, amount)
        request.status = ChangeRequest.Status.MADE
        request.save(update_fields=["status"])
        record(actor=actor, application=application, event=Event.REQUEST_CHANGE, payload={**payload, "made": True})
    return request


def _open_change(application) -> ChangeRequest:
    request = (
        ChangeRequest.objects.select_for_update(of=("self",))
        .filter(application=application, status=ChangeRequest.Status.REQUESTED)
        .select_related("from_line", "to_line")
        .first()
    )
    if request is None:
        raise TransitionNotAllowed(_("Det finns ingen ändringsansökan att pröva."))
    return request


def change_decide(*, actor: Actor, application, approve: bool, note: str = "") -> ChangeRequest:
    """The case officer approves (the money moves) or rejects a change request, with reasons."""
    require_door()
    request = _open_change(application)
    if not approve and not note.strip():
        raise ValidationFailed(_("Motivera varför ändringen inte godkänns (FL 32 §)."),
                               details={"fields": {"comment": [_("Ange skälen.")]}})
    lines = {line.pk: line for line in BudgetLine.objects.select_for_update(of=("self",)).filter(
        pk__in=[request.from_line_id, request.to_line_id])}
    if approve:
        from_line = lines[request.from_line_id]
        if request.amount > from_line.amount:
            raise ValidationFailed(_("Raden har inte längre så mycket kvar att flytta."))
        _move(from_line, lines[request.to_line_id], request.amount)
    request.status = ChangeRequest.Status.APPROVED if approve else ChangeRequest.Status.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note.strip()
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    transition(actor=actor, application=application, event=Event.APPROVE_CHANGE if approve else Event.REJECT_CHANGE,
               payload={"change_request": request.pk, "note": request.decision_note})
    outcome = "godkänd" if approve else "avslagen"
    _outgoing(actor, application, f"Beslut om ändringsansökan: {outcome}")
    notify_applicant(application=application, kind="change_decided", context={
        "approved": approve, "amount": request.amount, "from_line": request.from_line.description,
        "to_line": request.to_line.description, "note": request.decision_note,
    })
    return request
