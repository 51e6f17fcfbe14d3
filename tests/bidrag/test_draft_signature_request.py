"""Issue 6: a sökande (no signing right) is offered only what they may do, and hands a finished
draft to the organisation's firmatecknare, who sees that it waits for their signature."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from arenden.formatting import moment
from arenden.models import JournalEvent
from bidrag.events import Event
from bidrag.models import Application, Membership
from bidrag.models.application import Status
from notifications.models import OutboxMessage
from workflows import demo

from ..domain import submit

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
ASK = "Be firmatecknaren skicka in"
WAITS = "Väntar på din underskrift"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit_page(user, application) -> str:
    """The draft's summary step, where the checklist and the way to submit are."""
    return client_for(user).get(
        reverse("bidrag:application_step", args=[application.pk, "sammanfattning"])
    ).content.decode()


def request_signature(user, application):
    return client_for(user).post(reverse("bidrag:application_request_signature", args=[application.pk]))


def signature_mails(application):
    return OutboxMessage.objects.filter(kind="signature_requested", reference=f"application:{application.pk}")


def test_a_sokande_is_offered_the_hand_over_and_no_submit_button(draft, cast):
    page = edit_page(cast.applicant, draft)
    assert reverse("workflows:submit", args=[draft.pk]) not in page
    assert ASK in page
    assert reverse("bidrag:application_request_signature", args=[draft.pk]) in page


def test_a_signatory_is_offered_the_submit_button_and_no_hand_over(draft, cast):
    page = edit_page(cast.signatory, draft)
    assert reverse("workflows:submit", args=[draft.pk]) in page
    assert ASK not in page


def test_an_incomplete_draft_offers_no_hand_over(cast, call, stockholm):
    incomplete = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Halvfärdigt", complete=False)
    page = edit_page(cast.applicant, incomplete)
    assert ASK not in page
    assert reverse("workflows:submit", args=[incomplete.pk]) not in page


def test_the_hand_over_is_recorded_journaled_and_mailed_to_the_signatories_only(draft, cast, stockholm):
    second_signatory = type(cast.applicant).objects.create_user(
        "firmatecknare2", first_name="Filippa", last_name="Firmatecknare", email="filippa@stockholm.example.se"
    )
    demo.signatory_mandate_ensure(organisation=stockholm, user=second_signatory, registrar=cast.registrar)
    # A firmatecknare whose mandate Brå has not confirmed is not asked: the door would refuse them.
    unconfirmed = type(cast.applicant).objects.create_user("obekraftad", email="obekraftad@stockholm.example.se")
    Membership.objects.create(organisation=stockholm, user=unconfirmed, role=Membership.Role.SIGNATORY)

    response = request_signature(cast.applicant, draft)

    assert response.status_code == 302
    assert response["Location"].endswith("#skicka-in")
    application = Application.objects.get(pk=draft.pk)
    assert application.status == Status.DRAFT
    assert application.signature_requested_by == cast.applicant
    assert application.signature_requested_at is not None
    event = JournalEvent.objects.get(case=application.case_id, action=Event.REQUEST_SIGNATURE)
    assert (event.actor_id, event.from_state, event.to_state) == (cast.applicant.pk, "draft", "draft")
    mails = list(signature_mails(application))
    assert sorted(m.recipient for m in mails) == sorted([cast.signatory.email, second_signatory.email])
    body = mails[0].body
    assert "Sara Sökande" in body and draft.title in body
    assert f"300{NBSP}000{NBSP}kr" in body and "300000" not in body
    assert moment(application.call.closes_at, language="sv") in body


def test_the_signatory_sees_on_the_list_and_the_draft_that_it_waits_for_them(draft, cast):
    request_signature(cast.applicant, draft)

    listing = client_for(cast.signatory).get(reverse("bidrag:application_list")).content.decode()
    row = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{draft.title}</a>.*?</tr>", listing, re.S).group()
    assert WAITS in row
    assert WAITS in edit_page(cast.signatory, draft)
    # The sökande who asked is told it was asked, not that it waits for them.
    assert WAITS not in client_for(cast.applicant).get(reverse("bidrag:application_list")).content.decode()
    assert "bad firmatecknaren signera" in edit_page(cast.applicant, draft)

    submit(actor=cast.signatory, application=draft)
    assert WAITS not in client_for(cast.signatory).get(reverse("bidrag:application_list")).content.decode()


def test_an_incomplete_draft_is_not_handed_over(cast, call, stockholm):
    incomplete = demo.new_application(cast=cast, organisation=stockholm, call=call, title="Halvfärdigt", complete=False)
    response = request_signature(cast.applicant, incomplete)
    assert response.status_code == 400
    assert "Ansökan är inte komplett" in response.content.decode()
    assert Application.objects.get(pk=incomplete.pk).signature_requested_at is None
    assert not signature_mails(incomplete).exists()
    assert not JournalEvent.objects.filter(case=incomplete.case_id, action=Event.REQUEST_SIGNATURE).exists()


def test_an_organisation_without_a_signatory_to_mail_is_told_so(draft, cast):
    type(cast.signatory).objects.filter(pk=cast.signatory.pk).update(email="")
    response = request_signature(cast.applicant, draft)
    assert response.status_code == 400
    assert "ingen firmatecknare med e-postadress" in response.content.decode()
    assert Application.objects.get(pk=draft.pk).signature_requested_at is None


def test_a_submitted_application_is_not_handed_over_again(make_application, cast):
    application = make_application(to=Status.SUBMITTED)
    response = request_signature(cast.applicant, application)
    assert response.status_code == 409
    assert "redan inskickad" in response.content.decode()
    assert not signature_mails(application).exists()


def test_opening_the_hand_over_address_leads_back_to_the_draft(draft, cast):
    response = client_for(cast.applicant).get(reverse("bidrag:application_request_signature", args=[draft.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("bidrag:application_edit", args=[draft.pk])
