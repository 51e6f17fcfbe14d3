"""Issue 9, large XLSX exports built in the background: over EXPORT_BACKGROUND_ROWS the
request records the export, queues a job for the real db_worker and sends the person to a
progress page; the worker builds the workbook, stores it in SeaweedFS under a fresh key and
the page then offers the download, checked against its SHA-256. Only the person who made
the export sees the job."""

import io
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from arenden.storage import DocumentExists, document_put
from tests.harness.ports import free_port
from workflows.models import DataExport, ExportJob


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sheet_rows(content: bytes) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return list(workbook.worksheets[0].iter_rows(values_only=True))


@pytest.mark.django_db
def test_a_small_xlsx_still_comes_directly(decided, cast, settings):
    settings.EXPORT_BACKGROUND_ROWS = 4  # the log holds four decisions: not more than the limit
    response = client_for(cast.auditor).get(reverse("workflows:decision_log_export", args=["xlsx"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert len(sheet_rows(b"".join(response.streaming_content))) == 1 + 4
    assert ExportJob.objects.count() == 0
    assert DataExport.objects.count() == 1


@pytest.mark.django_db
def test_a_large_csv_still_streams_in_the_request(decided, cast, settings):
    settings.EXPORT_BACKGROUND_ROWS = 1
    response = client_for(cast.auditor).get(reverse("workflows:decision_log_export", args=["csv"]))
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content).decode("utf-8-sig").count("\r\n") == 1 + 4
    assert ExportJob.objects.count() == 0


def test_a_large_xlsx_is_built_by_the_worker_and_downloaded_from_its_page(decided, cast, settings, task_worker):
    settings.EXPORT_BACKGROUND_ROWS = 3
    auditor = client_for(cast.auditor)
    response = auditor.get(reverse("workflows:decision_log_export", args=["xlsx"]), {"utfall": "granted"})
    # Granted (with its correction) is fewer than four: the filter narrows what is counted.
    assert response.status_code == 200 and ExportJob.objects.count() == 0

    response = auditor.get(reverse("workflows:decision_log_export", args=["xlsx"]))
    assert response.status_code == 303
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("workflows:export_job", args=[job.pk])
    assert job.export.made_by == cast.auditor and job.export.file_format == "xlsx"
    assert (job.status, job.made_by) == (ExportJob.Status.QUEUED, cast.auditor)

    waiting = auditor.get(response["Location"])
    assert waiting.status_code == 200
    assert waiting["Refresh"] == "2"  # refreshes itself while it runs, no script
    page = waiting.content.decode()
    assert 'role="status"' in page and "<progress" in page
    assert reverse("workflows:export_job_download", args=[job.pk]) not in page
    assert auditor.get(reverse("workflows:export_job_download", args=[job.pk])).status_code == 404

    task_worker.run_batch()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, (job.error, task_worker.output)
    assert job.rows_total == job.rows_done == 4
    assert job.object_key.startswith("exports/") and len(job.sha256) == 64 and job.size > 0
    assert job.started_at <= job.finished_at

    done = auditor.get(reverse("workflows:export_job", args=[job.pk]))
    assert "Refresh" not in done  # finished: no more refreshing
    page = done.content.decode()
    assert "Exporten är klar: 4 rader." in page and "<progress" not in page
    download_url = reverse("workflows:export_job_download", args=[job.pk])
    assert download_url in page

    download = auditor.get(download_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert download["Content-Disposition"].startswith('attachment; filename="beslutslogg-')
    rows = sheet_rows(b"".join(download.streaming_content))
    header, *data = rows
    assert header[0] == "Diarienummer" and len(data) == 4
    expected = {d.application.case.diarienummer for d in
                (decided.granted, decided.correction, decided.rejected, decided.dismissed)}
    assert {row[0] for row in data} == expected
    # The request and the download are each recorded as an export by the auditor.
    assert list(DataExport.objects.filter(file_format="xlsx", filters={}).values_list("made_by", flat=True)) == [
        cast.auditor.pk, cast.auditor.pk]

    # The stored object is never overwritten.
    with pytest.raises(DocumentExists):
        document_put(key=job.object_key, content=b"something else", content_type="application/octet-stream")
    assert sheet_rows(b"".join(auditor.get(download_url).streaming_content)) == rows


def test_each_background_export_gets_its_own_stored_object(decided, cast, settings, task_worker):
    settings.EXPORT_BACKGROUND_ROWS = 0
    auditor = client_for(cast.auditor)
    assert auditor.get(reverse("workflows:decision_log_export", args=["xlsx"])).status_code == 303
    assert auditor.get(reverse("workflows:decision_log_export", args=["xlsx"])).status_code == 303
    task_worker.run_batch()
    jobs = list(ExportJob.objects.filter(export__kind=DataExport.Kind.DECISIONS))
    assert len(jobs) == 2 and all(job.status == ExportJob.Status.DONE for job in jobs)
    assert jobs[0].object_key != jobs[1].object_key
    assert jobs[0].sha256 and jobs[1].sha256


def test_only_the_maker_sees_the_job_and_an_unknown_id_is_404(decided, cast, settings, task_worker):
    settings.EXPORT_BACKGROUND_ROWS = 1
    response = client_for(cast.auditor).get(reverse("workflows:decision_log_export", args=["xlsx"]))
    job = ExportJob.objects.get()
    assert response.status_code == 303
    task_worker.run_batch()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE

    for name in ("workflows:export_job", "workflows:export_job_download"):
        assert client_for(cast.officer).get(reverse(name, args=[job.pk])).status_code == 404  # another staff reader
        assert client_for(cast.applicant).get(reverse(name, args=[job.pk])).status_code == 404
        assert client_for(cast.auditor).get(reverse(name, args=[uuid.uuid4()])).status_code == 404
    assert client_for(cast.auditor).get(reverse("workflows:export_job", args=[job.pk])).status_code == 200

    # The maker who no longer holds an export-reading role sees it no more.
    cast.auditor.groups.clear()
    for name in ("workflows:export_job", "workflows:export_job_download"):
        assert client_for(cast.auditor).get(reverse(name, args=[job.pk])).status_code == 404


def test_a_job_whose_storage_is_away_fails_in_swedish_and_a_new_export_succeeds(decided, cast, settings, task_worker):
    settings.EXPORT_BACKGROUND_ROWS = 1
    auditor = client_for(cast.auditor)
    assert auditor.get(reverse("workflows:decision_log_export", args=["xlsx"])).status_code == 303
    failed = ExportJob.objects.get()
    task_worker.extra_env = {"AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}  # nothing listens there
    task_worker.run_batch()
    failed.refresh_from_db()
    assert failed.status == ExportJob.Status.FAILED and failed.object_key == "" and failed.finished_at
    assert failed.error == "Exporten kunde inte skapas. Gör en ny export från beslutsloggen."
    page = auditor.get(reverse("workflows:export_job", args=[failed.pk]))
    assert "Refresh" not in page and failed.error in page.content.decode()
    assert auditor.get(reverse("workflows:export_job_download", args=[failed.pk])).status_code == 404

    # Started again by a new export; the failed job stays as it was.
    response = auditor.get(reverse("workflows:decision_log_export", args=["xlsx"]))
    task_worker.extra_env = {}
    task_worker.run_batch()
    again = ExportJob.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == reverse("workflows:export_job", args=[again.pk])
    again.refresh_from_db()
    assert again.status == ExportJob.Status.DONE and again.rows_done == again.rows_total == 4
    assert ExportJob.objects.get(pk=failed.pk).status == ExportJob.Status.FAILED


@pytest.mark.django_db
def test_rows_done_moves_on_once_per_chunk_while_the_rows_are_written(decided, cast):
    from workflows import export_jobs, exports

    record = exports.export_record(actor=cast.auditor, kind=DataExport.Kind.DECISIONS,
                                   file_format=DataExport.Format.XLSX, filters={})
    job = export_jobs.export_job_start(actor=cast.auditor, record=record)
    counted = export_jobs._counted(iter([[1], [2], [3], [4], [5]]), job_id=job.pk, every=2)
    seen = []
    for _ in counted:
        seen.append(ExportJob.objects.values_list("rows_done", flat=True).get(pk=job.pk))
    # Read as each row is handed on: after the 2nd and 4th rows the count has moved on.
    assert seen == [0, 0, 2, 2, 4]
    assert ExportJob.objects.get(pk=job.pk).rows_done == 5


@pytest.mark.django_db
def test_the_progress_page_is_a_light_request_with_its_rows_in_words(decided, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflows import export_jobs, exports

    record = exports.export_record(actor=cast.auditor, kind=DataExport.Kind.DECISIONS,
                                   file_format=DataExport.Format.XLSX, filters={})
    job = export_jobs.export_job_start(actor=cast.auditor, record=record)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, rows_total=40000, rows_done=12000)
    auditor = client_for(cast.auditor)
    auditor.get(reverse("workflows:export_job", args=[job.pk]))  # the session and the menu warmed up
    with CaptureQueriesContext(connection) as queries:
        page = auditor.get(reverse("workflows:export_job", args=[job.pk]))
    text = page.content.decode()
    assert "12\xa0000 av 40\xa0000 rader" in text
    assert 'max="40000" value="12000"' in text
    # The session, the user, their roles, the job with its export, the menu's unread notices.
    assert len(queries) <= 5, [q["sql"] for q in queries.captured_queries]
