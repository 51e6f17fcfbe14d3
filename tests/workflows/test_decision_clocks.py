"""FL 11 § (tell the applicant of a delay, why and until when) and FL 12 § (six months
after submission the applicant may demand a decision; within four weeks Brå decides or
refuses the demand by a decision of its own), issue 7."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from arenden.calendar import months_after
from arenden.errors import NotAllowed, TransitionNotAllowed, ValidationFailed
from arenden.models import JournalEvent
from bidrag.events import Event
from bidrag.models import Application, Decision, DecisionDemand, DelayNotice
from bidrag.models.application import Status
from bidrag.services.clocks import at_risk
from notifications.models import OutboxMessage
from tests.domain import perform, refusal
from workflows import clocks
from workflows.queue_entries import queue_sync

pytestmark = pytest.mark.django_db


def _submitted_months_ago(application, months: int, days: int = 0) -> Application:
    when = timezone.now() - timedelta(days=round(months * 30.5) + days)
    Application.objects.filter(pk=application.pk).update(submitted_at=when)
    queue_sync(application.pk)  # the queue's row follows the submission it was made from
    return Application.objects.select_related("case", "call", "organisation").get(pk=application.pk)


def test_fl12_six_months_counts_by_the_calendar():
    assert months_after(date(2026, 3, 15), 6) == date(2026, 9, 15)
    assert months_after(date(2026, 8, 31), 6) == date(2027, 2, 28)  # no 31 February
    assert months_after(date(2027, 8, 31), 6) == date(2028, 2, 29)


def test_fl12_no_demand_before_six_months(make_application, cast):
    application = _submitted_months_ago(make_application(to=Status.IN_ASSESSMENT), 5)
    with pytest.raises(TransitionNotAllowed) as refused:
        clocks.demand(actor=cast.signatory, application_id=application.pk)
    assert "sex månader" in str(refused.value.message)
    assert not DecisionDemand.objects.exists()


def test_fl12_a_demand_is_answered_by_the_decision_on_the_case(make_application, cast):
    application = _submitted_months_ago(make_application(to=Status.IN_ASSESSMENT), 7)
    demand = clocks.demand(actor=cast.signatory, application_id=application.pk)
    assert demand.due_on >= timezone.localdate() + timedelta(weeks=4)
    assert JournalEvent.objects.filter(case_id=application.case_id, action=Event.DEMAND_DECISION).exists()
    assert OutboxMessage.objects.filter(kind="decision_demand").exists()
    with pytest.raises(TransitionNotAllowed):  # one open demand at a time
        clocks.demand(actor=cast.signatory, application_id=application.pk)

    perform(actor=cast.officer, application=application, node="assess", action="propose_decision", data=refusal())
    perform(actor=cast.decision_maker, application=application, node="decide", action="decide")

    demand.refresh_from_db()
    assert demand.answer == DecisionDemand.Answer.DECIDED and demand.answered_at is not None


def test_fl12_only_the_firmatecknare_demands_and_no_staff(make_application, cast):
    application = _submitted_months_ago(make_application(to=Status.IN_ASSESSMENT), 7)
    for who in (cast.applicant, cast.officer, cast.auditor):
        with pytest.raises(NotAllowed):
            clocks.demand(actor=who, application_id=application.pk)
    assert not DecisionDemand.objects.exists()


def test_fl12_refusing_a_demand_is_a_decision_makers_decision_with_reasons(make_application, cast):
    application = _submitted_months_ago(make_application(to=Status.IN_ASSESSMENT), 7)
    clocks.demand(actor=cast.signatory, application_id=application.pk)
    with pytest.raises(NotAllowed):
        clocks.refuse_demand(actor=cast.officer, application_id=application.pk, reasons="Utredning pågår.")
    with pytest.raises(ValidationFailed):
        clocks.refuse_demand(actor=cast.decision_maker, application_id=application.pk, reasons="  ")

    decision = clocks.refuse_demand(actor=cast.decision_maker, application_id=application.pk,
                                    reasons="Yttrande från referensgruppen väntas in före beslut.")

    assert decision.outcome == Decision.Outcome.DEMAND_REFUSED
    demand = DecisionDemand.objects.get()
    assert demand.answer == DecisionDemand.Answer.REFUSED and demand.refusal == decision
    assert Application.objects.get(pk=application.pk).status == Status.IN_ASSESSMENT  # the case goes on
    with pytest.raises(TransitionNotAllowed):
        clocks.refuse_demand(actor=cast.decision_maker, application_id=application.pk, reasons="Igen.")


def test_fl11_a_case_near_its_target_is_at_risk_and_the_applicant_is_told_why(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    assert not at_risk(application)
    application = _submitted_months_ago(application, 0, days=application.call.target_days - 10)
    assert at_risk(application)
    with pytest.raises(ValidationFailed) as refused:
        clocks.notify_delay(actor=cast.officer, application_id=application.pk, reason="",
                            expected_by=timezone.localdate() + timedelta(days=30))
    assert refused.value.details["field"] == "reason"
    with pytest.raises(NotAllowed):
        clocks.notify_delay(actor=cast.auditor, application_id=application.pk, reason="Många ansökningar.",
                            expected_by=timezone.localdate() + timedelta(days=30))

    notice = clocks.notify_delay(actor=cast.officer, application_id=application.pk,
                                 reason="Fler ansökningar än väntat kom in i utlysningen.",
                                 expected_by=timezone.localdate() + timedelta(days=30))

    assert DelayNotice.objects.get() == notice
    messages = OutboxMessage.objects.filter(kind="delay_notice")
    assert messages.exists()  # one per recipient of the organisation
    assert all("Fler ansökningar än väntat" in m.body and "12 § förvaltningslagen" in m.body for m in messages)
    assert JournalEvent.objects.filter(case_id=application.case_id, action=Event.NOTIFY_DELAY).exists()


def test_the_pages_offer_each_clock_to_whom_it_belongs(make_application, cast, client):
    application = _submitted_months_ago(make_application(to=Status.IN_ASSESSMENT), 7)
    demand_url = reverse("workflows:decision_demand", args=[application.pk])
    client.force_login(cast.signatory)
    page = client.get(reverse("workflows:application_detail", args=[application.pk])).content.decode()
    assert demand_url in page
    assert client.post(demand_url).status_code == 302
    assert DecisionDemand.objects.filter(application=application, answer="").exists()

    client.force_login(cast.decision_maker)
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    assert "Risk för försening (FL 11 §)" in page
    assert reverse("workflows:demand_refuse", args=[application.pk]) in page
    client.force_login(cast.officer)
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    assert reverse("workflows:delay_notice", args=[application.pk]) in page
    assert reverse("workflows:demand_refuse", args=[application.pk]) not in page
