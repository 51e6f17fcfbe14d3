"""Messages to applicants are template files, one per kind and language
(templates/notifications/<kind>/sv.txt and en.txt: the subject on the first line, the body
after), rendered in the recipient's language with the pages' money and dates, with an
absolute link to the case's page; an administrator previews every kind in both languages."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from arenden.calendar import working_deadline
from arenden.formatting import day, money
from bidrag.models.application import Status
from notifications.messages import KINDS, message_render, sample_context
from notifications.models import MessageLanguage, Notice, OutboxMessage
from notifications.services import outbox_deliver_due
from tests.domain import perform

TEMPLATES = Path(settings.BASE_DIR) / "templates" / "notifications"
SERVICES = Path(settings.BASE_DIR) / "bidrag" / "services"
NBSP = "\u00a0"
SITE = "https://bidrag.example.se"


def test_every_kind_is_one_file_per_language():
    kinds = {p.name for p in TEMPLATES.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert kinds == set(KINDS)
    for kind in kinds:
        assert {p.name for p in (TEMPLATES / kind).iterdir()} == {"sv.txt", "en.txt"}, kind


def test_every_caller_names_a_kind_with_templates_and_passes_no_text():
    source = "\n".join(p.read_text() for p in SERVICES.glob("*.py"))
    calls = re.findall(r"notify(?:_applicant)?\((.*?)\)\n", source, flags=re.DOTALL)
    named = {m for call in calls for m in re.findall(r'kind="(\w+)"', call)}
    named |= set(re.findall(r'kind="(\w+)",\n\s+description=', source))  # _ask_applicant's two
    assert named >= {"submitted_receipt", "supplement_requested", "communication", "deadline_passed", "decision",
                     "payment", "report_approved", "report_returned", "change_decided", "repayment_instructions",
                     "delay_notice", "decision_corrected"}
    assert named <= set(KINDS)
    assert not [call for call in calls if "subject=" in call or "body=" in call]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_renders_in_both_languages_with_the_pages_formatting(kind):
    context = sample_context(kind)
    swedish = message_render(kind=kind, context=context, language="sv")
    english = message_render(kind=kind, context=context, language="en")
    for message in (swedish, english):
        text = message.subject + "\n" + message.body
        assert message.subject and "\n" not in message.subject
        for raw in ("None", "250000", "385000", ".00", "{{", "{%", "&quot;", "&amp;"):
            assert raw not in text, (kind, raw, text)
        assert context["url"] in message.body
        if "diarienummer" in context and kind != "signature_requested":
            assert context["diarienummer"] in message.subject
    assert swedish.subject != english.subject and swedish.body != english.body
    assert "Brottsförebyggande rådet (Brå)" in swedish.body and "Kind regards" in english.body
    if "amount" in context:
        assert f"{NBSP}kr" in swedish.body and "SEK" in english.body and f"{NBSP}kr" not in english.body


def test_money_and_dates_read_as_on_the_pages():
    payment = message_render(kind="payment", context=sample_context("payment"), language="sv")
    assert f"250{NBSP}000{NBSP}kr" in payment.subject and f"250{NBSP}000{NBSP}kr" in payment.body
    assert f"SEK{NBSP}250,000" in message_render(kind="payment", context=sample_context("payment"), language="en").body
    request = message_render(kind="supplement_requested", context=sample_context("supplement_requested"), language="sv")
    assert "svara senast 1 december 2026" in request.subject
    english = message_render(kind="supplement_requested", context=sample_context("supplement_requested"), language="en")
    assert "reply by 1 December 2026" in english.subject


@pytest.mark.django_db
def test_an_english_member_gets_english_a_swedish_one_swedish_and_the_server_receives_both(
    make_application, cast, smtp_backend, settings, client
):
    settings.SITE_URL = SITE
    application = make_application(to=Status.IN_REVIEW)
    MessageLanguage.objects.create(user=cast.signatory, language="en")
    OutboxMessage.objects.update(status=OutboxMessage.Status.NOT_SENT)  # what came before is not this test's
    deadline = working_deadline(timezone.localdate() + timedelta(days=14))

    perform(actor=cast.officer, application=application, node="review", action="request_supplement",
            data={"deadline": deadline, "request_text": "Bifoga budgeten per år."})
    outbox_deliver_due()

    received = {mail.rcpt_tos[0]: mail for mail in smtp_backend.wait_for(3)}
    english, swedish = received[cast.signatory.email], received[cast.applicant.email]
    subject = {email: " ".join(mail.subject.split()) for email, mail in received.items()}  # unfolded
    diarienummer = application.case.diarienummer
    assert subject[cast.signatory.email] == f"Request for additional information, reply by {day(deadline, language='en')} – {diarienummer}"
    assert subject[cast.applicant.email] == f"Begäran om komplettering, svara senast {day(deadline, language='sv')} – {diarienummer}"
    assert "Bifoga budgeten per år." in english.body and "Bifoga budgeten per år." in swedish.body
    path = reverse("workflows:application_detail", args=[application.pk])
    assert f"{SITE}{path}" in english.body and f"{SITE}{path}" in swedish.body
    # The organisation's own address has nobody behind it: Swedish.
    assert subject[application.organisation.email] == subject[cast.applicant.email]

    # Each person also has it as a notice, in their language.
    for person in (cast.signatory, cast.applicant):
        notice = Notice.objects.get(user=person, kind="supplement_requested")
        assert notice.subject == OutboxMessage.objects.get(kind="supplement_requested", recipient=person.email).subject
        assert " ".join(notice.subject.split()) == subject[person.email]

    # The link lands on the case's page after login.
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == f"{reverse('login')}?next={path}"
    client.force_login(cast.applicant)
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_two_supplement_rounds_have_different_subjects(make_application, cast):
    application = make_application(to=Status.IN_REVIEW)
    first = working_deadline(timezone.localdate() + timedelta(days=10))
    second = working_deadline(first + timedelta(days=10))
    perform(actor=cast.officer, application=application, node="review", action="request_supplement",
            data={"deadline": first, "request_text": "Bifoga budgeten."})
    perform(actor=cast.signatory, application=application, node="await_supplement", action="receive_supplement",
            data={"answer": "Här."})
    perform(actor=cast.officer, application=application, node="review", action="request_supplement",
            data={"deadline": second, "request_text": "Bifoga planen."})
    subjects = set(OutboxMessage.objects.filter(kind="supplement_requested", recipient=cast.applicant.email)
                   .values_list("subject", flat=True))
    assert len(subjects) == 2


@pytest.mark.django_db
def test_the_language_switch_sets_the_language_of_a_persons_messages(cast, client):
    client.force_login(cast.applicant)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert MessageLanguage.objects.get(user=cast.applicant).language == "en"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


@pytest.mark.django_db
def test_the_preview_shows_every_kind_in_both_languages_to_administrators_only(cast, client):
    url = reverse("notices:preview")
    for person in (cast.applicant, cast.officer):
        client.force_login(person)
        assert client.get(url).status_code == 404
    client.force_login(cast.admin)
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    for kind in KINDS:
        for language in ("sv", "en"):
            subject = message_render(kind=kind, context=sample_context(kind), language=language).subject
            assert escape(subject) in page, (kind, language)


@pytest.mark.django_db
def test_an_english_member_reads_the_decision_its_outcome_and_the_appeal_notice_in_english(make_application, cast):
    MessageLanguage.objects.create(user=cast.signatory, language="en")
    application = make_application(to=Status.GRANTED, amount=Decimal("385000"))
    english = OutboxMessage.objects.get(kind="decision", recipient=cast.signatory.email)
    swedish = OutboxMessage.objects.get(kind="decision", recipient=cast.applicant.email)
    assert english.subject == f"Decision: Granted – {application.case.diarienummer}"
    assert swedish.subject == f"Beslut: Beviljad – {application.case.diarienummer}"
    scheme = application.call.scheme
    assert scheme.appeal_notice_en.strip() and scheme.appeal_notice.strip()
    assert scheme.appeal_notice_en.strip()[:60] in english.body and scheme.appeal_notice.strip()[:60] not in english.body
    assert scheme.appeal_notice.strip()[:60] in swedish.body
    decision = application.decisions.get()
    assert f"SEK{NBSP}" in english.body and money(decision.amount, language="en") in english.body
    assert money(decision.amount, language="sv") in swedish.body
    for text in (english.subject + english.body, swedish.subject + swedish.body):
        assert "None" not in text and ".00" not in text
