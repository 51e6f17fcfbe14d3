"""The applicant's deadlines count in working days: a supplement request's or a
communication's (FL 25 §) deadline, and the final report's due date, set on a weekend or
holiday move to the next working day, and the page and the e-mail say the moved date."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from arenden.formatting import day
from bidrag.models import Application
from bidrag.models.application import Status
from notifications.models import OutboxMessage
from tests.domain import perform

pytestmark = pytest.mark.django_db

NEXT_YEAR = timezone.localdate().year + 1


def midsommarafton(year: int) -> date:
    """The Friday between 19 and 25 June."""
    june_19 = date(year, 6, 19)
    return june_19 + timedelta(days=(4 - june_19.weekday()) % 7)


def first_saturday_of_october(year: int) -> date:
    october_1 = date(year, 10, 1)
    return october_1 + timedelta(days=(5 - october_1.weekday()) % 7)


def page(client, person, application) -> str:
    client.force_login(person)
    response = client.get(reverse("workflows:application_detail", args=[application.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_supplement_deadline_on_midsommarafton_moves_to_the_monday_after(make_application, cast, client, malmo):
    application = make_application(to=Status.AWAITING_SUPPLEMENT, organisation=malmo)
    perform(actor=cast.signatory, application=application, node="await_supplement", action="receive_supplement",
            data={"answer": "Här är lägesbilden."})
    eve = midsommarafton(NEXT_YEAR)
    monday = eve + timedelta(days=3)
    assert monday.weekday() == 0

    perform(actor=cast.officer, application=application, node="review", action="request_supplement",
            data={"deadline": eve, "request_text": "Bifoga budgeten per år."})

    application.refresh_from_db()
    assert application.deadline == monday
    assert application.case.journal.order_by("-seq").first().payload["deadline"] == monday.isoformat()
    mail = OutboxMessage.objects.filter(reference=f"application:{application.pk}", kind="supplement_requested").latest(
        "created_at"
    )
    assert f"svara senast {day(monday, language='sv')}" in mail.subject
    assert f"Svara senast {day(monday, language='sv')}" in mail.body
    assert day(eve, language="sv") not in mail.subject + mail.body
    assert day(monday, language="sv") in page(client, cast.applicant, application)


def test_a_communication_deadline_on_a_saturday_moves_to_monday(make_application, cast, client):
    application = make_application(to=Status.IN_ASSESSMENT)
    saturday = first_saturday_of_october(NEXT_YEAR)
    perform(actor=cast.officer, application=application, node="assess", action="communicate",
            data={"deadline": saturday, "request_text": "Yttra er över referensens bedömning."})
    application.refresh_from_db()
    assert application.status == Status.AWAITING_COMMENTS
    assert application.deadline == saturday + timedelta(days=2)
    mail = OutboxMessage.objects.filter(reference=f"application:{application.pk}", kind="communication").latest(
        "created_at"
    )
    assert day(saturday + timedelta(days=2), language="sv") in mail.subject
    assert day(saturday + timedelta(days=2), language="sv") in page(client, cast.applicant, application)


def test_a_report_due_on_julafton_is_due_the_next_working_day_after_christmas(make_application, cast, client, settings):
    settings.BIDRAG_REPORT_DUE_MONTHS = 3
    application = make_application(to=Status.GRANTED)
    Application.objects.filter(pk=application.pk).update(
        start_date=date(NEXT_YEAR, 1, 10), end_date=date(NEXT_YEAR, 9, 24)
    )  # + 3 months = julafton
    after_christmas = next(
        date(NEXT_YEAR, 12, d) for d in range(27, 31) if date(NEXT_YEAR, 12, d).weekday() < 5
    )
    text = page(client, cast.applicant, application)
    assert "Slutrapport senast" in text and day(after_christmas) in text
    assert day(date(NEXT_YEAR, 12, 24)) not in text
