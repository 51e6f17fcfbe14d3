"""The application lifecycle as a viewflow Flow: who acts next, for whom.

Read as process documentation: each step names its queue (a permission held by one role
group), and each gateway reads the application's state, which only services change.
Human steps are completed by workflows.actions, which calls the services.
"""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock

from bidrag.models import Proposal
from bidrag.models.application import Status

from .models import ApplicationProcess
from .views import TaskView

REGISTRAR = "bidrag.register_application"
CASE_OFFICER = "bidrag.handle_application"
DECISION_MAKER = "bidrag.decide_application"
FINANCE = "bidrag.manage_payments"


def status_is(*states):
    return lambda activation: activation.process.application.status in states


def open_proposal_is(kind):
    return lambda activation: activation.process.application.proposals.filter(is_open=True, kind=kind).exists()


class ApplicationFlow(flow.Flow):
    process_class = ApplicationProcess
    process_title = _("Ansökan om ekonomiskt stöd")
    # The services lock the application row; the flow's own work runs in that transaction.
    lock_impl = lock.no_lock

    start = flow.StartHandle(this.start_process).Annotation(title=_("Ansökan inkommen")).Next(this.register)

    register = (
        flow.View(TaskView).Annotation(title=_("Registrera ansökan")).Permission(REGISTRAR).Next(this.review)
    )

    review = (
        flow.View(TaskView)
        .Annotation(title=_("Granska ansökan (formalia)"))
        .Permission(CASE_OFFICER)
        .Next(this.route_review)
    )
    route_review = (
        flow.Switch()
        .Annotation(title=_("Efter granskning"))
        .Case(this.await_supplement, status_is(Status.AWAITING_SUPPLEMENT))
        .Case(this.assess, status_is(Status.IN_ASSESSMENT))
        .Case(this.dismiss, open_proposal_is(Proposal.Kind.DISMISSAL))
        .Default(this.review)
    )
    await_supplement = flow.Handle().Annotation(title=_("Väntar på komplettering")).Next(this.review)

    dismiss = (
        flow.View(TaskView)
        .Annotation(title=_("Besluta om avvisning"))
        .Permission(DECISION_MAKER)
        .Next(this.route_dismiss)
    )
    route_dismiss = flow.Switch().Case(this.end, status_is(Status.DISMISSED)).Default(this.review)

    assess = (
        flow.View(TaskView)
        .Annotation(title=_("Bedöm ansökan"))
        .Permission(CASE_OFFICER)
        .Next(this.route_assess)
    )
    route_assess = (
        flow.Switch()
        .Case(this.await_comments, status_is(Status.AWAITING_COMMENTS))
        .Case(this.decide, status_is(Status.DECISION_PROPOSED))
        .Default(this.assess)
    )
    await_comments = flow.Handle().Annotation(title=_("Väntar på yttrande")).Next(this.assess)

    decide = (
        flow.View(TaskView)
        .Annotation(title=_("Fatta beslut"))
        .Permission(DECISION_MAKER)
        .Next(this.route_decide)
    )
    route_decide = (
        flow.Switch()
        .Case(this.prepare_payment, status_is(Status.GRANTED))
        .Case(this.end, status_is(Status.REJECTED))
        .Default(this.assess)
    )

    prepare_payment = (
        flow.View(TaskView)
        .Annotation(title=_("Förbered utbetalning"))
        .Permission(CASE_OFFICER)
        .Next(this.attest_payment)
    )
    attest_payment = (
        flow.View(TaskView).Annotation(title=_("Attestera utbetalning")).Permission(FINANCE).Next(this.pay)
    )
    pay = flow.View(TaskView).Annotation(title=_("Betala ut")).Permission(FINANCE).Next(this.await_report)

    await_report = flow.Handle().Annotation(title=_("Väntar på slutrapport")).Next(this.route_report_in)
    route_report_in = (
        flow.Switch()
        .Case(this.review_report, status_is(Status.REPORT_REVIEW))
        .Case(this.claim_repayment, open_proposal_is(Proposal.Kind.REPAYMENT))
        .Default(this.await_report)
    )
    review_report = (
        flow.View(TaskView)
        .Annotation(title=_("Granska slutrapport"))
        .Permission(CASE_OFFICER)
        .Next(this.route_report)
    )
    route_report = (
        flow.Switch()
        .Case(this.end, status_is(Status.CLOSED))
        .Case(this.claim_repayment, open_proposal_is(Proposal.Kind.REPAYMENT))
        .Case(this.await_report, status_is(Status.IN_PROGRESS))
        .Default(this.review_report)
    )

    claim_repayment = (
        flow.View(TaskView)
        .Annotation(title=_("Besluta om återkrav"))
        .Permission(DECISION_MAKER)
        .Next(this.route_claim)
    )
    route_claim = (
        flow.Switch()
        .Case(this.settle_repayment, status_is(Status.REPAYMENT_CLAIMED))
        .Case(this.review_report, status_is(Status.REPORT_REVIEW))
        .Default(this.await_report)
    )
    settle_repayment = (
        flow.View(TaskView)
        .Annotation(title=_("Registrera återbetalning eller eftergift"))
        .Permission(FINANCE)
        .Next(this.end)
    )

    end = flow.End()

    def start_process(self, activation, application):
        activation.process.application = application
        return activation.process
