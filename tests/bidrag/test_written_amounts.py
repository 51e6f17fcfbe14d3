"""Issue 6: amounts and dates in e-mails, diarium texts and error messages are written as on
the pages ("385 000 kr", "21 februari 2027"), never "385000.00 kr" or "(400000 kr)"."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from arenden.errors import ServiceError
from arenden.models import DiariumEntry
from bidrag.models import Proposal
from bidrag.models.application import Status
from bidrag.services.applications import submission_problems
from notifications.models import OutboxMessage
from workflows import demo

from ..domain import perform

NBSP = "\u00a0"
RAW_AMOUNT = re.compile(r"\d{4,}(\.\d\d)? ?kr|\(\d+ kr\)")


def _texts(application) -> list[str]:
    mails = OutboxMessage.objects.filter(reference__contains=str(application.pk)).values_list("subject", "body")
    diarium = DiariumEntry.objects.filter(case=application.case_id).values_list("description", flat=True)
    return [t for pair in mails for t in pair] + list(diarium)


@pytest.mark.django_db
def test_mail_and_diarium_write_amounts_as_the_pages_do(make_application):
    application = make_application(to=Status.IN_PROGRESS, amount=Decimal("385000"))
    texts = _texts(application)
    assert texts, "no mail or diarium text to check"
    unformatted = [t for t in texts if RAW_AMOUNT.search(t)]
    assert not unformatted, unformatted
    assert any(f"385{NBSP}000{NBSP}kr" in t for t in texts)  # the receipt's requested amount
    assert any(f"250{NBSP}000{NBSP}kr" in t for t in texts)  # the decision and the payment


@pytest.mark.django_db
def test_ceiling_problem_names_both_amounts_formatted(cast, call, stockholm):
    application = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Stort", complete=False)
    demo.complete_draft(application=application, actor=cast.applicant, amount=Decimal("500000"))
    problems = [str(p) for p in submission_problems(application)]
    assert any(f"500{NBSP}000{NBSP}kr" in p and f"400{NBSP}000{NBSP}kr" in p for p in problems), problems


@pytest.mark.django_db
def test_granting_more_than_requested_is_refused_with_a_formatted_amount(make_application, cast):
    application = make_application(to=Status.IN_ASSESSMENT, amount=Decimal("300000"))
    with translation.override("sv"), pytest.raises(ServiceError) as refused:
        perform(actor=cast.officer, application=application, node="assess", action="propose_decision",
                data={"outcome": Proposal.Outcome.GRANTED, "amount": Decimal("400000"), "reasons": "Skäl."})
    assert f"(300{NBSP}000{NBSP}kr)" in str(refused.value.message)


@pytest.mark.django_db
def test_cost_category_select_asks_in_swedish(client, draft, cast):
    client.force_login(cast.applicant)
    page = client.get(reverse("bidrag:application_step", args=[draft.pk, "budget"])).content.decode()
    assert "Select an option" not in page
    assert "Välj kostnadsslag" in page
