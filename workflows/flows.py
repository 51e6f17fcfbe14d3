"""The application lifecycle, declared once (DESIGN.md §3–§4).

Read top to bottom as the process: each node names its title and its actions — who may
take each one (a staff role, the applicant organisation, the clock), the service it calls,
the state transition it takes and whom four eyes bars from it. Every action is taken
through workflows.door; every gateway reads the application's state, which only the
services change. Queues are derived: a Step sits in the queue of its actions' role.
"""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from bidrag import services as S
from bidrag.events import ASSESSMENT_EVENTS, Event
from bidrag.models import Disbursement, Proposal
from bidrag.models.application import Status
from bidrag.roles import Role

from . import forms
from .models import ApplicationProcess
from .reconsideration_forms import ReconsiderationForm
from .score_form import ScoreForm
from .steps import Action, Party, Start, Step, Wait

REGISTRAR, OFFICER, DECIDER, FINANCE = Role.REGISTRAR, Role.CASE_OFFICER, Role.DECISION_MAKER, Role.FINANCE
MEMBER, SIGNATORY, CLOCK = Party.MEMBER, Party.SIGNATORY, Party.CLOCK


def status_is(*states):
    return lambda activation: activation.process.application.status in states


def open_proposal_is(kind):
    return lambda activation: activation.process.application.proposals.filter(is_open=True, kind=kind).exists()


def reconsidered_into_grant(activation) -> bool:
    """A grant with nothing else open in its process: a rejection or dismissal reconsidered
    into a grant (FL 37 §), whose process had ended, so payment starts here. A grant changed
    before payment keeps the payment step it has; a returned proposal opens nothing."""
    if activation.process.application.status != Status.GRANTED:
        return False
    others = activation.flow_class.task_class.objects.filter(process=activation.process, finished__isnull=True)
    return not others.exclude(pk=activation.task.pk).exists()


def disbursement_is(*states):
    return lambda activation: (
        activation.process.application.disbursements.filter(status__in=states).exists()
    )


# Actions offered at more than one step, declared once.
RETURN_PROPOSAL = Action(
    Event.RETURN_PROPOSAL, _("Återremittera"), by=(DECIDER,), form=forms.CommentForm, style="secondary",
    transitions=("return_proposal",), four_eyes=ASSESSMENT_EVENTS,
    perform=lambda a, app, d: S.application_return_proposal(actor=a, application=app, comment=d["comment"]),
)
PROPOSE_REPAYMENT = Action(
    Event.PROPOSE_REPAYMENT, _("Föreslå återkrav"), by=(OFFICER,), form=forms.RepaymentProposalForm, style="danger",
    creates="Proposal",
    perform=lambda a, app, d: S.proposal_create(
        actor=a, application=app, kind=Proposal.Kind.REPAYMENT, outcome=Proposal.Outcome.REPAYMENT,
        amount=d["amount"], reasons=d["reasons"]),
)
STOP_DISBURSEMENT = Action(
    Event.STOP_DISBURSEMENT, _("Stoppa utbetalningen"), by=(FINANCE,), form=forms.RequiredNoteForm, style="danger",
    transitions=("Disbursement.stop",),
    perform=lambda a, app, d: S.disbursement_stop(actor=a, application=app, reason=d["note"]),
)
# Any time before the decision, by the applicant's firmatecknare; cancels what the flow
# still expected of anyone (workflows.door).
WITHDRAW = Action(
    Event.WITHDRAW, _("Återkalla ansökan"), by=(SIGNATORY,), form=forms.WithdrawForm, style="danger",
    transitions=("withdraw",),
    perform=lambda a, app, d: S.application_withdraw(actor=a, application=app, reason=d.get("reason", "")),
)
# FL 37–39 §§: after a decision, on a request, an appeal or Brå's own initiative, a case
# officer proposes it changed; that opens the decision maker's step beside whatever the
# process still expects (payment of a grant), or after its end (a rejection or dismissal).
PROPOSE_RECONSIDERATION = Action(
    Event.PROPOSE_RECONSIDERATION, _("Ompröva beslutet"), by=(OFFICER,), form=ReconsiderationForm,
    style="secondary", creates="Proposal", opens="decide_reconsideration",
    perform=lambda a, app, d: S.reconsideration_propose(
        actor=a, application=app, outcome=d["outcome"], amount=d.get("amount"), reasons=d["reasons"],
        conditions=d.get("conditions", ""), detriment_ground=d.get("detriment_ground", ""), why=d.get("why", ""),
        appeal_id=d.get("appeal"), communication_deadline=d.get("communication_deadline"),
        communication_text=d.get("communication_text", "")),
)


class ApplicationFlow(flow.Flow):
    process_class = ApplicationProcess
    process_title = _("Ansökan om ekonomiskt stöd")
    # The door takes the locks, in its fixed order, inside its own transaction.
    lock_impl = lock.no_lock
    # Actions that belong to no single step (DESIGN.md §4: withdraw from draft…decision_proposed;
    # a reconsideration's proposal after a decision, which opens decide_reconsideration).
    process_actions = (WITHDRAW, PROPOSE_RECONSIDERATION)

    start = Start(this.start_process, _("Ansökan inkommen")).Actions(
        Action(Event.SUBMIT, _("Signera och skicka in"), by=(SIGNATORY,), transitions=("submit",),
               perform=lambda a, app, d: S.application_submit(
                   actor=a, application=app, idempotency_key=d.get("idempotency_key", ""))),
    ).Next(this.register)

    register = Step(_("Registrera ansökan")).Actions(
        Action(Event.REGISTER, _("Registrera och lämna till handläggning"), by=(REGISTRAR,), form=forms.NoteForm,
               transitions=("register",),
               perform=lambda a, app, d: S.application_register(actor=a, application=app, note=d.get("note", ""))),
    ).Next(this.review)

    review = Step(_("Granska ansökan (formalia)")).Actions(
        Action(Event.START_ASSESSMENT, _("Ansökan är komplett – påbörja bedömning"), by=(OFFICER,),
               transitions=("start_assessment",),
               perform=lambda a, app, d: S.application_start_assessment(actor=a, application=app)),
        Action(Event.REQUEST_SUPPLEMENT, _("Begär komplettering"), by=(OFFICER,), form=forms.SupplementRequestForm,
               style="secondary", transitions=("request_supplement",),
               perform=lambda a, app, d: S.application_request_supplement(
                   actor=a, application=app, deadline=d["deadline"], request_text=d.get("request_text", ""),
                   missing=d.get("missing", ()))),
        Action(Event.PROPOSE_DISMISSAL, _("Föreslå avvisning"), by=(OFFICER,), form=forms.ReasonsForm, style="danger",
               creates="Proposal",
               perform=lambda a, app, d: S.proposal_create(
                   actor=a, application=app, kind=Proposal.Kind.DISMISSAL, outcome=Proposal.Outcome.DISMISSED,
                   reasons=d["reasons"])),
    ).Next(this.route_review)
    route_review = (
        flow.Switch()
        .Annotation(title=_("Efter granskning"))
        .Case(this.await_supplement, status_is(Status.AWAITING_SUPPLEMENT))
        .Case(this.assess, status_is(Status.IN_ASSESSMENT))
        .Case(this.dismiss, open_proposal_is(Proposal.Kind.DISMISSAL))
        .Default(this.review)
    )
    await_supplement = Wait(_("Väntar på komplettering")).Actions(
        Action(Event.RECEIVE_SUPPLEMENT, _("Skicka komplettering"), by=(MEMBER,), form=forms.AnswerForm,
               transitions=("receive_supplement",),
               perform=lambda a, app, d: S.application_receive_supplement(
                   actor=a, application=app, answer=d.get("answer", ""), stored_file=d.get("file"))),
        Action(Event.DEADLINE_PASSED, _("Svarsfristen har gått ut"), by=(CLOCK,), transitions=("receive_supplement",),
               perform=lambda a, app, d: S.application_deadline_passed(actor=None, application=app)),
    ).Next(this.review)

    dismiss = Step(_("Besluta om avvisning")).Actions(
        Action(Event.DISMISS, _("Besluta om avvisning"), by=(DECIDER,), form=forms.DecideForm, style="danger",
               transitions=("dismiss",), four_eyes=ASSESSMENT_EVENTS,
               perform=lambda a, app, d: S.application_dismiss(
                   actor=a, application=app, participants=d.get("participants") or ())),
        RETURN_PROPOSAL,
    ).Next(this.route_dismiss)
    route_dismiss = flow.Switch().Case(this.end, status_is(Status.DISMISSED)).Default(this.review)

    assess = Step(_("Bedöm ansökan")).Actions(
        # One assessment per assessor, editable by its author until the proposal; whoever
        # scores takes part in the assessment (ASSESSMENT_EVENTS) and may not decide.
        Action(Event.SCORE, _("Bedöm enligt kriterierna"), by=(OFFICER,), form=ScoreForm, style="secondary",
               creates="Assessment",
               perform=lambda a, app, d: S.assessment_record(actor=a, application=app, scores=d["scores"])),
        Action(Event.PROPOSE_DECISION, _("Lägg beslutsförslag"), by=(OFFICER,), form=forms.ProposalForm,
               transitions=("propose_decision",), creates="Proposal",
               perform=lambda a, app, d: S.proposal_create(
                   actor=a, application=app, kind=Proposal.Kind.DECISION, outcome=d["outcome"],
                   amount=d.get("amount"), reasons=d["reasons"], conditions=d.get("conditions", ""),
                   communication_waived=d.get("communication_waived", ""))),
        Action(Event.COMMUNICATE, _("Kommunicera material (FL 25 §)"), by=(OFFICER,), form=forms.DeadlineForm,
               style="secondary", transitions=("communicate",),
               perform=lambda a, app, d: S.application_communicate(
                   actor=a, application=app, deadline=d["deadline"], request_text=d["request_text"])),
    ).Next(this.route_assess)
    route_assess = (
        flow.Switch()
        .Case(this.await_comments, status_is(Status.AWAITING_COMMENTS))
        .Case(this.decide, status_is(Status.DECISION_PROPOSED))
        .Default(this.assess)
    )
    await_comments = Wait(_("Väntar på yttrande")).Actions(
        Action(Event.RECEIVE_COMMENTS, _("Skicka yttrande"), by=(MEMBER,), form=forms.AnswerForm,
               transitions=("receive_comments",),
               perform=lambda a, app, d: S.application_receive_comments(
                   actor=a, application=app, answer=d.get("answer", ""), stored_file=d.get("file"))),
        Action(Event.DEADLINE_PASSED, _("Svarsfristen har gått ut"), by=(CLOCK,), transitions=("receive_comments",),
               perform=lambda a, app, d: S.application_deadline_passed(actor=None, application=app)),
    ).Next(this.assess)

    decide = Step(_("Fatta beslut")).Actions(
        Action(Event.DECIDE, _("Besluta enligt förslaget"), by=(DECIDER,), form=forms.DecideForm,
               transitions=("decide",), four_eyes=ASSESSMENT_EVENTS,
               perform=lambda a, app, d: S.application_decide(
                   actor=a, application=app, participants=d.get("participants") or ())),
        RETURN_PROPOSAL,
    ).Next(this.route_decide)
    route_decide = (
        flow.Switch()
        .Case(this.prepare_payment, status_is(Status.GRANTED))
        .Case(this.end, status_is(Status.REJECTED))
        .Default(this.assess)
    )

    prepare_payment = Step(_("Förbered utbetalning")).Actions(
        Action(Event.PREPARE_DISBURSEMENT, _("Förbered utbetalning av beviljat belopp"), by=(OFFICER,),
               creates="Disbursement",
               perform=lambda a, app, d: S.disbursement_prepare(actor=a, application=app)),
    ).Next(this.attest_payment)
    attest_payment = Step(_("Attestera utbetalning")).Actions(
        Action(Event.ATTEST_DISBURSEMENT, _("Attestera utbetalningen"), by=(FINANCE,),
               transitions=("Disbursement.attest",), four_eyes=frozenset({Event.PREPARE_DISBURSEMENT}),
               perform=lambda a, app, d: S.disbursement_attest(actor=a, application=app)),
        STOP_DISBURSEMENT,
    ).Next(this.route_attest)
    route_attest = (
        flow.Switch().Case(this.pay, disbursement_is(Disbursement.Status.ATTESTED)).Default(this.prepare_payment)
    )
    pay = Step(_("Betala ut")).Actions(
        Action(Event.PAY_DISBURSEMENT, _("Registrera utbetalning"), by=(FINANCE,), form=forms.PaymentForm,
               transitions=("Disbursement.pay", "pay_disbursement"),
               four_eyes=frozenset({Event.ATTEST_DISBURSEMENT}),
               perform=lambda a, app, d: S.disbursement_pay(
                   actor=a, application=app, payment_reference=d["payment_reference"],
                   disbursement_id=d.get("disbursement_id"))),
        STOP_DISBURSEMENT,
    ).Next(this.route_pay)
    route_pay = flow.Switch().Case(this.await_report, status_is(Status.IN_PROGRESS)).Default(this.prepare_payment)

    await_report = Wait(_("Väntar på slutrapport")).Actions(
        Action(Event.SUBMIT_REPORT, _("Skicka in slutrapport"), by=(SIGNATORY,), form=forms.ReportForm,
               transitions=("submit_report",),
               perform=lambda a, app, d: S.report_submit(
                   actor=a, application=app, summary=d.get("summary", ""),
                   actual_costs=forms.ReportForm.actual_costs(d), financial_report=d.get("financial_report"))),
        Action(Event.SUBMIT_INTERIM_REPORT, _("Lämna delrapport"), by=(SIGNATORY,), form=forms.ReportForm,
               style="secondary", creates="Report",
               perform=lambda a, app, d: S.report_submit_interim(
                   actor=a, application=app, summary=d.get("summary", ""),
                   actual_costs=forms.ReportForm.actual_costs(d), financial_report=d.get("financial_report"))),
        Action(Event.REQUEST_CHANGE, _("Ändra budgeten"), by=(SIGNATORY,), form=forms.ChangeRequestForm,
               style="secondary", transitions=("request_change",), creates="ChangeRequest",
               perform=lambda a, app, d: S.change_request(
                   actor=a, application=app, from_line_id=d.get("from_line"), to_line_id=d.get("to_line"),
                   amount=d.get("amount"), reason=d.get("reason", ""))),
        PROPOSE_REPAYMENT,
    ).Next(this.route_report_in)
    route_report_in = (
        flow.Switch()
        .Case(this.review_report, status_is(Status.REPORT_REVIEW))
        .Case(this.review_change, status_is(Status.CHANGE_REVIEW))
        .Case(this.claim_repayment, open_proposal_is(Proposal.Kind.REPAYMENT))
        .Default(this.await_report)
    )
    review_change = Step(_("Pröva ändringsansökan")).Actions(
        Action(Event.APPROVE_CHANGE, _("Godkänn ändringen"), by=(OFFICER,), form=forms.DecideChangeForm,
               transitions=("approve_change",),
               perform=lambda a, app, d: S.change_decide(actor=a, application=app, approve=True,
                                                         note=d.get("comment", ""))),
        Action(Event.REJECT_CHANGE, _("Avslå ändringen"), by=(OFFICER,), form=forms.DecideChangeForm,
               style="secondary", transitions=("reject_change",),
               perform=lambda a, app, d: S.change_decide(actor=a, application=app, approve=False,
                                                         note=d.get("comment", ""))),
    ).Next(this.route_change)
    route_change = flow.Switch().Case(this.await_report, status_is(Status.IN_PROGRESS)).Default(this.review_change)

    review_report = Step(_("Granska slutrapport")).Actions(
        Action(Event.APPROVE_REPORT, _("Godkänn slutrapporten och avsluta ärendet"), by=(OFFICER,),
               form=forms.NoteForm, transitions=("approve_report", "Report.approve"),
               perform=lambda a, app, d: S.report_approve(actor=a, application=app, comment=d.get("note", ""))),
        Action(Event.RETURN_REPORT, _("Begär komplettering av rapporten"), by=(OFFICER,), form=forms.CommentForm,
               style="secondary", transitions=("return_report", "Report.return_for_supplement"),
               perform=lambda a, app, d: S.report_return(actor=a, application=app, comment=d["comment"])),
        PROPOSE_REPAYMENT,
    ).Next(this.route_report)
    route_report = (
        flow.Switch()
        .Case(this.end, status_is(Status.CLOSED))
        .Case(this.claim_repayment, open_proposal_is(Proposal.Kind.REPAYMENT))
        .Case(this.await_report, status_is(Status.IN_PROGRESS))
        .Default(this.review_report)
    )

    claim_repayment = Step(_("Besluta om återkrav")).Actions(
        Action(Event.CLAIM_REPAYMENT, _("Besluta om återkrav"), by=(DECIDER,), style="danger",
               transitions=("claim_repayment",), four_eyes=ASSESSMENT_EVENTS,
               perform=lambda a, app, d: S.repayment_claim(actor=a, application=app)),
        RETURN_PROPOSAL,
    ).Next(this.route_claim)
    route_claim = (
        flow.Switch()
        .Case(this.settle_repayment, status_is(Status.REPAYMENT_CLAIMED))
        .Case(this.review_report, status_is(Status.REPORT_REVIEW))
        .Default(this.await_report)
    )
    settle_repayment = Step(_("Bevaka återbetalning")).Actions(
        Action(Event.REGISTER_REPAYMENT, _("Registrera återbetalning"), by=(FINANCE,), form=forms.NoteForm,
               transitions=("register_repayment",),
               perform=lambda a, app, d: S.repayment_register(actor=a, application=app, note=d.get("note", ""))),
        Action(Event.PROPOSE_WAIVER, _("Föreslå eftergift (särskilda skäl)"), by=(FINANCE,), form=forms.ReasonsForm,
               style="secondary", creates="Proposal",
               perform=lambda a, app, d: S.proposal_create(
                   actor=a, application=app, kind=Proposal.Kind.WAIVER, outcome=Proposal.Outcome.WAIVER,
                   reasons=d["reasons"])),
    ).Next(this.route_settle)
    route_settle = (
        flow.Switch()
        .Case(this.end, status_is(Status.CLOSED))
        .Case(this.decide_waiver, open_proposal_is(Proposal.Kind.WAIVER))
        .Default(this.settle_repayment)
    )
    decide_waiver = Step(_("Besluta om eftergift")).Actions(
        Action(Event.WAIVE_REPAYMENT, _("Efterge återkravet"), by=(DECIDER,), transitions=("waive_repayment",),
               four_eyes=ASSESSMENT_EVENTS,
               perform=lambda a, app, d: S.repayment_waive(actor=a, application=app)),
        RETURN_PROPOSAL,
    ).Next(this.route_waiver)
    route_waiver = flow.Switch().Case(this.end, status_is(Status.CLOSED)).Default(this.settle_repayment)

    # Opened by PROPOSE_RECONSIDERATION (workflows.door), not reached from the steps above.
    decide_reconsideration = Step(_("Besluta om omprövning")).Actions(
        Action(Event.RECONSIDER, _("Besluta enligt förslaget om omprövning"), by=(DECIDER,), form=forms.DecideForm,
               transitions=("reconsider",), four_eyes=ASSESSMENT_EVENTS,
               perform=lambda a, app, d: S.application_reconsider(
                   actor=a, application=app, participants=d.get("participants") or ())),
        RETURN_PROPOSAL,
    ).Next(this.route_reconsideration)
    route_reconsideration = (
        flow.Switch()
        .Annotation(title=_("Efter omprövning"))
        .Case(this.prepare_payment, reconsidered_into_grant)
        .Default(this.end)
    )

    end = flow.End()

    def start_process(self, activation, application):
        activation.process.application = application
        return activation.process
