"""Moving a case: each human step's actions, run in one transaction with the flow.

Lock order is fixed: the application row first (taken here and again by the service, which
is re-entrant within the transaction), then the task row. The service changes the state;
then the task's activation completes and the flow creates the next task, all before commit.
"""

from dataclasses import dataclass, field
from typing import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from arenden.errors import Conflict, NotAllowed, TransitionNotAllowed
from bidrag import services
from bidrag.models import Application, Disbursement, Proposal
from bidrag.models.application import Status
from bidrag.roles import Role

from . import forms
from .models import ApplicationProcess

ACTIVE = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    perform: Callable
    roles: tuple = ()
    form: type | None = None
    style: str = "primary"
    applicant: bool = False  # performed by the applicant organisation's members
    help: str = ""
    extra: dict = field(default_factory=dict)


def _open_disbursement(app):
    return app.disbursements.exclude(status=Disbursement.Status.STOPPED).order_by("-prepared_at").first()


S = services
NODE_ACTIONS: dict[str, list[Action]] = {
    "register": [
        Action("register", _("Registrera och lämna till handläggning"), roles=(Role.REGISTRAR,), form=forms.NoteForm,
               perform=lambda a, app, d: S.application_register(actor=a, application=app, note=d.get("note", ""))),
    ],
    "review": [
        Action("start_assessment", _("Ansökan är komplett – påbörja bedömning"), roles=(Role.CASE_OFFICER,),
               perform=lambda a, app, d: S.application_start_assessment(actor=a, application=app)),
        Action("request_supplement", _("Begär komplettering"), roles=(Role.CASE_OFFICER,), form=forms.DeadlineForm,
               style="secondary",
               perform=lambda a, app, d: S.application_request_supplement(
                   actor=a, application=app, deadline=d["deadline"], request_text=d["request_text"])),
        Action("propose_dismissal", _("Föreslå avvisning"), roles=(Role.CASE_OFFICER,), form=forms.ReasonsForm,
               style="danger",
               perform=lambda a, app, d: S.proposal_create(
                   actor=a, application=app, kind=Proposal.Kind.DISMISSAL, outcome=Proposal.Outcome.DISMISSED,
                   reasons=d["reasons"])),
    ],
    "await_supplement": [
        Action("supplement", _("Skicka komplettering"), applicant=True, form=forms.AnswerForm,
               perform=lambda a, app, d: S.application_receive_supplement(
                   actor=a, application=app, answer=d.get("answer", ""), uploaded_file=d.get("file"))),
    ],
    "dismiss": [
        Action("dismiss", _("Besluta om avvisning"), roles=(Role.DECISION_MAKER,), style="danger",
               perform=lambda a, app, d: S.application_dismiss(actor=a, application=app)),
        Action("return_proposal", _("Återremittera"), roles=(Role.DECISION_MAKER,), form=forms.CommentForm,
               style="secondary",
               perform=lambda a, app, d: S.application_return_proposal(actor=a, application=app, comment=d["comment"])),
    ],
    "assess": [
        Action("propose_decision", _("Lägg beslutsförslag"), roles=(Role.CASE_OFFICER,), form=forms.ProposalForm,
               perform=lambda a, app, d: S.proposal_create(
                   actor=a, application=app, kind=Proposal.Kind.DECISION, outcome=d["outcome"],
                   amount=d.get("amount"), reasons=d["reasons"], conditions=d.get("conditions", ""))),
        Action("communicate", _("Kommunicera material (FL 25 §)"), roles=(Role.CASE_OFFICER,), form=forms.DeadlineForm,
               style="secondary",
               perform=lambda a, app, d: S.application_communicate(
                   actor=a, application=app, deadline=d["deadline"], request_text=d["request_text"])),
    ],
    "await_comments": [
        Action("comments", _("Skicka yttrande"), applicant=True, form=forms.AnswerForm,
               perform=lambda a, app, d: S.application_receive_comments(
                   actor=a, application=app, answer=d.get("answer", ""), uploaded_file=d.get("file"))),
    ],
    "decide": [
        Action("decide", _("Besluta enligt förslaget"), roles=(Role.DECISION_MAKER,),
               perform=lambda a, app, d: S.application_decide(actor=a, application=app)),
        Action("return_proposal", _("Återremittera till handläggaren"), roles=(Role.DECISION_MAKER,),
               form=forms.CommentForm, style="secondary",
               perform=lambda a, app, d: S.application_return_proposal(actor=a, application=app, comment=d["comment"])),
    ],
    "prepare_payment": [
        Action("prepare", _("Förbered utbetalning av beviljat belopp"), roles=(Role.CASE_OFFICER,),
               perform=lambda a, app, d: S.disbursement_prepare(actor=a, application=app)),
    ],
    "attest_payment": [
        Action("attest", _("Attestera utbetalningen"), roles=(Role.FINANCE,),
               perform=lambda a, app, d: S.disbursement_attest(
                   actor=a, application=app, disbursement=_open_disbursement(app))),
    ],
    "pay": [
        Action("pay", _("Registrera utbetalning"), roles=(Role.FINANCE,), form=forms.PaymentForm,
               perform=lambda a, app, d: S.disbursement_pay(
                   actor=a, application=app, disbursement=_open_disbursement(app),
                   payment_reference=d["payment_reference"])),
    ],
    "await_report": [
        Action("submit_report", _("Skicka in slutrapport"), applicant=True, form=forms.ReportForm,
               perform=lambda a, app, d: S.report_submit(
                   actor=a, application=app, summary=d["summary"], actual_costs=d["actual_costs"])),
        Action("propose_repayment", _("Föreslå återkrav"), roles=(Role.CASE_OFFICER,),
               form=forms.RepaymentProposalForm, style="danger",
               perform=lambda a, app, d: S.proposal_create(
                   actor=a, application=app, kind=Proposal.Kind.REPAYMENT, outcome=Proposal.Outcome.REPAYMENT,
                   amount=d["amount"], reasons=d["reasons"])),
    ],
    "review_report": [
        Action("approve_report", _("Godkänn slutrapporten och avsluta ärendet"), roles=(Role.CASE_OFFICER,),
               form=forms.NoteForm,
               perform=lambda a, app, d: S.report_approve(actor=a, application=app, comment=d.get("note", ""))),
        Action("return_report", _("Begär komplettering av rapporten"), roles=(Role.CASE_OFFICER,),
               form=forms.CommentForm, style="secondary",
               perform=lambda a, app, d: S.report_return(actor=a, application=app, comment=d["comment"])),
        Action("propose_repayment", _("Föreslå återkrav"), roles=(Role.CASE_OFFICER,),
               form=forms.RepaymentProposalForm, style="danger",
               perform=lambda a, app, d: S.proposal_create(
                   actor=a, application=app, kind=Proposal.Kind.REPAYMENT, outcome=Proposal.Outcome.REPAYMENT,
                   amount=d["amount"], reasons=d["reasons"])),
    ],
    "claim_repayment": [
        Action("claim_repayment", _("Besluta om återkrav"), roles=(Role.DECISION_MAKER,), style="danger",
               perform=lambda a, app, d: S.repayment_claim(actor=a, application=app)),
        Action("return_proposal", _("Återremittera"), roles=(Role.DECISION_MAKER,), form=forms.CommentForm,
               style="secondary",
               perform=lambda a, app, d: S.application_return_proposal(actor=a, application=app, comment=d["comment"])),
    ],
    "settle_repayment": [
        Action("repaid", _("Registrera återbetalning"), roles=(Role.FINANCE,), form=forms.NoteForm,
               perform=lambda a, app, d: S.repayment_settle(
                   actor=a, application=app, waived=False, note=d.get("note", ""))),
        Action("waive", _("Efterge återkravet (särskilda skäl)"), roles=(Role.DECISION_MAKER,),
               form=forms.RequiredNoteForm, style="secondary",
               perform=lambda a, app, d: S.repayment_settle(
                   actor=a, application=app, waived=True, note=d["note"])),
    ],
}

# Handle steps the clock may complete once the deadline has passed.
CLOCK_ACTIONS = {
    "await_supplement": lambda app: S.application_receive_supplement(actor=None, application=app),
    "await_comments": lambda app: S.application_receive_comments(actor=None, application=app),
}


def find_action(node: str, name: str) -> Action | None:
    return next((a for a in NODE_ACTIONS.get(node, []) if a.name == name), None)


def active_tasks(application: Application):
    return (
        Task.objects.filter(process__applicationprocess__application=application, status__in=ACTIVE)
        .select_related("owner")
        .order_by("created")
    )


def _lock_task(application: Application, node: str):
    task = (
        Task.objects.select_for_update()
        .filter(process__applicationprocess__application_id=application.pk, status__in=ACTIVE)
        .order_by("created")
    )
    task = [t for t in task if t.flow_task is not None and t.flow_task.name == node]
    if not task:
        raise Conflict(_("Uppgiften är redan utförd eller finns inte längre. Ladda om sidan."))
    return task[0]


def _complete(task, actor) -> None:
    activation = task.flow_task.activation_class(task)
    if task.flow_task_type == "HUMAN":
        if task.status == STATUS.NEW:
            activation.assign(actor)
        if activation.start.can_proceed():
            activation.start(None)
        activation.execute()
    else:  # Handle: completed by the applicant, the case officer or the clock
        activation.run(None)
        activation.execute()


def task_perform(*, actor, application: Application, node: str, action: str, data: dict):
    """Run one action of a human or waiting step, then complete that step in the flow."""
    spec = find_action(node, action)
    if spec is None:
        raise NotAllowed(_("Okänd åtgärd."))
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        task = _lock_task(application, node)
        if task.owner_id and actor and task.owner_id != actor.pk and not spec.applicant:
            raise NotAllowed(
                _("Uppgiften är tilldelad %(name)s.") % {"name": task.owner.get_full_name() or task.owner.username}
            )
        result = spec.perform(actor, application, data)
        _complete(task, actor)
        return result


def task_claim(*, actor, application: Application, node: str) -> None:
    with transaction.atomic():
        Application.objects.select_for_update().get(pk=application.pk)
        task = _lock_task(application, node)
        if task.flow_task_type != "HUMAN" or not actor.has_perm(task.owner_permission):
            raise NotAllowed(_("Uppgiften ligger inte i någon av dina köer."))
        if task.status != STATUS.NEW:
            raise Conflict(_("Uppgiften har redan tagits av någon annan."))
        task.flow_task.activation_class(task).assign(actor)


def task_release(*, actor, application: Application, node: str) -> None:
    with transaction.atomic():
        Application.objects.select_for_update().get(pk=application.pk)
        task = _lock_task(application, node)
        if task.owner_id != actor.pk:
            raise NotAllowed(_("Du kan bara lämna tillbaka dina egna uppgifter."))
        task.flow_task.activation_class(task).unassign()


def application_submit_and_start(*, actor, application: Application, idempotency_key: str = "") -> Application:
    """Submit the draft and start its process in the same transaction."""
    from .flows import ApplicationFlow

    with transaction.atomic():
        application = services.application_submit(actor=actor, application=application, idempotency_key=idempotency_key)
        if not ApplicationProcess.objects.filter(application=application).exists():
            ApplicationFlow.start.run(application=application)
        return application


def application_withdraw_and_cancel(*, actor, application: Application, reason: str = "") -> Application:
    """Withdraw through the service, then cancel what the flow still expected of anyone."""
    with transaction.atomic():
        application = services.application_withdraw(actor=actor, application=application, reason=reason)
        process = ApplicationProcess.objects.filter(application=application).first()
        if process is not None:
            now = timezone.now()
            process.task_set.filter(status__in=ACTIVE).update(status=STATUS.CANCELED, finished=now)
            process.status = PROCESS.CANCELED
            process.finished = now
            process.save(update_fields=["status", "finished"])
        return application


def deadlines_run() -> int:
    """Complete waiting steps whose deadline passed: the case goes back to the officer."""
    passed = 0
    today = timezone.localdate()
    overdue = Application.objects.filter(
        status__in=[Status.AWAITING_SUPPLEMENT, Status.AWAITING_COMMENTS], deadline__lt=today
    ).values_list("pk", flat=True)
    for pk in list(overdue):
        application = Application.objects.get(pk=pk)
        node = "await_supplement" if application.status == Status.AWAITING_SUPPLEMENT else "await_comments"
        try:
            with transaction.atomic():
                application = Application.objects.select_for_update().get(pk=pk)
                task = _lock_task(application, node)
                CLOCK_ACTIONS[node](application)
                _complete(task, None)
                passed += 1
        except (Conflict, TransitionNotAllowed):
            continue  # answered meanwhile
    return passed
