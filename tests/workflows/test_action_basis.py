"""Issue 7: the decider sees the proposal they decide on (outcome, amount, conditions,
reasons, föredragande) on the action page, and finance sees the decision the money rests
on, the payee and what is already paid, not only the amount applied for."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from arenden.formatting import money
from bidrag.models import Proposal
from bidrag.models.application import Status
from tests.domain import perform

pytestmark = pytest.mark.django_db


def page_for(user, application, node, action) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("workflows:task_action", args=[application.pk, node, action]))
    assert response.status_code == 200, response.content[:300]
    text = re.sub(r"<[^>]+>", " ", response.content.decode())  # what the page says, without markup
    return " ".join(html.unescape(text).split())


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_decider_sees_the_proposal_before_deciding(make_application, cast):
    application = make_application(to=Status.DECISION_PROPOSED)
    proposal = Proposal.objects.get(application=application, is_open=True)
    page = page_for(cast.decision_maker, application, "decide", "decide")
    assert "Förslaget du beslutar om" in page
    assert proposal.get_outcome_display() in page
    if proposal.amount is not None:
        assert flat(money(proposal.amount, language="sv")) in page
    assert flat(proposal.reasons)[:50] in page
    assert (proposal.proposed_by.get_full_name() or proposal.proposed_by.get_username()) in page


def test_finance_sees_the_decision_the_payee_and_what_is_paid(make_application, cast):
    application = make_application(to=Status.GRANTED)
    decision = application.decisions.get()
    perform(actor=cast.officer, application=application, node="prepare_payment", action="prepare_disbursement")
    page = page_for(cast.finance, application, "attest_payment", "attest_disbursement")
    assert "Underlag för utbetalningen" in page
    assert f"Beviljat belopp {flat(money(decision.amount, language='sv'))}" in page
    assert f"Betalningsmottagare {application.organisation.name} ( {application.organisation.orgnr_display} )" in page
    assert f"Redan utbetalt {flat(money(0, language='sv'))}" in page
    assert "Denna utbetalning" in page


def test_an_action_without_a_basis_shows_none(make_application, cast):
    application = make_application(to=Status.SUBMITTED)
    page = page_for(cast.registrar, application, "register", "register")
    assert "Förslaget du beslutar om" not in page and "Underlag för utbetalningen" not in page
