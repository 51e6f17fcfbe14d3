"""Issue 6: after a failed upload or budget line the browser is sent back to the draft's step
(Bilagor, Budget; 303, Post/Redirect/Get), where the error stands at the field as well as in
the summary, with what was typed; the upload and budget addresses opened directly lead there."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from bidrag.models import Application

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def keys_of(seaweedfs, case_id) -> set[str]:
    listing = seaweedfs.client().list_objects_v2(Bucket=seaweedfs.bucket, Prefix=f"cases/{case_id}/")
    return {entry["Key"] for entry in listing.get("Contents", [])}


def tag(page: str, element: str, element_id: str) -> str:
    return re.search(rf'<{element}[^>]*id="{element_id}"[^>]*>', page).group()


def field_error(page: str, field: str) -> str:
    found = re.search(rf'<ul class="field__errors" id="id_{field}_error">(.*?)</ul>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""


def summary(page: str, form_id: str) -> str:
    found = re.search(rf'<div class="error-summary"[^>]*aria-labelledby="{form_id}-error-summary"[^>]*>(.*?)</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""


def step(draft, slug) -> str:
    return reverse("bidrag:application_step", args=[draft.pk, slug])


def snapshot(draft):
    application = Application.objects.get(pk=draft.pk)
    return (application.updated_at, application.purpose, list(draft.budget_lines.values_list("pk", "amount")),
            set(draft.case.attachments.values_list("pk", flat=True)))


def test_a_refused_upload_leads_back_to_the_draft_with_the_error_at_the_file_field(draft, cast, seaweedfs):
    client = client_for(cast.applicant)
    edit = step(draft, "bilagor")
    keys_before, before = keys_of(seaweedfs, draft.case_id), snapshot(draft)

    response = client.post(
        reverse("bidrag:attachment_upload", args=[draft.pk]),
        {"kind": "ovrigt", "file": SimpleUploadedFile("program.exe", b"MZ\x90\x00" + bytes(60))},
    )

    assert response.status_code == 303
    assert response["Location"] == f"{edit}#bilagor"
    page = client.get(edit).content.decode()
    assert "Filtypen .exe tas inte emot" in field_error(page, "file")
    assert "Filtypen .exe tas inte emot" in summary(page, "attachment")
    file_input = tag(page, "input", "id_file")
    assert 'aria-invalid="true"' in file_input and "id_file_error" in file_input
    assert re.search(r'<option value="ovrigt" selected>', page)  # the chosen kind is kept
    assert keys_of(seaweedfs, draft.case_id) == keys_before
    assert snapshot(draft) == before

    # Shown once: reloading the page gives the draft without the old error.
    again = client.get(edit).content.decode()
    assert not field_error(again, "file") and "Filtypen .exe" not in again


def test_an_upload_without_a_file_is_told_at_the_field_after_the_redirect(draft, cast):
    client = client_for(cast.applicant)
    response = client.post(reverse("bidrag:attachment_upload", args=[draft.pk]), {"kind": "lagesbild"})
    assert response.status_code == 303
    page = client.get(response["Location"].split("#")[0]).content.decode()
    assert field_error(page, "file")
    assert 'aria-invalid="true"' in tag(page, "input", "id_file")
    assert not field_error(page, "kind")


def test_a_refused_budget_line_leads_back_with_what_was_typed_and_the_error_at_the_amount(draft, cast):
    client = client_for(cast.applicant)
    edit = step(draft, "budget")
    before = snapshot(draft)

    response = client.post(
        reverse("bidrag:budget_line_add", args=[draft.pk]),
        {"category": "travel", "description": "Studieresa till Malmö", "amount": "-500"},
    )

    assert response.status_code == 303
    assert response["Location"] == f"{edit}#budget"
    page = client.get(edit).content.decode()
    assert "Beloppet måste vara större än noll" in field_error(page, "amount")
    assert "Beloppet måste vara större än noll" in summary(page, "budget-line")
    amount = tag(page, "input", "id_amount")
    assert 'aria-invalid="true"' in amount and 'aria-describedby="id_amount_error"' in amount and 'value="-500"' in amount
    assert 'value="Studieresa till Malmö"' in tag(page, "input", "id_description")
    assert re.search(r'<option value="travel" selected>', page)
    assert snapshot(draft) == before


@pytest.mark.parametrize("name, anchor", [("bidrag:attachment_upload", "bilagor"), ("bidrag:budget_line_add", "budget")])
def test_opening_the_upload_or_budget_address_leads_to_the_draft_instead_of_405(draft, cast, name, anchor):
    response = client_for(cast.applicant).get(reverse(name, args=[draft.pk]))
    assert response.status_code == 302
    assert response["Location"] == step(draft, anchor) + f"#{anchor}"


def test_errors_kept_for_one_draft_are_not_shown_on_another(draft, cast, call, stockholm):
    from workflows import demo

    other = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Annat utkast", complete=False)
    client = client_for(cast.applicant)
    client.post(reverse("bidrag:budget_line_add", args=[draft.pk]), {"category": "staff", "description": "x", "amount": "0"})
    page = client.get(step(other, "budget")).content.decode()
    assert not field_error(page, "amount")
    assert field_error(client.get(step(draft, "budget")).content.decode(), "amount")
