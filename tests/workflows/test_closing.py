"""A case is closed in one place (arenden.services.case_close), journaled and diarised,
whichever way it ends; withdrawal leaves nothing open behind it."""

import pytest

from bidrag.models import Proposal
from bidrag.models.application import Status
from tests.domain import REFUSAL_REASONS, perform
from workflows.selectors import active_tasks

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", [Status.DISMISSED, Status.REJECTED, Status.CLOSED, Status.WITHDRAWN])
def test_every_ending_closes_the_case_with_journal_and_diarium(make_application, state):
    application = make_application(to=state)
    case = application.case
    case.refresh_from_db()
    assert case.closed_at is not None
    [closing] = case.journal.filter(action="close_case")
    assert closing.seq == case.journal_seq  # the last event
    assert case.diarium_entries.filter(description__startswith="Ärendet avslutat").count() == 1


def test_repayment_settled_closes_the_case(make_application, cast):
    application = make_application(to=Status.REPAYMENT_CLAIMED)
    perform(actor=cast.finance, application=application, node="settle_repayment", action="register_repayment")
    application.case.refresh_from_db()
    assert application.case.closed_at is not None
    assert application.case.journal.filter(action="close_case").count() == 1


def test_withdrawal_closes_an_open_proposal_and_every_task(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    perform(actor=cast.officer, application=application, node="review", action="propose_dismissal",
            data={"reasons": REFUSAL_REASONS})
    perform(actor=cast.signatory, application=application, node=None, action="withdraw", data={"reason": "Avstår"})
    assert not Proposal.objects.filter(application=application, is_open=True).exists()
    assert active_tasks(application) == []


def test_a_withdrawn_draft_is_closed_without_a_diarium_entry(draft, cast):
    perform(actor=cast.signatory, application=draft, node=None, action="withdraw", data={"reason": "Fel"})
    draft.case.refresh_from_db()
    assert draft.case.closed_at is not None and draft.case.diarienummer is None
    assert not draft.case.diarium_entries.exists()


def test_one_application_per_organisation_and_call_until_it_is_withdrawn(make_application, cast, call, stockholm):
    from arenden.errors import ValidationFailed
    from bidrag.models import Application
    from tests.domain import submit
    from workflows import demo

    # Drafted before the first was submitted: a draft is refused at creation once the place is taken.
    second = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Andra försöket")
    first = make_application(to=Status.IN_REVIEW, organisation=stockholm)
    with pytest.raises(ValidationFailed, match="redan skickat in"):
        submit(actor=cast.signatory, application=second)
    assert Application.objects.get(pk=second.pk).status == Status.DRAFT
    perform(actor=cast.signatory, application=first, node=None, action="withdraw", data={"reason": "Fel projekt"})
    assert submit(actor=cast.signatory, application=second).status == Status.SUBMITTED
