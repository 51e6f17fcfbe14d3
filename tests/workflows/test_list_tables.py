"""Issue 7: the queue and all-cases tables' rows are written in Python (workflows.list_tables, for the
50 ms page); what they show must stay what the template showed, and everything an applicant
typed must arrive escaped."""

import html
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bidrag.models.application import Status
from workflows.models import QueueEntry

pytestmark = pytest.mark.django_db

QUEUE = reverse("workflows:queue")


def _row(page: str, diarienummer: str) -> str:
    found = re.search(rf"<tr><th scope=\"row\">(?:(?!</tr>).)*{re.escape(diarienummer)}(?:(?!</tr>).)*</tr>", page, re.S)
    assert found, f"no row for {diarienummer}"
    return found.group(0)


def test_queue_row_shows_the_case_and_escapes_what_the_applicant_wrote(make_application, cast):
    title = '<script>alert("x")</script> & Trygg skolväg'
    application = make_application(to=Status.SUBMITTED, title=title, amount=Decimal("312345"))
    client = Client()
    client.force_login(cast.registrar)
    page = client.get(f"{QUEUE}?ko=registrator").content.decode()
    application.case.refresh_from_db()
    row = _row(page, application.case.diarienummer)
    assert "<script>" not in row
    assert html.escape(title) in row
    assert reverse("workflows:case_detail", args=[application.pk]) in row
    # The amount as submitted, in Swedish with no-break spaces; the received day as ISO.
    assert "312\u00a0345\u00a0kr" in row
    entry = QueueEntry.objects.get(application=application)
    assert entry.requested == Decimal("312345")
    assert f"<td>{timezone.localtime(entry.received).date().isoformat()}</td>" in row
    assert "Ingen" in row  # no svarsfrist, nobody holds it


def test_queue_row_in_english_names_the_amount_in_english(make_application, cast):
    application = make_application(to=Status.SUBMITTED, amount=Decimal("250000"))
    client = Client()
    client.force_login(cast.registrar)
    client.post(reverse("set_language"), {"language": "en", "next": QUEUE})
    page = client.get(f"{QUEUE}?ko=registrator").content.decode()
    application.case.refresh_from_db()
    row = _row(page, application.case.diarienummer)
    assert "SEK\u00a0250,000" in row
    assert "None" not in row


def test_all_cases_row_shows_status_badge_day_and_budget_total_escaped(make_application, cast):
    title = "<i>Trygghet</i> i Ö-vik"
    application = make_application(to=Status.SUBMITTED, title=title, amount=Decimal("275000"))
    client = Client()
    client.force_login(cast.auditor)
    page = client.get(reverse("workflows:case_list")).content.decode()
    application.refresh_from_db()
    row = _row(page, application.case.diarienummer)
    assert "<i>" not in row and html.escape(title) in row
    assert f'<span class="badge badge--info">{Status.SUBMITTED.label}</span>' in row
    assert f"<td>{timezone.localtime(application.submitted_at).date().isoformat()}</td>" in row
    assert "275\u00a0000\u00a0kr" in row
