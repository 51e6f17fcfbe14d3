"""Appeals (issue 7): registered with the day they came in, checked for time (FL 44 §:
three weeks from notice, a holiday moving the last day), forwarded when in time and
dismissed by a decision of its own when late (FL 45 §); an appeal of a decision the
ordinance calls unappealable is forwarded all the same (HFD 2016 ref. 49)."""

from datetime import date, timedelta

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from arenden.errors import NotAllowed, TransitionNotAllowed, ValidationFailed
from arenden.models import DiariumEntry, JournalEvent
from bidrag.events import Event
from bidrag.models import Appeal, Decision
from bidrag.models.application import Status
from bidrag.services.appeals import appeal_deadline
from notifications.models import OutboxMessage
from workflows import appeals, door

pytestmark = pytest.mark.django_db


def _decided_days_ago(application, days: int) -> date:
    """Move the decision back in time (the decisions table refuses UPDATE: the guard is
    bypassed for this one statement, as a test of an old decision needs)."""
    from django.db import connection

    from tests.harness.app_role import as_owner

    with as_owner(), connection.cursor() as cursor:  # only the owner may set the guard aside
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE bidrag_decision SET decided_at = decided_at - %s WHERE application_id = %s",
                       [timedelta(days=days), application.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    return timezone.localdate(application.decisions.get().decided_at)


def _register(cast, application, *, received_on=None, notified_on=None, actor=None):
    decision = application.decisions.get()
    return appeals.register(
        actor=actor or cast.registrar, application_id=application.pk, decision_id=decision.pk,
        received_on=received_on or timezone.localdate(), notified_on=notified_on,
        summary="Kommunen anser att verksamheten är ny och begär att beslutet ändras.",
    )


def test_fl44_three_weeks_from_notice_and_a_holiday_moves_the_last_day():
    assert appeal_deadline(date(2027, 3, 1)) == date(2027, 3, 22)  # a Monday, three weeks on
    # Notified 5 December 2026: three weeks on is Saturday 26 December (annandag jul) → Monday 28.
    assert appeal_deadline(date(2026, 12, 5)) == date(2026, 12, 28)
    # Midsommarafton 2027 is Friday 25 June: notified 4 June → the last day moves to Monday 28 June.
    assert appeal_deadline(date(2027, 6, 4)) == date(2027, 6, 28)


def test_fl45_a_timely_appeal_is_registered_and_forwarded_to_the_court(make_application, cast):
    application = make_application(to=Status.REJECTED)
    appeal = _register(cast, application)
    assert appeal.timely and appeal.state == Appeal.State.REGISTERED
    assert appeal.notified_on == timezone.localdate(application.decisions.get().decided_at)
    incoming = DiariumEntry.objects.get(case=application.case, direction="in", description__startswith="Överklagande")
    assert incoming.kind == DiariumEntry.Kind.LETTER
    with pytest.raises(TransitionNotAllowed):  # only a late one is dismissed
        appeals.dismiss(actor=cast.decision_maker, application_id=application.pk, appeal_id=appeal.pk,
                        reasons="För sent.")

    appeals.forward(actor=cast.officer, application_id=application.pk, appeal_id=appeal.pk)

    appeal.refresh_from_db()
    assert appeal.state == Appeal.State.FORWARDED and appeal.court == "Förvaltningsrätten i Stockholm"
    assert DiariumEntry.objects.filter(case=application.case, direction="out",
                                       description__contains="Förvaltningsrätten i Stockholm").exists()
    actions = list(JournalEvent.objects.filter(case_id=application.case_id).values_list("action", flat=True))
    # The decision's letter goes to the court with the appeal: issued first if it was not yet.
    assert actions[-3:] == [Event.REGISTER_APPEAL, Event.ISSUE_LETTER, Event.FORWARD_APPEAL]
    assert OutboxMessage.objects.filter(kind="appeal_forwarded").exists()
    with pytest.raises(TransitionNotAllowed):  # handled once
        appeals.forward(actor=cast.officer, application_id=application.pk, appeal_id=appeal.pk)


def test_hfd_2016_ref_49_an_appeal_the_ordinance_bars_is_still_forwarded(make_application, cast):
    application = make_application(to=Status.REJECTED)
    assert "inte överklagas" in application.call.scheme.appeal_notice  # scheme A's ordinance bars appeal
    appeal = _register(cast, application)
    appeals.forward(actor=cast.registrar, application_id=application.pk, appeal_id=appeal.pk, court="Kammarrätten")
    appeal.refresh_from_db()
    assert appeal.state == Appeal.State.FORWARDED and appeal.court == "Kammarrätten"


def test_fl45_a_late_appeal_is_dismissed_by_a_decision_of_its_own_not_forwarded(make_application, cast):
    application = make_application(to=Status.REJECTED)
    decided_on = _decided_days_ago(application, 40)
    appeal = _register(cast, application, notified_on=decided_on, received_on=timezone.localdate())
    assert not appeal.timely
    with pytest.raises(TransitionNotAllowed):
        appeals.forward(actor=cast.registrar, application_id=application.pk, appeal_id=appeal.pk)
    with pytest.raises(NotAllowed):  # a registrar does not decide
        appeals.dismiss(actor=cast.registrar, application_id=application.pk, appeal_id=appeal.pk, reasons="Sent.")
    with pytest.raises(ValidationFailed):
        appeals.dismiss(actor=cast.decision_maker, application_id=application.pk, appeal_id=appeal.pk, reasons=" ")

    decision = appeals.dismiss(actor=cast.decision_maker, application_id=application.pk, appeal_id=appeal.pk,
                               reasons="Överklagandet kom in 40 dagar efter att kommunen fick del av beslutet.")

    assert decision.outcome == Decision.Outcome.APPEAL_DISMISSED
    assert (decision.decided_by, decision.presented_by) == (cast.decision_maker, cast.registrar)
    appeal.refresh_from_db()
    assert appeal.state == Appeal.State.DISMISSED and appeal.dismissal == decision
    assert JournalEvent.objects.filter(case_id=application.case_id, action=Event.DISMISS_APPEAL).exists()


def test_fl45_who_registered_a_late_appeal_does_not_also_dismiss_it(make_application, cast):
    from django.contrib.auth.models import Group

    application = make_application(to=Status.REJECTED)
    both = cast.registrar
    both.groups.add(Group.objects.get(name="beslutsfattare"))
    both = type(both).objects.get(pk=both.pk)
    decided_on = _decided_days_ago(application, 30)
    appeal = _register(cast, application, actor=both, notified_on=decided_on, received_on=timezone.localdate())
    with pytest.raises(NotAllowed):
        appeals.dismiss(actor=both, application_id=application.pk, appeal_id=appeal.pk, reasons="För sent inkommet.")
    assert Appeal.objects.get(pk=appeal.pk).state == Appeal.State.REGISTERED


@pytest.mark.parametrize("who", ["auditor", "admin", "finance", "decision_maker", "applicant"])
def test_appeals_are_registered_by_registrar_or_case_officer_only(make_application, cast, who):
    application = make_application(to=Status.REJECTED)
    # The administrator does not even read cases: the case is not found for them.
    with pytest.raises(Http404 if who == "admin" else NotAllowed):
        _register(cast, application, actor=getattr(cast, who))
    assert not Appeal.objects.exists()


def test_fl16_a_barred_officer_handles_no_appeal(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT)
    door.declare_conflict(actor=cast.officer2, application_id=application.pk, reason="Jag sitter i styrelsen.")
    from tests.domain import perform, refusal

    perform(actor=cast.officer, application=application, node="assess", action="propose_decision", data=refusal())
    perform(actor=cast.decision_maker, application=application, node="decide", action="decide")
    with pytest.raises(NotAllowed):
        _register(cast, application, actor=cast.officer2)
    assert not Appeal.objects.exists()


def test_an_appeal_is_not_registered_with_impossible_dates(make_application, cast):
    application = make_application(to=Status.REJECTED)
    decided_on = timezone.localdate(application.decisions.get().decided_at)
    with pytest.raises(ValidationFailed) as refused:
        _register(cast, application, received_on=timezone.localdate() + timedelta(days=1))
    assert refused.value.details["field"] == "received_on"
    with pytest.raises(ValidationFailed) as refused:
        _register(cast, application, notified_on=decided_on - timedelta(days=1))
    assert refused.value.details["field"] == "notified_on"
    assert not Appeal.objects.exists()


def test_the_case_page_registers_lists_and_forwards_an_appeal(make_application, cast, client):
    application = make_application(to=Status.REJECTED)
    decision = application.decisions.get()
    client.force_login(cast.registrar)
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    register_url = reverse("workflows:appeal_register", args=[application.pk])
    assert "Överklaganden" in page and register_url in page
    response = client.post(register_url, {"decision": str(decision.pk), "received_on": timezone.localdate(),
                                          "summary": "Vi överklagar avslaget."})
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    forward_url = reverse("workflows:appeal_forward", args=[application.pk, appeal.pk])
    assert forward_url in page and "Vi överklagar avslaget." in page
    assert client.post(forward_url, {"court": ""}).status_code == 302
    assert Appeal.objects.get().state == Appeal.State.FORWARDED
    # An auditor reads the appeal and is offered nothing to do with it.
    client.force_login(cast.auditor)
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    assert "Överlämnat till domstol" in page and register_url not in page
    assert client.post(register_url, {"decision": str(decision.pk), "received_on": timezone.localdate(),
                                      "summary": "x"}).status_code == 403
    assert Appeal.objects.count() == 1
