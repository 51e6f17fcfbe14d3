"""Issue 6, nothing typed is lost: autosave (htmx) posts a step's fields as they change and
answers with the time; a field that cannot be read costs the others nothing; a session that
ended mid-step keeps the POST until the person has logged in again, on the same step; the
deadline passing while the form was open leaves saving working and submitting refused."""

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bidrag.models import Application
from bidrag.models.application import Status
from tests.domain import submit

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def step(application, slug) -> str:
    return reverse("bidrag:application_step", args=[application.pk, slug])


def autosave(application, slug) -> str:
    return reverse("bidrag:application_autosave", args=[application.pk, slug])


def textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(found.group(1)).strip() if found else ""


def test_autosave_saves_the_steps_fields_and_answers_with_the_time(draft, cast):
    response = client_for(cast.applicant).post(
        autosave(draft, "mal"), {"purpose": "Nytt syfte, autosparat", "goals": "Nya mål"}, **HTMX
    )
    assert response.status_code == 200
    assert re.fullmatch(r"Sparat kl\. \d\d\.\d\d\.", response.content.decode())
    saved = Application.objects.get(pk=draft.pk)
    assert (saved.purpose, saved.goals) == ("Nytt syfte, autosparat", "Nya mål")


def test_autosave_without_htmx_answers_204(draft, cast):
    response = client_for(cast.applicant).post(autosave(draft, "malgrupp"), {"target_group": "Unga vuxna"})
    assert response.status_code == 204
    assert Application.objects.get(pk=draft.pk).target_group == "Unga vuxna"


def test_autosave_keeps_what_it_can_and_names_the_field_it_could_not_read(draft, cast):
    before = Application.objects.get(pk=draft.pk)
    response = client_for(cast.applicant).post(
        autosave(draft, "projekt"),
        {"title": "Nytt namn", "track": before.track_id, "start_date": "2027-02-30", "end_date": "2027-12-01"},
        **HTMX,
    )
    text = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Sparat kl." in text and "Inte sparat, rätta först: Startdatum" in text
    saved = Application.objects.get(pk=draft.pk)
    assert saved.title == "Nytt namn" and saved.end_date.isoformat() == "2027-12-01"
    assert saved.start_date == before.start_date  # the unreadable date left the saved one alone


def test_autosave_needs_the_csrf_token_and_takes_it_as_a_header(draft, cast):
    client = client_for(cast.applicant, enforce_csrf_checks=True)
    page = client.get(step(draft, "tidsplan")).content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)  # hx-headers on the form

    refused = client.post(autosave(draft, "tidsplan"), {"plan": "Utan token"}, **HTMX)
    assert refused.status_code == 403
    assert Application.objects.get(pk=draft.pk).plan != "Utan token"

    accepted = client.post(autosave(draft, "tidsplan"), {"plan": "Med token"}, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert accepted.status_code == 200
    assert Application.objects.get(pk=draft.pk).plan == "Med token"


def test_the_step_form_posts_to_autosave_with_htmx_from_this_site_only(draft, cast):
    page = client_for(cast.applicant).get(step(draft, "metod")).content.decode()
    form = re.search(r'<form method="post" action="[^"]+/steg/metod/"[^>]*>', page, re.S).group()
    assert f'hx-post="{autosave(draft, "metod")}"' in form
    assert 'hx-trigger="change, input delay:1500ms"' in form
    assert re.search(r'<p id="autosave-status"[^>]*aria-live="polite"', page)
    assert '<script src="/static/js/htmx.min.js" defer></script>' in page
    assert "<script>" not in page and " style=" not in page and "onclick" not in page  # CSP: self only


def test_another_organisations_draft_answers_like_a_missing_one(draft, cast, malmo, call):
    from bidrag.models import Membership

    outsider = type(cast.applicant).objects.create_user("utomstaende", email="u@malmo.se")
    Membership.objects.create(organisation=malmo, user=outsider, role=Membership.Role.APPLICANT)
    client = client_for(outsider)
    missing = "00000000-0000-4000-8000-000000000000"
    for url, other in [
        (step(draft, "mal"), reverse("bidrag:application_step", args=[missing, "mal"])),
        (autosave(draft, "mal"), reverse("bidrag:application_autosave", args=[missing, "mal"])),
    ]:
        assert client.post(url, {"purpose": "Inbrott"}).status_code == client.post(other, {"purpose": "x"}).status_code == 404
    assert client.get(step(draft, "mal")).status_code == 404
    assert Application.objects.get(pk=draft.pk).purpose != "Inbrott"


def test_autosave_of_a_submitted_application_is_refused_and_says_so(draft, cast):
    submit(actor=cast.signatory, application=draft)
    response = client_for(cast.applicant).post(autosave(draft, "mal"), {"purpose": "För sent"}, **HTMX)
    assert response.status_code == 409
    assert "kan inte längre ändras" in response.content.decode()
    assert Application.objects.get(pk=draft.pk).purpose != "För sent"


# -- the session ends while the step is open ------------------------------------------------


def test_a_step_posted_after_the_session_ended_is_there_after_logging_in_again(draft, cast):
    client = client_for(cast.applicant)
    client.get(step(draft, "problemanalys"))
    client.logout()  # the session ended (expired, or logged out in another tab)
    typed = "En lång problemanalys som skrevs medan sessionen gick ut.\nMed två stycken."

    response = client.post(step(draft, "problemanalys"), {"need": typed, "action": "continue"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=" in response["Location"] and "/steg/problemanalys/" in response["Location"]
    assert Application.objects.get(pk=draft.pk).need != typed  # nothing saved without a login

    client.force_login(cast.applicant)
    page = client.get(step(draft, "problemanalys")).content.decode()
    assert textarea(page, "need") == typed
    assert "innan du blev utloggad" in page
    # shown once: reloading gives the saved draft again
    assert textarea(client.get(step(draft, "problemanalys")).content.decode(), "need") == Application.objects.get(pk=draft.pk).need


def test_autosave_after_the_session_ended_is_kept_too_and_says_how_to_go_on(draft, cast):
    client = client_for(cast.applicant)
    client.logout()
    response = client.post(autosave(draft, "samverkan"), {"partners": "Polisen och skolan"}, **HTMX)
    assert response.status_code == 401
    text = html.unescape(response.content.decode())
    assert "Du är utloggad" in text and 'href="/logga-in/?next=' in text

    client.force_login(cast.applicant)
    page = client.get(step(draft, "samverkan")).content.decode()
    assert textarea(page, "partners") == "Polisen och skolan"


def test_what_another_person_typed_logged_out_is_not_shown_to_a_non_member(draft, cast, malmo):
    from bidrag.models import Membership

    client = Client()
    client.post(step(draft, "mal"), {"purpose": "Hemligt"})
    outsider = type(cast.applicant).objects.create_user("annan", email="a@malmo.se")
    Membership.objects.create(organisation=malmo, user=outsider, role=Membership.Role.APPLICANT)
    client.force_login(outsider)
    assert client.get(step(draft, "mal")).status_code == 404


# -- the deadline passes while the form is open -------------------------------------------


def test_after_the_deadline_saving_still_works_and_submitting_says_the_call_closed(draft, cast):
    call = draft.call
    call.closes_at = timezone.now() - timedelta(minutes=1)
    call.save(update_fields=["closes_at"])
    client = client_for(cast.signatory)

    page = client.get(step(draft, "mal")).content.decode()
    assert "Utlysningen stängde" in page and "kan inte längre skickas in" in page
    response = client.post(step(draft, "mal"), {"purpose": "Sent men sparat", "goals": "Mål", "action": "save"})
    assert response.status_code == 302
    assert Application.objects.get(pk=draft.pk).purpose == "Sent men sparat"
    assert client.post(autosave(draft, "mal"), {"purpose": "Också autosparat", "goals": "Mål"}).status_code == 204
    assert Application.objects.get(pk=draft.pk).purpose == "Också autosparat"

    submit_page = client.get(reverse("workflows:submit", args=[draft.pk]))
    key = re.search(r'name="idempotency_key" value="([^"]+)"', submit_page.content.decode())
    response = client.post(reverse("workflows:submit", args=[draft.pk]),
                           {"idempotency_key": key.group(1) if key else "k" * 32}, follow=True)
    assert "Utlysningen stängde" in html.unescape(response.content.decode())
    assert Application.objects.get(pk=draft.pk).status == Status.DRAFT


def test_an_upload_that_fails_keeps_the_steps_text(draft, cast, seaweedfs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(cast.applicant)
    client.post(autosave(draft, "mal"), {"purpose": "Skrivet före uppladdningen", "goals": "Mål"})
    response = client.post(reverse("bidrag:attachment_upload", args=[draft.pk]),
                           {"kind": "ovrigt", "file": SimpleUploadedFile("x.pdf", b"<html>inte en pdf</html>")})
    assert response.status_code == 303
    assert Application.objects.get(pk=draft.pk).purpose == "Skrivet före uppladdningen"
    assert textarea(client.get(step(draft, "mal")).content.decode(), "purpose") == "Skrivet före uppladdningen"

