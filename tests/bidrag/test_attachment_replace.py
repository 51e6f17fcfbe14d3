"""Issue 6: an attachment of a draft can be replaced ("Ersätt"): the new file takes the old
one's place in one step, through the form and through the page's upload script; a refused
file leaves the old one; another case's attachment answers like a missing one."""

import hashlib
import html

import pytest
from django.test import Client
from django.urls import reverse

from arenden.models import Attachment, JournalEvent
from bidrag.events import Event
from tests.arenden.test_uploads import PDF, multipart
from tests.bidrag.test_draft_tidying import in_s3

pytestmark = pytest.mark.django_db

NEW = PDF + b"% ny version\n"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload_url(application) -> str:
    return reverse("bidrag:attachment_upload", args=[application.pk])


def step_url(application) -> str:
    return reverse("bidrag:application_step", args=[application.pk, "bilagor"])


@pytest.fixture
def old(draft):
    return Attachment.objects.filter(case=draft.case).order_by("uploaded_at").first()


@pytest.mark.parametrize("way", ["form", "script"])
def test_a_new_file_takes_the_old_ones_place(way, draft, cast, old, seaweedfs, django_capture_on_commit_callbacks):
    client = client_for(cast.applicant)
    count = Attachment.objects.filter(case=draft.case).count()
    with django_capture_on_commit_callbacks(execute=True):
        if way == "form":
            body, content_type = multipart("ny-lagesbild.pdf", NEW, fields={"kind": old.kind, "replaces": str(old.pk)})
            response = client.post(upload_url(draft), data=body, content_type=content_type)
            assert response.status_code == 302, response.content[:300]
        else:
            response = client.post(upload_url(draft), data=NEW, content_type="application/octet-stream", headers={
                "X-Upload-Kind": old.kind, "X-Upload-Name": "ny-lagesbild.pdf", "X-Upload-Replaces": str(old.pk)})
            assert response.status_code == 201, response.content[:300]

    assert not Attachment.objects.filter(pk=old.pk).exists()
    assert not in_s3(seaweedfs, old.file.name)  # after the commit
    new = Attachment.objects.get(case=draft.case, original_name="ny-lagesbild.pdf")
    assert (new.kind, new.sha256) == (old.kind, hashlib.sha256(NEW).hexdigest())
    assert Attachment.objects.filter(case=draft.case).count() == count
    removed = JournalEvent.objects.filter(case_id=draft.case_id, action=Event.REMOVE_ATTACHMENT).get()
    assert removed.payload["replaced_by"] == str(new.pk)


def test_a_refused_file_leaves_the_old_one(draft, cast, old, seaweedfs):
    response = client_for(cast.applicant).post(
        upload_url(draft), data=b"<!DOCTYPE html><html></html>", content_type="application/octet-stream",
        headers={"X-Upload-Kind": old.kind, "X-Upload-Name": "ny.pdf", "X-Upload-Replaces": str(old.pk)})
    assert response.status_code == 400
    assert Attachment.objects.filter(pk=old.pk).exists() and in_s3(seaweedfs, old.file.name)


def test_another_cases_attachment_answers_like_a_missing_one(draft, cast, old, make_application, malmo, seaweedfs):
    foreign = Attachment.objects.filter(case=make_application(to="draft", organisation=malmo).case).first()
    client = client_for(cast.applicant)
    answers = []
    for target in (foreign.pk, "00000000-0000-4000-8000-000000000000"):
        body, content_type = multipart("ny.pdf", NEW, fields={"kind": "lagesbild", "replaces": str(target)})
        answers.append(client.post(upload_url(draft), data=body, content_type=content_type).status_code)
    assert answers[0] == answers[1]
    assert Attachment.objects.filter(pk=foreign.pk).exists() and Attachment.objects.filter(pk=old.pk).exists()
    assert not Attachment.objects.filter(original_name="ny.pdf").exists()


def test_the_step_offers_to_replace_each_file_and_says_what_it_replaces(draft, cast, old):
    client = client_for(cast.applicant)
    page = html.unescape(client.get(step_url(draft)).content.decode())
    assert f"?ersatt={old.pk}#ladda-upp" in page
    page = html.unescape(client.get(step_url(draft) + f"?ersatt={old.pk}").content.decode())
    assert f"Ersätt ”{old.original_name}”" in page
    assert f'name="replaces" value="{old.pk}"' in page
    assert "Ladda upp och ersätt" in page
