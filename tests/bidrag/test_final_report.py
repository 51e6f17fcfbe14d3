"""Issue 6: the final report states the actual cost of every budget line against the granted
budget, carries the financial report, computes the unused amount, and is refused before
the project has started. Its form shows no earlier request of Brå's."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from arenden.errors import TransitionNotAllowed, ValidationFailed
from arenden.models import Attachment, JournalEvent
from bidrag.models import Application, BudgetLine, Report, ReportLine
from bidrag.models.application import AttachmentKind, Status

from ..domain import perform

pytestmark = pytest.mark.django_db

URL = "workflows:task_action"


def ledger():
    return SimpleUploadedFile("huvudbok.pdf", b"%PDF-1.4\n% huvudboksutdrag\n", content_type="application/pdf")


def report_data(application, **overrides):
    data = {f"line_{line.pk}": line.amount - Decimal("1500") for line in application.budget_lines.all()}
    data.update(summary="Samordnaren anställdes; 24 trygghetsvandringar genomfördes.", financial_report=ledger())
    data.update(overrides)
    return data


def _running(make_application, *, started=True):
    application = make_application(to=Status.IN_PROGRESS)
    start = timezone.localdate() + (timedelta(days=-30) if started else timedelta(days=30))
    Application.objects.filter(pk=application.pk).update(start_date=start, end_date=start + timedelta(days=200))
    return Application.objects.get(pk=application.pk)


def _state(application):
    return (Application.objects.get(pk=application.pk).status, Report.objects.filter(application=application).count(),
            JournalEvent.objects.filter(case_id=application.case_id).count())


def test_report_states_each_lines_actual_cost_and_computes_the_unused_amount(make_application, cast):
    application = _running(make_application)
    BudgetLine.objects.create(application=application, category="other", description="Tryck", amount=Decimal("20000"))
    lines = list(application.budget_lines.all())
    perform(actor=cast.signatory, application=application, node="await_report", action="submit_report",
            data=report_data(application))
    report = Report.objects.get(application=application)
    assert {(r.budget_line_id, r.actual_amount) for r in ReportLine.objects.filter(report=report)} == {
        (line.pk, line.amount - Decimal("1500")) for line in lines}
    total = sum(line.amount for line in lines) - 1500 * len(lines)
    assert report.actual_costs == total
    granted = application.decisions.get().amount
    assert report.unused_amount == max(granted - total, 0)
    assert report.financial_report.kind == AttachmentKind.EKONOMISK_REDOVISNING
    event = JournalEvent.objects.filter(case_id=application.case_id, action="submit_report").get()
    assert event.payload["financial_report_sha256"] == report.financial_report.sha256
    assert set(event.payload["lines"]) == {str(line.pk) for line in lines}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"financial_report": None}, "financial_report"),
        ({"summary": "  "}, "summary"),
        ("drop_a_line", "line"),
        ("negative_line", "line"),
    ],
    ids=["no-attachment", "no-summary", "a-line-missing", "negative"],
)
def test_incomplete_report_is_refused_with_the_field_named_and_nothing_changed(make_application, cast, change, field):
    application = _running(make_application)
    data = report_data(application)
    line_key = next(k for k in data if k.startswith("line_"))
    if change == "drop_a_line":
        del data[line_key]
    elif change == "negative_line":
        data[line_key] = Decimal("-1")
    else:
        data.update(change)
    before = _state(application)
    with pytest.raises(ValidationFailed) as refused:
        perform(actor=cast.signatory, application=application, node="await_report", action="submit_report", data=data)
    fields = refused.value.details["fields"]
    assert any(name.startswith(field) for name in fields), fields
    assert _state(application) == before
    assert not Attachment.objects.filter(case_id=application.case_id, kind=AttachmentKind.EKONOMISK_REDOVISNING).exists()


def test_no_final_report_before_the_project_has_started(make_application, cast):
    application = _running(make_application, started=False)
    before = _state(application)
    with pytest.raises(ValidationFailed) as refused:
        perform(actor=cast.signatory, application=application, node="await_report", action="submit_report",
                data=report_data(application))
    assert "inte börjat" in str(refused.value.message)
    assert _state(application) == before


def test_report_form_has_a_field_per_budget_line_and_no_earlier_request(make_application, cast, client):
    application = _running(make_application)
    Application.objects.filter(pk=application.pk).update(deadline_request="Yttra er över referensens bedömning.")
    client.force_login(cast.signatory)
    page = client.get(reverse(URL, args=[application.pk, "await_report", "submit_report"])).content.decode()
    assert "Brå har begärt" not in page and "referensens bedömning" not in page
    for line in application.budget_lines.all():
        assert f'name="line_{line.pk}"' in page
    assert 'name="financial_report"' in page and 'type="file"' in page


def test_refused_report_shows_the_error_at_the_field_and_keeps_what_was_typed(make_application, cast, client):
    application = _running(make_application)
    client.force_login(cast.signatory)
    line = application.budget_lines.first()
    response = client.post(reverse(URL, args=[application.pk, "await_report", "submit_report"]),
                           {"summary": "Det gick bra", f"line_{line.pk}": "1000"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Det gick bra" in page  # nothing typed is lost
    assert 'aria-invalid="true"' in page and "financial_report" in page
    assert Application.objects.get(pk=application.pk).status == Status.IN_PROGRESS


def test_the_report_is_only_taken_while_the_project_runs(make_application, cast):
    application = make_application(to=Status.GRANTED)
    with pytest.raises(TransitionNotAllowed):
        perform(actor=cast.signatory, application=application, node="await_report", action="submit_report",
                data=report_data(application))


def test_case_page_shows_the_reported_lines_the_unused_amount_and_the_ledger(make_application, cast, client):
    application = make_application(to=Status.REPORT_REVIEW)
    report = Report.objects.get(application=application)
    client.force_login(cast.officer)
    page = client.get(reverse("workflows:case_detail", args=[application.pk])).content.decode()
    for line in report.lines.select_related("budget_line"):
        assert line.budget_line.description in page
    assert "Outnyttjat belopp" in page and report.financial_report.original_name in page


def test_an_interim_report_is_recorded_and_the_project_goes_on(make_application, cast):
    application = _running(make_application)
    perform(actor=cast.signatory, application=application, node="await_report", action="submit_interim_report",
            data=report_data(application, summary="Halvvägs: rekryteringen klar."))
    interim = Report.objects.get(application=application)
    assert interim.kind == Report.Kind.INTERIM and interim.lines.count() == application.budget_lines.count()
    assert Application.objects.get(pk=application.pk).status == Status.IN_PROGRESS
    assert JournalEvent.objects.filter(case_id=application.case_id, action="submit_interim_report").exists()
    # the final report after it is the one reviewed
    perform(actor=cast.signatory, application=application, node="await_report", action="submit_report",
            data=report_data(application))
    assert Application.objects.get(pk=application.pk).status == Status.REPORT_REVIEW
    perform(actor=cast.officer, application=application, node="review_report", action="approve_report", data={})
    assert Report.objects.get(application=application, kind=Report.Kind.FINAL).status == Report.Status.APPROVED
    assert Report.objects.get(application=application, kind=Report.Kind.INTERIM).status == Report.Status.SUBMITTED
