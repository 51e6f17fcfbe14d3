"""Issue 9: a large XLSX export in a browser: the auditor asks for it, lands on its progress
page (a native <progress> with its text, a status region, refreshing itself without script),
the worker builds it, the page then offers the file; both states scanned by axe-core
(WCAG 2.1 A and AA) and the downloaded workbook opened with openpyxl."""

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from bidrag.models.application import Status
from workflows.models import ExportJob


@pytest.fixture
def decided_cases(make_application, malmo):
    return [make_application(to=Status.GRANTED, title="Trygg i centrum"),
            make_application(to=Status.REJECTED, organisation=malmo, title="Fältarbete")]


def test_a_large_xlsx_export_shows_its_progress_then_its_download(open_page, assert_accessible, users, decided_cases,
                                                                   settings, task_worker, tmp_path):
    settings.EXPORT_BACKGROUND_ROWS = 1
    page = open_page(user=users.auditor)
    page.goto("/beslutslogg/export/xlsx/")
    job = ExportJob.objects.get()
    expect(page).to_have_url(re.compile(rf"/exporter/{job.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Beslutslogg")
    expect(page.get_by_role("status")).to_contain_text("Exporten väntar på att påbörjas.")
    expect(page.get_by_role("progressbar", name="Förlopp")).to_be_visible()
    page.get_by_role("link", name="Sluta uppdatera").click()  # scanned without a reload under axe
    expect(page.get_by_role("link", name="Uppdatera sidan automatiskt")).to_be_visible()
    assert_accessible(page, "export job, queued")

    task_worker.run_batch()
    page.goto(f"/exporter/{job.pk}/")
    expect(page.get_by_role("status")).to_have_text("Exporten är klar: 2 rader.")
    expect(page.get_by_role("progressbar")).to_have_count(0)
    assert_accessible(page, "export job, done")
    with page.expect_download() as download:
        page.get_by_role("link", name="Hämta filen (XLSX)").click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert target.name.startswith("beslutslogg-") and target.suffix == ".xlsx"
    sheet = load_workbook(target, read_only=True).worksheets[0]
    header, *data = list(sheet.iter_rows(values_only=True))
    assert header[0] == "Diarienummer"
    assert sorted(row[0] for row in data) == sorted(a.case.diarienummer for a in decided_cases)
