"""The overdue queue (issue 7, "Clocks: shown on the case and in an overdue queue"): besides
a task that has waited too long, a case at risk of passing its call's target time (FL 11 §)
and a case whose applicant has demanded a decision (FL 12 §) are under *Försenade*, each
with why."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bidrag.models import Application, Organisation
from bidrag.models.application import Status
from workflows import clocks
from workflows.queue_entries import queue_sync

pytestmark = pytest.mark.django_db

QUEUE = reverse("workflows:queue")
OVERDUE = {"ko": "handlaggare", "vy": "forsenade"}


def _listed(user) -> tuple[list[str], str]:
    client = Client()
    client.force_login(user)
    response = client.get(QUEUE, OVERDUE)
    assert response.status_code == 200
    page = response.content.decode()
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', page), page


def _submitted_days_ago(application, days: int) -> Application:
    """Time travel: the application came in `days` ago (its queue row follows)."""
    Application.objects.filter(pk=application.pk).update(submitted_at=timezone.now() - timedelta(days=days))
    queue_sync(application.pk)
    return Application.objects.select_related("case", "call").get(pk=application.pk)


def _municipality(i: int) -> Organisation:
    return Organisation.objects.exclude(kommunkod="").order_by("kommunkod")[i]


def test_fl11_a_case_near_its_target_time_is_overdue(make_application, cast):
    fresh = make_application(to=Status.IN_REVIEW, organisation=_municipality(0))
    near = make_application(to=Status.IN_REVIEW, organisation=_municipality(1))
    target = near.call.target_days
    _submitted_days_ago(fresh, 1)
    near = _submitted_days_ago(near, target - 10)  # within the two weeks before the target
    listed, page = _listed(cast.officer)
    assert listed == [near.case.diarienummer]
    assert "Risk för försening (11 § FL)" in page


def test_fl11_a_decided_case_is_not_at_risk(make_application, cast):
    granted = make_application(to=Status.GRANTED, organisation=_municipality(0))
    _submitted_days_ago(granted, granted.call.target_days + 30)
    listed, _page = _listed(cast.officer)
    assert listed == []  # its payment step is not late by FL 11 §: the decision is made


def test_fl12_a_demand_for_a_decision_puts_the_case_under_overdue(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT, organisation=_municipality(0))
    # Seven months in: the firmatecknare may demand a decision (its target is a year off).
    application.call.target_days = 400
    application.call.save(update_fields=["target_days"])
    application = _submitted_days_ago(application, 215)
    assert _listed(cast.officer)[0] == []
    clocks.demand(actor=cast.signatory, application_id=application.pk)
    listed, page = _listed(cast.officer)
    assert listed == [application.case.diarienummer]
    assert "Begäran om avgörande (12 § FL)" in page
