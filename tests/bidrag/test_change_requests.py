"""Issue 6 (DOMAIN.md, scheme A): moving money between budget lines above the scheme's
threshold (more than 5 000 kr and at least 25 % of the line) needs a change request the
case officer decides; below it the move is made at once with its note."""

from decimal import Decimal

import pytest
from django.urls import reverse

from arenden.errors import TransitionNotAllowed, ValidationFailed
from arenden.models import JournalEvent
from bidrag.models import Application, BudgetLine, ChangeRequest
from bidrag.models.application import Status
from bidrag.services.followup import needs_change_request
from notifications.models import OutboxMessage
from workflows import demo
from workflows.selectors import active_tasks

from ..domain import perform

pytestmark = pytest.mark.django_db


def amounts(application) -> dict:
    return {line.description: line.amount for line in BudgetLine.objects.filter(application=application)}


def request(cast, application, **data):
    return perform(actor=cast.signatory, application=application, node="await_report", action="request_change",
                   data=data)


def test_a_small_move_is_made_at_once_with_its_note(make_application, cast):
    application = make_application(to=Status.IN_PROGRESS)
    before = amounts(application)
    change = request(cast, application, **demo.change_request(application, large=False))
    assert change.status == ChangeRequest.Status.MADE
    after = amounts(application)
    assert after["Samordnare 50 %"] == before["Samordnare 50 %"] - 1000
    assert after["Trycksaker och material"] == before["Trycksaker och material"] + 1000
    assert sum(after.values()) == sum(before.values())
    assert Application.objects.get(pk=application.pk).status == Status.IN_PROGRESS
    event = JournalEvent.objects.filter(case_id=application.case_id, action="request_change").get()
    assert event.payload["made"] is True and event.payload["reason"]


def test_a_large_move_waits_for_the_officer_who_approves_it(make_application, cast):
    application = make_application(to=Status.IN_PROGRESS)
    before = amounts(application)
    change = request(cast, application, **demo.change_request(application))
    assert change.status == ChangeRequest.Status.REQUESTED
    assert Application.objects.get(pk=application.pk).status == Status.CHANGE_REVIEW
    assert amounts(application) == before  # nothing moves before the decision
    assert [t.flow_task.name for t in active_tasks(application)] == ["review_change"]
    with pytest.raises(TransitionNotAllowed):  # no report while the change is tried
        perform(actor=cast.signatory, application=application, node="await_report", action="submit_report",
                data=demo.final_report(application))
    perform(actor=cast.officer, application=application, node="review_change", action="approve_change", data={})
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.APPROVED and change.decided_by == cast.officer
    assert amounts(application)["Samordnare 50 %"] == before["Samordnare 50 %"] - change.amount
    assert Application.objects.get(pk=application.pk).status == Status.IN_PROGRESS
    assert [t.flow_task.name for t in active_tasks(application)] == ["await_report"]
    assert OutboxMessage.objects.filter(reference=f"application:{application.pk}", kind="change_decided").exists()


def test_a_rejection_needs_reasons_and_moves_nothing(make_application, cast):
    application = make_application(to=Status.IN_PROGRESS)
    before = amounts(application)
    request(cast, application, **demo.change_request(application))
    with pytest.raises(ValidationFailed):
        perform(actor=cast.officer, application=application, node="review_change", action="reject_change",
                data={"comment": ""})
    perform(actor=cast.officer, application=application, node="review_change", action="reject_change",
            data={"comment": "Inköpet ryms inte i projektets syfte"})
    assert amounts(application) == before
    assert ChangeRequest.objects.get(application=application).status == ChangeRequest.Status.REJECTED


@pytest.mark.parametrize(("amount", "line", "needed"), [
    ("5000", "20000", False),   # not above 5 000 kr
    ("5001", "20000", True),    # above, and 25 % of the line
    ("6000", "100000", False),  # above, but only 6 % of the line
    ("25000", "100000", True),  # exactly 25 %
])
def test_threshold_of_scheme_a(make_application, amount, line, needed):
    application = make_application(to=Status.IN_PROGRESS)
    source = BudgetLine(application=application, amount=Decimal(line))
    assert needs_change_request(application=application, from_line=source, amount=Decimal(amount)) is needed


@pytest.mark.parametrize("change", ["same-line", "more-than-the-line", "no-reason"])
def test_bad_moves_are_refused_at_the_field_and_nothing_changes(make_application, cast, change):
    application = make_application(to=Status.IN_PROGRESS)
    before = amounts(application)
    data = demo.change_request(application)
    if change == "same-line":
        data["to_line"] = data["from_line"]
    elif change == "more-than-the-line":
        data["amount"] = Decimal("10000000")
    else:
        data["reason"] = " "
    with pytest.raises(ValidationFailed) as refused:
        request(cast, application, **data)
    assert refused.value.details["fields"]
    assert amounts(application) == before and not ChangeRequest.objects.filter(application=application).exists()


def test_the_applicant_sees_the_change_and_its_status(make_application, cast, client):
    application = make_application(to=Status.IN_PROGRESS)
    client.force_login(cast.signatory)
    detail = client.get(reverse("workflows:application_detail", args=[application.pk])).content.decode()
    form_url = reverse("workflows:task_action", args=[application.pk, "await_report", "request_change"])
    assert form_url in detail
    response = client.post(form_url, demo.change_request(application))
    assert response.status_code == 302
    detail = client.get(reverse("workflows:application_detail", args=[application.pk])).content.decode()
    assert "Väntar på beslut" in detail and "Brå prövar er ändringsansökan" in detail
