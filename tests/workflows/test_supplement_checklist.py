"""Issue 7, completeness: the case officer's supplement request names what is missing from a
checklist drawn from the application (the scheme's required attachments, the budget, the
signature, the parts of the project description, other), with a deadline proposed from the
call's settings (Call.supplement_days, on a working day) instead of a constant; the request
the applicant gets lists what was ticked. When the deadline passes the journal says the case
goes on "i befintligt skick"."""

import html
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arenden.calendar import working_deadline
from arenden.errors import ValidationFailed
from bidrag.completeness import supplement_checklist, supplement_deadline
from bidrag.models import Application
from bidrag.models.application import Status
from notifications.models import OutboxMessage
from tests.domain import perform
from workflows.forms import SupplementRequestForm

pytestmark = pytest.mark.django_db


def ask(application, actor, **data):
    return perform(actor=actor, application=application, node="review", action="request_supplement",
                   data={"deadline": timezone.localdate() + timedelta(days=20)} | data)


def test_completeness_checklist_offers_attachments_budget_signature_parts_and_other(make_application):
    application = make_application(to=Status.IN_REVIEW)
    application.case.attachments.filter(kind="atgardsplan").delete()  # as if it had never come
    codes = dict(supplement_checklist(application))
    assert {"bilaga:lagesbild", "bilaga:atgardsplan", "bilaga:behorighet", "budget", "underskrift", "del:mal",
            "del:metod", "annat"} <= set(codes)
    assert "(saknas)" in codes["bilaga:atgardsplan"] and "(saknas)" not in codes["bilaga:lagesbild"]
    form = SupplementRequestForm(application=application)
    assert form.fields["missing"].initial == ["bilaga:atgardsplan"]  # the missing one ticked from the start


def test_completeness_the_deadline_comes_from_the_call_on_a_working_day(make_application, call):
    call.supplement_days = 21
    call.save(update_fields=["supplement_days"])
    application = Application.objects.get(pk=make_application(to=Status.IN_REVIEW).pk)
    form = SupplementRequestForm(application=application)
    assert form.fields["deadline"].initial == working_deadline(timezone.localdate() + timedelta(days=21))
    assert "21 dagar" in str(form.fields["deadline"].help_text)
    # 2027-06-04 + 21 days is midsommarafton (2027-06-25): the next working day, Monday 28 June.
    assert supplement_deadline(call, today=date(2027, 6, 4)) == date(2027, 6, 28)


def test_completeness_the_request_lists_the_ticked_items(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    ask(application, cast.officer, missing=["budget", "del:mal", "annat"], request_text="Ange vem som leder projektet.")
    application = Application.objects.get(pk=application.pk)
    assert application.status == Status.AWAITING_SUPPLEMENT
    text = application.deadline_request
    assert text.startswith("Följande behöver kompletteras:\n– Budget\n– Projektbeskrivning: Mål")
    assert text.endswith("Ange vem som leder projektet.") and "Annat" not in text
    event = application.case.journal.order_by("-seq").first()
    assert event.payload["checklist"] == ["Budget", "Projektbeskrivning: Mål"]
    mail = OutboxMessage.objects.filter(kind="supplement_requested").latest("pk")
    assert "– Budget" in mail.body and "– Projektbeskrivning: Mål" in mail.body


def test_completeness_other_needs_words_and_unknown_items_are_refused(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    with pytest.raises(ValidationFailed):
        ask(application, cast.officer, missing=["annat"], request_text="")
    with pytest.raises(ValidationFailed):
        ask(application, cast.officer, missing=["bilaga:hemligt"], request_text="x")
    assert Application.objects.get(pk=application.pk).status == Status.IN_REVIEW
    form = SupplementRequestForm({"deadline": (timezone.localdate() + timedelta(days=20)).isoformat()},
                                 application=application)
    assert not form.is_valid() and "missing" in form.errors


def test_completeness_the_officer_asks_through_the_page(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    client = Client()
    client.force_login(cast.officer)
    url = reverse("workflows:task_action", args=[application.pk, "review", "request_supplement"])
    page = client.get(url).content.decode()
    assert 'type="checkbox" name="missing" value="budget"' in page
    assert f'value="{supplement_deadline(application.call).isoformat()}"' in page
    response = client.post(url, {"missing": ["underskrift"], "request_text": "",
                                 "deadline": supplement_deadline(application.call).isoformat()})
    assert response.status_code == 302
    assert "Underskrift av behörig firmatecknare" in Application.objects.get(pk=application.pk).deadline_request


def test_supplement_deadline_passed_continues_as_is(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    ask(application, cast.officer, missing=["budget"])
    Application.objects.filter(pk=application.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    call_command("run_deadlines")
    application = Application.objects.get(pk=application.pk)
    assert application.status == Status.IN_REVIEW
    event = application.case.journal.order_by("-seq").first()
    assert event.action == "deadline_passed" and event.actor is None
    assert "handläggs vidare i befintligt skick" in event.payload["as_is"]
    assert application.case.diarium_entries.filter(description__contains="i befintligt skick").exists()
    client = Client()
    client.force_login(cast.officer)
    page = html.unescape(client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode())
    journal = page[page.index('id="journal"'):page.index('id="jav"')]
    assert re.search(r"Svarstiden gick ut: Ingen komplettering kom in inom svarsfristen\. Ärendet handläggs vidare "
                     r"i befintligt skick\.", journal)
    client.force_login(cast.signatory)
    status_page = client.get(reverse("workflows:application_detail", args=[application.pk])).content.decode()
    assert "i befintligt skick" in html.unescape(status_page)
