"""Staff see an application once it was submitted (it has a diarienummer), whatever
became of it after; a draft, also a withdrawn one, stays with the organisation."""

import pytest
from django.test import Client
from django.urls import reverse

from bidrag.models.application import Status
from tests.domain import perform

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_withdrawn_draft_stays_hidden_from_staff(draft, cast):
    perform(actor=cast.signatory, application=draft, node=None, action="withdraw", data={"reason": "Fel utlysning"})
    attachment = draft.case.attachments.first()
    for user in (cast.officer, cast.auditor, cast.registrar):
        client = client_for(user)
        assert client.get(reverse("workflows:case_detail", args=[draft.pk])).status_code == 404
        assert client.get(reverse("bidrag:attachment_download", args=[attachment.pk])).status_code == 404
        listing = client.get(reverse("workflows:case_list"), {"status": Status.WITHDRAWN}).content.decode()
        assert draft.title not in listing
    # The organisation still has it.
    assert client_for(cast.applicant).get(reverse("workflows:application_detail", args=[draft.pk])).status_code == 200


def test_a_withdrawn_submitted_application_stays_visible_to_staff(make_application, cast):
    application = make_application(to=Status.WITHDRAWN)
    assert client_for(cast.auditor).get(reverse("workflows:case_detail", args=[application.pk])).status_code == 200


def test_edit_page_of_a_submitted_application_leads_to_its_page(make_application, cast):
    application = make_application(to=Status.SUBMITTED)
    response = client_for(cast.applicant).get(reverse("bidrag:application_edit", args=[application.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("workflows:application_detail", args=[application.pk])


def test_admin_cannot_move_a_case_past_the_door(make_application, cast):
    from viewflow.workflow.models import Task

    application = make_application(to=Status.IN_REVIEW)
    task = Task.objects.get(process__applicationprocess__application=application, status="NEW")
    url = reverse("admin:viewflow_task_change", args=[task.pk])
    response = client_for(cast.admin).post(url, {"status": "DONE", "owner": cast.admin.pk})
    assert response.status_code == 403
    assert Task.objects.get(pk=task.pk).status == "NEW"
