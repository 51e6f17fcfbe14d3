"""Four eyes along the real paths (Myndighetsförordningen 21 §: who decided and who
presented are two people; attester ≠ preparer; payer ≠ attester)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from arenden.errors import ErrorCode, NotAllowed
from bidrag.models import Application, Decision, Disbursement, Proposal
from bidrag.models.application import Status
from bidrag.roles import Role
from tests.domain import REFUSAL_REASONS, perform, to_queue

pytestmark = pytest.mark.django_db


def with_roles(user, *roles):
    user.groups.add(*Group.objects.filter(name__in=roles))
    return type(user).objects.get(pk=user.pk)  # fresh: roles are cached per user object


def test_mf21_decider_who_communicated_under_fl25_cannot_decide(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    both = with_roles(cast.officer2, Role.DECISION_MAKER)
    to_queue(application)  # the assessment was Hanna's: released, another officer takes it
    soon = timezone.localdate() + timedelta(days=7)
    perform(actor=both, application=application, node="assess", action="communicate",
            data={"deadline": soon, "request_text": "Yttra er"})
    perform(actor=cast.applicant, application=application, node="await_comments", action="receive_comments",
            data={"answer": "Inget"})
    to_queue(application)  # the answer came back to Hugo, who asked; he hands the case on
    perform(actor=cast.officer, application=application, node="assess", action="propose_decision",
            data={"outcome": Proposal.Outcome.REJECTED, "reasons": REFUSAL_REASONS})
    with pytest.raises(NotAllowed) as excinfo:
        perform(actor=both, application=application, node="decide", action="decide")
    assert excinfo.value.code == ErrorCode.FOUR_EYES
    assert not Decision.objects.filter(application=application).exists()
    perform(actor=cast.decision_maker, application=application, node="decide", action="decide")
    assert Application.objects.get(pk=application.pk).status == Status.REJECTED


def test_payer_is_not_the_attester(make_application, cast):
    application = make_application(to=Status.GRANTED)
    perform(actor=cast.officer, application=application, node="prepare_payment", action="prepare_disbursement")
    perform(actor=cast.finance, application=application, node="attest_payment", action="attest_disbursement")
    with pytest.raises(NotAllowed) as excinfo:
        perform(actor=cast.finance, application=application, node="pay", action="pay_disbursement",
                data={"payment_reference": "PAIN-7"})
    assert excinfo.value.code == ErrorCode.FOUR_EYES
    assert Disbursement.objects.get(application=application).status == Disbursement.Status.ATTESTED
    perform(actor=cast.finance2, application=application, node="pay", action="pay_disbursement",
            data={"payment_reference": "PAIN-7"})
    disbursement = Disbursement.objects.get(application=application)
    assert (disbursement.prepared_by, disbursement.attested_by, disbursement.paid_by) == (
        cast.officer, cast.finance, cast.finance2)


def test_attester_is_not_the_preparer(make_application, cast):
    application = make_application(to=Status.GRANTED)
    both = with_roles(cast.officer, Role.FINANCE)
    perform(actor=both, application=application, node="prepare_payment", action="prepare_disbursement")
    with pytest.raises(NotAllowed) as excinfo:
        perform(actor=both, application=application, node="attest_payment", action="attest_disbursement")
    assert excinfo.value.code == ErrorCode.FOUR_EYES
    assert Disbursement.objects.get(application=application).status == Disbursement.Status.PLANNED


def test_waiver_is_proposed_by_one_and_decided_by_another(make_application, cast):
    application = make_application(to=Status.REPAYMENT_CLAIMED)
    both = with_roles(cast.finance, Role.DECISION_MAKER)
    perform(actor=both, application=application, node="settle_repayment", action="propose_waiver",
            data={"reasons": "Kommunen har handlat i god tro"})
    with pytest.raises(NotAllowed) as excinfo:
        perform(actor=both, application=application, node="decide_waiver", action="waive_repayment")
    assert excinfo.value.code == ErrorCode.FOUR_EYES
    assert Application.objects.get(pk=application.pk).status == Status.REPAYMENT_CLAIMED
    perform(actor=cast.decision_maker, application=application, node="decide_waiver", action="waive_repayment")
    waiver = Decision.objects.get(application=application, outcome=Decision.Outcome.REPAYMENT_WAIVED)
    assert waiver.presented_by_id == both.pk and waiver.decided_by_id == cast.decision_maker.pk
