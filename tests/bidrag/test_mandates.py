"""Issue 6, signing mandates: a firmatecknare/ombud signs only with a mandate proven by a
document and confirmed by Brå's registrar (who and when recorded, append-only); until then
the policy treats them as a sökande. Generated from the flow: every action only a
firmatecknare may take is refused to one whose mandate is missing, requested or rejected."""

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from arenden.errors import NotAllowed
from bidrag.models import MandateDecision, Membership
from tests.workflows.test_policy_matrix import assert_refused, attempt, reach, rolled_back
from workflows.door import nodes
from workflows.flows import ApplicationFlow
from workflows.steps import Party

pytestmark = pytest.mark.django_db


def signatory_actions():
    """Every action the flow names a firmatecknare (and not every member) for."""
    cases = [(name, a.name) for name, node in nodes().items() for a in node.actions
             if Party.SIGNATORY in a.by and Party.MEMBER not in a.by]
    cases += [(None, a.name) for a in ApplicationFlow.process_actions
              if Party.SIGNATORY in a.by and Party.MEMBER not in a.by]
    return cases


def test_the_flow_has_signatory_actions_submit_and_withdraw_among_them():
    names = {action for _node, action in signatory_actions()}
    assert {"submit", "withdraw", "submit_report", "request_change"} <= names


@pytest.mark.parametrize("node, action", signatory_actions(), ids=[f"{n}-{a}" for n, a in signatory_actions()])
@pytest.mark.parametrize("state", [Membership.Mandate.MISSING, Membership.Mandate.REQUESTED, Membership.Mandate.REJECTED])
def test_a_firmatecknare_without_a_confirmed_mandate_counts_as_a_sokande(node, action, state, make_application, cast):
    application = reach(node, make_application, cast)
    membership = Membership.objects.get(organisation=application.organisation, user=cast.signatory)
    assert membership.may_sign  # the demo's firmatecknare holds a confirmed mandate
    Membership.objects.filter(pk=membership.pk).update(
        mandate_state=state, mandate_confirmed_by=None, mandate_confirmed_at=None
    )
    with pytest.raises(NotAllowed) as refused:
        attempt(cast.signatory, application, node, action)
    assert "firmatecknare" in str(refused.value.message)
    assert_refused(cast.signatory, application, node, action)  # and nothing changed
    Membership.objects.filter(pk=membership.pk).update(
        mandate_state=Membership.Mandate.CONFIRMED, mandate_confirmed_by=cast.registrar,
        mandate_confirmed_at=membership.mandate_confirmed_at,
    )
    with rolled_back():
        attempt(cast.signatory, application, node, action)  # confirmed again: allowed


def test_the_demo_cast_signatory_mandate_is_confirmed_by_the_demo_registrar(draft, cast):
    membership = Membership.objects.get(organisation=draft.organisation, user=cast.signatory)
    assert membership.role == Membership.Role.SIGNATORY
    assert membership.mandate_state == Membership.Mandate.CONFIRMED
    assert membership.mandate_confirmed_by == cast.registrar and membership.mandate_confirmed_at
    record = MandateDecision.objects.get(organisation=draft.organisation, user=cast.signatory)
    assert record.outcome == MandateDecision.Outcome.CONFIRMED and record.decided_by == cast.registrar


def test_the_submit_page_refuses_an_unconfirmed_firmatecknare(draft, cast, client):
    Membership.objects.filter(organisation=draft.organisation, user=cast.signatory).update(
        mandate_state=Membership.Mandate.REQUESTED, mandate_confirmed_by=None, mandate_confirmed_at=None
    )
    client.force_login(cast.signatory)
    response = client.post(reverse("workflows:submit", args=[draft.pk]), {"idempotency_key": "x"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_mandate_decisions_are_append_only(draft, cast):
    record = MandateDecision.objects.get(organisation=draft.organisation, user=cast.signatory)
    with pytest.raises(DatabaseError), transaction.atomic():
        MandateDecision.objects.filter(pk=record.pk).update(reasons="ändrat i efterhand")
    with pytest.raises(DatabaseError), transaction.atomic():
        MandateDecision.objects.filter(pk=record.pk).delete()
    assert MandateDecision.objects.get(pk=record.pk).reasons == record.reasons
