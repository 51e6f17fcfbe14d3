"""Issue 6: the applicant sees the decision on the page and as a letter (PDF), with its
conditions, reasons and how to appeal; issue 7 (the letter the decision sends)."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from arenden.formatting import day, money
from bidrag.letters import appeal_notice
from bidrag.models.application import Status

pytestmark = pytest.mark.django_db


def pdf_text(response) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return " ".join(text.split())


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_decision_letter_says_what_was_decided_by_whom_and_how_to_appeal(make_application, cast, client):
    application = make_application(to=Status.GRANTED, title="Trygga torg")
    decision = application.decisions.get()
    client.force_login(cast.signatory)

    response = client.get(reverse("bidrag:decision_letter", args=[application.pk, decision.pk]))

    text = pdf_text(response)
    assert application.case.diarienummer in text
    assert application.case.diarienummer.replace("/", "-") in response["Content-Disposition"]
    assert "Trygga torg" in text and application.organisation.orgnr in text
    assert f"Beviljad: {flat(money(decision.amount, language='sv'))}" in text
    assert f"Beslutsdatum {flat(day(decision.decided_at, language='sv'))}" in text
    assert flat(decision.reasons)[:60] in text
    assert "Hur man överklagar" in text and flat(appeal_notice(application.call.scheme, "sv"))[:60] in text
    decided_by = decision.decided_by.get_full_name() or decision.decided_by.get_username()
    presented_by = decision.presented_by.get_full_name() or decision.presented_by.get_username()
    assert f"Beslutet har fattats av {decided_by} efter föredragning av {presented_by}" in text


def test_a_rejection_letter_has_no_amount(make_application, cast, client):
    application = make_application(to=Status.REJECTED)
    decision = application.decisions.get()
    client.force_login(cast.applicant)
    text = pdf_text(client.get(reverse("bidrag:decision_letter", args=[application.pk, decision.pk])))
    assert "Avslag" in text and " kr" not in text.split("Skäl för beslutet")[0].split("Brås beslut")[1]


def test_the_status_page_shows_the_appeal_information_and_links_the_letter(make_application, cast, client):
    application = make_application(to=Status.GRANTED)
    decision = application.decisions.get()
    client.force_login(cast.applicant)
    page = client.get(reverse("workflows:application_detail", args=[application.pk])).content.decode()
    assert "Hur man överklagar" in page
    assert reverse("bidrag:decision_letter", args=[application.pk, decision.pk]) in page

    client.cookies["django_language"] = "en"
    page = client.get(reverse("workflows:application_detail", args=[application.pk])).content.decode()
    scheme = application.call.scheme
    assert "How to appeal" in page and appeal_notice(scheme, "en") in page
    assert appeal_notice(scheme, "en") != appeal_notice(scheme, "sv")
    # The letter stays the agency's Swedish document.
    assert "Hur man överklagar" in pdf_text(client.get(reverse("bidrag:decision_letter", args=[application.pk, decision.pk])))


def test_staff_who_read_the_case_get_the_letter_and_others_a_404(make_application, cast, client, malmo):
    application = make_application(to=Status.GRANTED)
    decision = application.decisions.get()
    url = reverse("bidrag:decision_letter", args=[application.pk, decision.pk])
    client.force_login(cast.auditor)
    assert client.get(url).status_code == 200

    stranger = type(cast.applicant).objects.create_user("utomstaende")
    client.force_login(stranger)
    assert client.get(url).status_code == 404

    # Another application's decision under this application's id: exactly as missing.
    other = make_application(to=Status.GRANTED, organisation=malmo)
    client.force_login(cast.applicant)
    foreign = reverse("bidrag:decision_letter", args=[application.pk, other.decisions.get().pk])
    missing = reverse("bidrag:decision_letter", args=[application.pk, "00000000-0000-0000-0000-000000000000"])
    assert client.get(foreign).status_code == client.get(missing).status_code == 404
