"""FL 36 §: an obvious error in a sent decision is corrected by a new decision that refers
to the old one, which stays as it was sent; outcome and amount do not change that way."""

import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from pypdf import PdfReader

from arenden.errors import NotAllowed, TransitionNotAllowed, ValidationFailed
from arenden.models import JournalEvent
from bidrag.events import Event
from bidrag.models import Decision
from bidrag.models.application import Status
from bidrag.services.letters import letter_issue
from workflows import clocks

pytestmark = pytest.mark.django_db


def _correct(cast, application, decision, *, actor=None, reasons=None, note="Fel årtal i skälen."):
    return clocks.correct(actor=actor or cast.decision_maker, application_id=application.pk, decision_id=decision.pk,
                          reasons=reasons if reasons is not None else decision.reasons.replace("2022", "2021") + " (rättat)",
                          conditions=decision.conditions, note=note)


def test_fl36_a_correction_is_a_new_decision_and_the_old_stays_as_sent(make_application, cast):
    application = make_application(to=Status.GRANTED)
    old = application.decisions.get()
    sent_reasons = old.reasons

    new = _correct(cast, application, old)

    old.refresh_from_db()
    assert old.reasons == sent_reasons
    assert new.corrects == old and (new.outcome, new.amount) == (old.outcome, old.amount)
    assert new.reasons.endswith("(rättat)") and new.decided_by == cast.decision_maker
    event = JournalEvent.objects.get(case_id=application.case_id, action=Event.CORRECT_DECISION)
    assert event.payload == {"decision": str(new.pk), "corrects": str(old.pk), "note": "Fel årtal i skälen."}
    letter = letter_issue(decision_id=new.pk)
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(
        default_storage.open(letter.file.name).read())).pages).split())
    assert "Rättelse av beslut" in text and "som därmed inte längre gäller" in text


def test_fl36_only_a_decision_maker_corrects_only_the_latest_and_only_a_real_change(make_application, cast):
    application = make_application(to=Status.REJECTED)
    old = application.decisions.get()
    for who in (cast.officer, cast.auditor, cast.signatory):
        with pytest.raises(NotAllowed):
            _correct(cast, application, old, actor=who)
    with pytest.raises(ValidationFailed):
        _correct(cast, application, old, reasons=old.reasons)  # nothing corrected
    with pytest.raises(ValidationFailed):
        _correct(cast, application, old, note=" ")
    _correct(cast, application, old)
    with pytest.raises(TransitionNotAllowed):
        _correct(cast, application, old)  # the old one is corrected already
    assert Decision.objects.filter(application=application).count() == 2


def test_the_case_page_offers_the_correction_to_a_decision_maker(make_application, cast, client):
    application = make_application(to=Status.GRANTED)
    old = application.decisions.get()
    url = reverse("workflows:decision_correct", args=[application.pk])
    client.force_login(cast.officer)
    assert url not in client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    client.force_login(cast.decision_maker)
    assert url in client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    response = client.post(url, {"decision": str(old.pk), "note": "Stavfel i villkoren.",
                                 "reasons": old.reasons, "conditions": old.conditions + " Rättat."})
    assert response.status_code == 302
    assert Decision.objects.get(corrects=old).conditions.endswith("Rättat.")
