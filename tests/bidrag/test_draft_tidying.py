"""Issue 6: a draft can be tidied by its organisation: an attachment removed (its S3 object
after the commit), a budget line changed, the whole draft deleted; never once submitted,
and never by anyone else (their ids answer like missing ones)."""

import re

import pytest
from botocore.exceptions import ClientError
from django.test import Client
from django.urls import reverse

from arenden.journal import journal_verify
from arenden.models import Attachment, JournalEvent
from bidrag.events import Event
from bidrag.models import Application, Membership
from bidrag.models.application import Status
from workflows import demo

pytestmark = pytest.mark.django_db

MISSING = "00000000-0000-4000-8000-000000000000"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def in_s3(seaweedfs, key: str) -> bool:
    try:
        seaweedfs.client().head_object(Bucket=seaweedfs.bucket, Key=key)
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise
    return True


def without_csrf(response) -> str:
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", page)


def journal_actions(case_id) -> list[str]:
    return list(JournalEvent.objects.filter(case_id=case_id).order_by("seq").values_list("action", flat=True))


# -- attachments -------------------------------------------------------------------------


def test_an_attachment_is_removed_from_the_draft_and_its_object_only_after_the_commit(
    draft, cast, seaweedfs, django_capture_on_commit_callbacks
):
    attachment = draft.case.attachments.get(kind="lagesbild")
    key = attachment.file.name
    assert in_s3(seaweedfs, key)

    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        response = client_for(cast.applicant).post(
            reverse("bidrag:attachment_remove", args=[draft.pk, attachment.pk])
        )
        assert response.status_code == 302
        assert response["Location"].endswith("#bilagor")
        assert not Attachment.objects.filter(pk=attachment.pk).exists()
        assert in_s3(seaweedfs, key), "the object went before the transaction committed"
    for callback in after_commit:
        callback()

    assert not in_s3(seaweedfs, key)
    event = JournalEvent.objects.get(case=draft.case_id, action=Event.REMOVE_ATTACHMENT)
    assert event.payload["name"] == attachment.original_name and event.payload["sha256"] == attachment.sha256
    page = client_for(cast.applicant).get(
        reverse("bidrag:application_step", args=[draft.pk, "sammanfattning"])
    ).content.decode()
    assert "Bilaga saknas: Lägesbild" in page  # the checklist asks for it again


def test_the_draft_page_offers_removing_each_attachment_and_the_staff_list_does_not(draft, cast, make_application):
    page = client_for(cast.applicant).get(reverse("bidrag:application_step", args=[draft.pk, "bilagor"])).content.decode()
    for attachment in draft.case.attachments.all():
        assert reverse("bidrag:attachment_remove", args=[draft.pk, attachment.pk]) in page
    submitted = make_application(to=Status.IN_REVIEW, title="Inskickad")
    case_page = client_for(cast.officer).get(reverse("workflows:case_detail", args=[submitted.pk]))
    assert case_page.status_code == 200
    assert "/ta-bort/" not in case_page.content.decode()


def test_an_attachment_of_another_case_answers_like_a_missing_one(draft, cast, call, malmo, seaweedfs):
    other = demo.new_application(cast=cast, organisation=malmo, call=call, title="Malmös utkast")
    foreign = other.case.attachments.first()
    client = client_for(cast.applicant)  # represents both, but the attachment is not this draft's
    via_wrong_draft = client.post(reverse("bidrag:attachment_remove", args=[draft.pk, foreign.pk]))
    missing = client.post(reverse("bidrag:attachment_remove", args=[draft.pk, MISSING]))
    assert via_wrong_draft.status_code == missing.status_code == 404
    assert without_csrf(via_wrong_draft) == without_csrf(missing)
    assert Attachment.objects.filter(pk=foreign.pk).exists() and in_s3(seaweedfs, foreign.file.name)


# -- budget lines ------------------------------------------------------------------------


def staff_line(application):
    return application.budget_lines.get(category="staff")


def test_a_budget_line_is_changed_from_a_form_filled_in_with_it(draft, cast):
    line = staff_line(draft)
    amount = f"{line.amount:.2f}"
    client = client_for(cast.applicant)
    url = reverse("bidrag:budget_line_edit", args=[draft.pk, line.pk])
    edit_page = client.get(reverse("bidrag:application_step", args=[draft.pk, "budget"])).content.decode()
    assert url in edit_page

    form = client.get(url).content.decode()
    assert f'value="{line.description}"' in form and f'value="{amount}"' in form
    assert re.search(r'<option value="staff" selected>', form)

    response = client.post(url, {"category": "external", "description": "Extern utvärderare", "amount": "150000"})

    assert response.status_code == 302
    assert response["Location"] == reverse("bidrag:application_step", args=[draft.pk, "budget"]) + "#budget"
    line.refresh_from_db()
    assert (line.category, line.description, str(line.amount)) == ("external", "Extern utvärderare", "150000.00")


def test_a_changed_budget_line_is_refused_by_the_rules_of_a_new_one_and_nothing_is_lost(draft, cast):
    line = staff_line(draft)
    before = (line.description, line.amount)
    client = client_for(cast.applicant)
    url = reverse("bidrag:budget_line_edit", args=[draft.pk, line.pk])

    response = client.post(url, {"category": "staff", "description": "Samordnare 75 %", "amount": "0"})

    assert response.status_code == 303 and response["Location"] == url
    page = client.get(url).content.decode()
    assert re.search(r'id="id_amount_error">.*Beloppet måste vara större än noll', page, re.S)
    assert 'value="Samordnare 75 %"' in page  # what was typed
    line.refresh_from_db()
    assert (line.description, line.amount) == before


def test_a_budget_line_of_another_draft_answers_like_a_missing_one(draft, cast, call, malmo):
    other = demo.new_application(cast=cast, organisation=malmo, call=call, title="Malmös utkast")
    foreign = staff_line(other)
    client = client_for(cast.applicant)
    for name, method in [("bidrag:budget_line_edit", "get"), ("bidrag:budget_line_edit", "post"),
                         ("bidrag:budget_line_remove", "post")]:
        data = {"category": "staff", "description": "x", "amount": "1"}
        wrong = getattr(client, method)(reverse(name, args=[draft.pk, foreign.pk]), data)
        missing = getattr(client, method)(reverse(name, args=[draft.pk, MISSING]), data)
        assert wrong.status_code == missing.status_code == 404, name
        assert without_csrf(wrong) == without_csrf(missing)
    foreign.refresh_from_db()
    assert foreign.description == "Samordnare 50 %"


# -- deleting the draft ------------------------------------------------------------------


def test_a_draft_is_deleted_after_confirmation_and_disappears_from_every_list(
    draft, cast, seaweedfs, django_capture_on_commit_callbacks
):
    client = client_for(cast.applicant)
    url = reverse("bidrag:application_delete_draft", args=[draft.pk])
    keys = list(draft.case.attachments.values_list("file", flat=True))
    assert keys and all(in_s3(seaweedfs, key) for key in keys)

    confirmation = client.get(url)
    assert confirmation.status_code == 200
    page = confirmation.content.decode()
    assert re.search(r'<button type="submit" class="button button--danger">Radera utkastet</button>', page)
    assert f"{draft.budget_lines.count()} budgetrader" in page and "3 bilagor" in page
    assert Application.objects.get(pk=draft.pk).deleted_at is None  # looking deletes nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)

    assert response.status_code == 302 and response["Location"] == reverse("bidrag:application_list")
    listing = client.get(reverse("bidrag:application_list")).content.decode()
    assert f">{draft.title}</a>" not in listing and reverse("bidrag:application_edit", args=[draft.pk]) not in listing
    for name in ("bidrag:application_edit", "workflows:application_detail", "workflows:submit"):
        assert client.get(reverse(name, args=[draft.pk])).status_code == 404, name
    assert client_for(cast.signatory).get(reverse("bidrag:application_edit", args=[draft.pk])).status_code == 404
    assert not any(in_s3(seaweedfs, key) for key in keys)

    deleted = Application.objects.select_related("case").get(pk=draft.pk)
    assert deleted.deleted_by == cast.applicant and deleted.status == Status.DRAFT
    assert not deleted.budget_lines.exists() and not deleted.case.attachments.exists()
    assert deleted.purpose == "" and deleted.start_date is None
    assert deleted.case.closed_at is not None and deleted.case.diarienummer is None
    assert not deleted.case.diarium_entries.exists()
    assert journal_actions(deleted.case_id)[-2:] == [Event.DELETE_DRAFT, "close_case"]
    assert journal_verify(case_ids=[deleted.case_id]) == []


def test_a_deleted_draft_is_never_shown_again_even_to_the_one_who_wrote_it(draft, cast):
    client = client_for(cast.applicant)
    client.post(reverse("bidrag:application_delete_draft", args=[draft.pk]))
    listing = client.get(reverse("bidrag:application_list")).content.decode()
    assert reverse("bidrag:application_edit", args=[draft.pk]) not in listing
    assert client.post(reverse("bidrag:application_delete_draft", args=[draft.pk])).status_code == 404


# -- once submitted, or someone else's -----------------------------------------------------


def test_a_submitted_application_cannot_be_tidied(make_application, cast, seaweedfs):
    application = make_application(to=Status.SUBMITTED)
    attachment = application.case.attachments.first()
    line = staff_line(application)
    client = client_for(cast.signatory)
    attempts = [
        client.post(reverse("bidrag:attachment_remove", args=[application.pk, attachment.pk])),
        client.get(reverse("bidrag:budget_line_edit", args=[application.pk, line.pk])),
        client.post(reverse("bidrag:budget_line_edit", args=[application.pk, line.pk]),
                    {"category": "staff", "description": "x", "amount": "1"}),
        client.post(reverse("bidrag:budget_line_remove", args=[application.pk, line.pk])),
        client.get(reverse("bidrag:application_delete_draft", args=[application.pk])),
        client.post(reverse("bidrag:application_delete_draft", args=[application.pk])),
    ]
    for response in attempts:
        assert response.status_code == 409
        assert "inskickad" in response.content.decode()
    assert Attachment.objects.filter(pk=attachment.pk).exists() and in_s3(seaweedfs, attachment.file.name)
    line.refresh_from_db()
    assert line.description == "Samordnare 50 %"
    fresh = Application.objects.get(pk=application.pk)
    assert fresh.deleted_at is None and fresh.status == Status.SUBMITTED


@pytest.fixture
def outsider(cast, malmo):
    user = type(cast.applicant).objects.create_user("utomstaende", email="u@malmo.se")
    Membership.objects.create(organisation=malmo, user=user, role=Membership.Role.SIGNATORY)
    return user


@pytest.mark.parametrize("name, method, extra", [
    ("bidrag:application_delete_draft", "get", None),
    ("bidrag:application_delete_draft", "post", None),
    ("bidrag:application_change_organisation", "post", None),
    ("bidrag:application_request_signature", "post", None),
    ("bidrag:attachment_upload", "get", None),
    ("bidrag:attachment_remove", "post", "attachment"),
    ("bidrag:budget_line_edit", "get", "line"),
    ("bidrag:budget_line_edit", "post", "line"),
    ("bidrag:budget_line_remove", "post", "line"),
])
def test_another_organisations_draft_answers_like_a_missing_one(draft, outsider, name, method, extra):
    client = client_for(outsider)
    inner = {"attachment": lambda: draft.case.attachments.first().pk, "line": lambda: staff_line(draft).pk}
    lines = draft.budget_lines.count()
    args = [draft.pk] + ([inner[extra]()] if extra else [])
    missing_args = [MISSING] + ([MISSING] if extra else [])
    data = {"organisation": "x", "category": "staff", "description": "x", "amount": "1"}
    foreign = getattr(client, method)(reverse(name, args=args), data)
    missing = getattr(client, method)(reverse(name, args=missing_args), data)
    assert foreign.status_code == missing.status_code == 404
    assert without_csrf(foreign) == without_csrf(missing)
    application = Application.objects.get(pk=draft.pk)
    assert application.deleted_at is None and application.signature_requested_at is None
    assert draft.case.attachments.count() == 3 and draft.budget_lines.count() == lines
