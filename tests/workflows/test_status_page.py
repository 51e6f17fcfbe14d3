"""Issue 6: after submission the applicant's page says what happened, what happens next, by
when and whom to ask; after a grant, the payment and the report due date; and the applicant
can reread their own earlier answers."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from arenden.formatting import day
from bidrag.models import Application
from bidrag.models.application import Status
from workflows.timeline import report_due

from ..domain import perform

pytestmark = pytest.mark.django_db


def page(client, person, application) -> str:
    client.force_login(person)
    response = client.get(reverse("workflows:application_detail", args=[application.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_after_submission_the_page_says_what_happens_next_and_whom_to_ask(make_application, cast, client, settings):
    application = make_application(to=Status.SUBMITTED)
    text = page(client, cast.applicant, application)
    assert "Vad händer nu?" in text and "Brå kontrollerar ansökan" in text
    assert settings.BIDRAG_CONTACT_EMAIL in text and application.case.diarienummer in text
    assert "Ansökan skickades in" in text  # what happened, from the journal


def test_supplement_request_is_shown_as_yours_with_the_deadline_and_the_answer_can_be_reread(make_application, cast, client):
    application = make_application(to=Status.AWAITING_SUPPLEMENT)
    text = page(client, cast.applicant, application)
    assert "Ni behöver göra något" in text and day(application.deadline) in text
    assert "Bifoga en uppdaterad lägesbild." in text  # Brå's request, in the history
    perform(actor=cast.applicant, application=application, node="await_supplement", action="receive_supplement",
            data={"answer": "Den uppdaterade lägesbilden från oktober."})
    text = page(client, cast.applicant, application)
    assert "Ni skickade komplettering" in text and "Den uppdaterade lägesbilden från oktober." in text


def test_after_a_grant_the_page_tells_the_payment_and_the_report_due_date(make_application, cast, client, malmo):
    application = make_application(to=Status.GRANTED)
    text = page(client, cast.applicant, application)
    assert "Brå betalar ut bidraget" in text and "250\u00a0000\u00a0kr" in text
    due = report_due(application)
    assert due is not None and day(due) in text and "Slutrapport senast" in text

    application = make_application(to=Status.IN_PROGRESS, organisation=malmo, title="Betalt projekt")
    text = page(client, cast.applicant, application)
    assert "Utbetalt" in text and "Brå betalade ut bidraget" in text and "Lämna slutrapport" in text


def test_an_overdue_report_is_called_overdue(make_application, cast, client):
    application = make_application(to=Status.IN_PROGRESS)
    past = timezone.localdate() - timedelta(days=200)
    Application.objects.filter(pk=application.pk).update(start_date=past - timedelta(days=100), end_date=past)
    assert "Slutrapporten är försenad" in page(client, cast.applicant, application)


def test_brås_internal_steps_are_not_in_the_applicants_history(make_application, cast, client):
    application = make_application(to=Status.IN_PROGRESS)
    text = page(client, cast.applicant, application)
    for internal in ("attest_disbursement", "prepare_disbursement", "propose_decision", "Attestera"):
        assert internal not in text
