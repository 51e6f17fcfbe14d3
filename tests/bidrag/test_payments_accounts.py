"""The payee's account (issue 7, disbursement): a bankgiro or plusgiro number with a valid
check digit, set by the organisation's firmatecknare, copied onto the disbursement when it
is prepared, and shown to finance with the payee's name and the amount."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from arenden.errors import ErrorCode, TransitionNotAllowed, ValidationFailed
from arenden.formatting import money
from bidrag.models import Disbursement, Organisation
from bidrag.models.application import Status
from bidrag.payments.accounts import format_account, normalise_account
from notifications.models import OutboxMessage
from tests.domain import perform

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.mark.parametrize(("method", "number", "digits", "shown"), [
    ("bankgiro", "5050-1055", "50501055", "5050-1055"),
    ("bankgiro", "123-4566", "1234566", "123-4566"),
    ("plusgiro", "12345-5", "123455", "12345-5"),
    ("plusgiro", " 1 2345 5 ", "123455", "12345-5"),
])
def test_a_valid_number_is_kept_as_digits_and_shown_the_usual_way(method, number, digits, shown):
    assert normalise_account(method=method, number=number) == digits
    assert format_account(method=method, digits=digits) == shown


@pytest.mark.parametrize(("method", "number", "words"), [
    ("bankgiro", "5050-1056", "Kontrollsiffran stämmer inte"),
    ("bankgiro", "505-105", "har 7–8 siffror"),
    ("bankgiro", "505010555", "har 7–8 siffror"),
    ("plusgiro", "1", "har 2–8 siffror"),
    ("plusgiro", "12a45-5", "bara av siffror"),
    ("bankgiro", "", "Ange bankgironumret"),
    ("swish", "1234566", "Välj bankgiro eller plusgiro"),
])
def test_a_wrong_number_is_refused_in_swedish(method, number, words):
    with pytest.raises(ValidationFailed) as excinfo:
        normalise_account(method=method, number=number)
    assert words in str(excinfo.value.message)


def test_the_firmatecknare_sets_the_account_and_every_signatory_is_told(cast, stockholm, draft):
    client = Client()
    client.force_login(cast.signatory)
    url = reverse("bidrag:payment_account_set", args=[stockholm.pk])
    response = client.post(url, {"method": "plusgiro", "number": "12345-5"})
    assert response.status_code == 302 and response["Location"].endswith("#utbetalningar")
    stockholm.refresh_from_db()
    assert (stockholm.payment_method, stockholm.payment_account) == ("plusgiro", "123455")
    mail = OutboxMessage.objects.get(kind="payment_account_changed")
    assert mail.recipient == cast.signatory.email and "12345-5" in mail.body
    page = text_of(client.get(reverse("bidrag:organisation_detail", args=[stockholm.pk])))
    assert "Plusgiro 12345-5" in page


def test_a_wrong_number_is_shown_at_the_field_and_nothing_is_saved(cast, stockholm, draft):
    before = (stockholm.payment_method, stockholm.payment_account)
    client = Client()
    client.force_login(cast.signatory)
    response = client.post(reverse("bidrag:payment_account_set", args=[stockholm.pk]),
                           {"method": "bankgiro", "number": "5050-1056"})
    assert response.status_code == 400
    assert "Kontrollsiffran stämmer inte: kontrollera bankgironumret." in text_of(response)
    stockholm.refresh_from_db()
    assert (stockholm.payment_method, stockholm.payment_account) == before


def test_only_a_firmatecknare_with_a_confirmed_mandate_sets_it(cast, stockholm, malmo, draft):
    client = Client()
    client.force_login(cast.applicant)  # a member as sökande
    response = client.post(reverse("bidrag:payment_account_set", args=[stockholm.pk]),
                           {"method": "bankgiro", "number": "5050-1055"})
    assert response.status_code == 403
    assert Organisation.objects.get(pk=stockholm.pk).payment_account != "50501055"
    client.force_login(cast.finance)  # no member at all: the same answer as a missing organisation
    assert client.post(reverse("bidrag:payment_account_set", args=[malmo.pk]),
                       {"method": "bankgiro", "number": "5050-1055"}).status_code == 404


def test_preparation_refuses_an_organisation_without_an_account(make_application, cast):
    application = make_application(to=Status.GRANTED)
    Organisation.objects.filter(pk=application.organisation_id).update(payment_method="", payment_account="")
    with pytest.raises(TransitionNotAllowed) as excinfo:
        perform(actor=cast.officer, application=application, node="prepare_payment", action="prepare_disbursement")
    assert excinfo.value.code == ErrorCode.INCOMPLETE
    assert "har inget giltigt bankgiro- eller plusgironummer" in str(excinfo.value.message)
    assert not Disbursement.objects.filter(application=application).exists()


def test_the_disbursement_keeps_the_account_it_was_prepared_for(make_application, cast):
    application = make_application(to=Status.GRANTED)
    organisation = application.organisation
    prepared_for = organisation.payment_account
    perform(actor=cast.officer, application=application, node="prepare_payment", action="prepare_disbursement")
    perform(actor=cast.finance, application=application, node="attest_payment", action="attest_disbursement")
    Organisation.objects.filter(pk=organisation.pk).update(payment_method="plusgiro", payment_account="123455")
    disbursement = Disbursement.objects.get(application=application)
    assert (disbursement.payee_name, disbursement.payee_method, disbursement.payee_account) == (
        organisation.name, "bankgiro", prepared_for)
    client = Client()
    client.force_login(cast.finance2)
    page = text_of(client.get(reverse("workflows:task_action", args=[application.pk, "pay", "pay_disbursement"])))
    assert f"Betalningsmottagare {organisation.name}" in page
    assert f"Bankgiro eller plusgiro Bankgiro {format_account(method='bankgiro', digits=prepared_for)}" in page
    assert "12345-5" not in page
    assert " ".join(money(disbursement.amount, language="sv").split()) in page


def test_before_preparation_the_officer_sees_the_account_or_that_it_is_missing(make_application, cast):
    application = make_application(to=Status.GRANTED)
    client = Client()
    client.force_login(cast.officer)
    url = reverse("workflows:task_action", args=[application.pk, "prepare_payment", "prepare_disbursement"])
    assert f"Bankgiro {application.organisation.payment_account_display}" in text_of(client.get(url))
    Organisation.objects.filter(pk=application.organisation_id).update(payment_method="", payment_account="")
    assert "Saknas: organisationens firmatecknare behöver ange" in text_of(client.get(url))
