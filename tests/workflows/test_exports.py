"""Issue 9, the exports of the decision log and of the disbursements: CSV that Swedish Excel
opens (UTF-8 with BOM, `;`, decimal comma) and XLSX (openpyxl, write-only), streamed from
rows read in chunks, named by what and when, only for staff readers, each one recorded
with who took it and with which filters."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bidrag.models import Disbursement, Organisation
from bidrag.models.application import Status
from tests.domain import MALMO, perform
from workflows import decision_log as log
from workflows import exports
from workflows.models import DataExport

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> bytes:
    assert response.streaming, "an export is streamed"
    return b"".join(response.streaming_content)


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def by_column(rows: list[list[str]]) -> list[dict]:
    header, *data = rows
    return [dict(zip(header, row, strict=True)) for row in data]


def test_the_decision_log_as_csv_parses_back_with_its_amounts(decided, cast):
    response = client_for(cast.auditor).get(reverse("workflows:decision_log_export", args=["csv"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="beslutslogg-{today}.csv"'
    rows = by_column(csv_rows(body(response)))
    assert len(rows) == 4
    granted = next(r for r in rows if r["Beslut"] == "Beviljad" and not r["Avser"])
    assert granted["Diarienummer"] == decided.granted.application.case.diarienummer
    assert granted["Sökt belopp (kr)"] == "300000,00" and granted["Beslutat belopp (kr)"] == "250000,00"
    assert Decimal(granted["Beslutat belopp (kr)"].replace(",", ".")) == decided.granted.amount
    assert granted["Beslutsfattare"] == "Berit Beslutsfattare" and granted["Föredragande"] == "Hanna Handläggare"
    assert granted["Övriga deltagande"] == "Hugo Handläggare" and granted["Län (kod)"] == "01"
    assert granted["Skäl"] == decided.granted.reasons and granted["Beslutsdatum"] == today
    correction = next(r for r in rows if r["Avser"])
    assert correction["Avser"] == f"Rättelse av beslut {today} (Beviljad)"
    rejected = next(r for r in rows if r["Beslut"] == "Avslag")
    assert rejected["Beslutat belopp (kr)"] == "" and rejected["Sökt belopp (kr)"] == "300000,00"


@pytest.mark.owner_role
def test_the_export_holds_the_page_filters_and_is_recorded(decided, cast):
    auditor = client_for(cast.auditor)
    params = {"utfall": "rejected", "lan": "12", "q": "budgeten", "belopp_fran": "nonsense"}
    rows = by_column(csv_rows(body(auditor.get(reverse("workflows:decision_log_export", args=["csv"]), params))))
    assert [r["Diarienummer"] for r in rows] == [decided.rejected.application.case.diarienummer]
    assert auditor.head(reverse("workflows:decision_log_export", args=["csv"])).status_code == 405
    record = DataExport.objects.get()  # one export, one record
    assert (record.kind, record.file_format, record.made_by) == (DataExport.Kind.DECISIONS, "csv", cast.auditor)
    assert record.filters == {"utfall": "rejected", "lan": "12", "q": "budgeten"}  # the invalid one filtered nothing
    # Auditors see who exported what and with which filters.
    page = auditor.get(reverse("workflows:export_list")).content.decode()
    assert "Rolf Revisor" in page and "Beslutslogg" in page
    assert "Beslut: Avslag" in page and "Län: Skåne län" in page and "Sök i skälen: budgeten" in page
    # The record cannot be changed afterwards.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        DataExport.objects.filter(pk=record.pk).update(filters={})


def test_the_decision_log_as_xlsx_opens_with_openpyxl_and_has_the_rows(decided, cast):
    response = client_for(cast.auditor).get(reverse("workflows:decision_log_export", args=["xlsx"]),
                                            {"utfall": "granted"})
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    assert f"beslutslogg-{timezone.localdate().isoformat()}.xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(body(response)), read_only=True)
    sheet = workbook.active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[0] == "Diarienummer" and len(rows) == 2
    amounts = {row[header.index("Beslutat belopp (kr)")] for row in rows}
    assert amounts == {250000}
    assert {row[header.index("Sökt belopp (kr)")] for row in rows} == {300000}
    assert all(row[0] == decided.granted.application.case.diarienummer for row in rows)
    assert DataExport.objects.get().file_format == "xlsx"


def test_text_that_looks_like_a_formula_stays_text(cast):
    assert exports.csv_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert exports.csv_cell(Decimal("385000")) == "385000,00"
    output = exports.xlsx_file(header=["a"], values=[["=1+1"], ["-2"]], title="t")
    sheet = load_workbook(output).active
    assert [cell.data_type for (cell,) in sheet.iter_rows(min_row=2)] == ["s", "s"]
    assert sheet["A2"].value == "=1+1"


def test_disbursements_export_with_payee_people_and_times(make_application, cast):
    application = make_application(to=Status.IN_PROGRESS)
    paid = Disbursement.objects.get(application=application)
    other = make_application(to=Status.GRANTED, organisation=Organisation.objects.get(orgnr=MALMO))
    perform(actor=cast.officer, application=other, node="prepare_payment", action="prepare_disbursement")
    auditor = client_for(cast.auditor)
    response = auditor.get(reverse("workflows:disbursement_export", args=["csv"]))
    assert response["Content-Disposition"] == (
        f'attachment; filename="utbetalningar-{timezone.localdate().isoformat()}.csv"')
    rows = by_column(csv_rows(body(response)))
    assert len(rows) == 2
    row = next(r for r in rows if r["Status"] == "Utbetald")
    assert row["Diarienummer"] == application.case.diarienummer and row["Organisation"] == application.organisation.name
    assert row["Belopp (kr)"] == f"{paid.amount:.2f}".replace(".", ",")
    assert row["Konto"] == paid.payee_account_display and row["Betalningsreferens"] == "BG 5050-1055 / demo"
    assert (row["Förberedd av"], row["Attesterad av"], row["Utbetald av"]) == (
        "Hanna Handläggare", "Erik Ekonom", "Elsa Ekonom")
    assert row["Utbetald"] == timezone.localtime(paid.paid_at).strftime("%Y-%m-%d %H:%M")
    planned = next(r for r in rows if r["Status"] == "Planerad")
    assert planned["Attesterad av"] == "" and planned["Utbetald"] == ""
    # one state only, as XLSX
    workbook = load_workbook(io.BytesIO(body(auditor.get(reverse("workflows:disbursement_export", args=["xlsx"]),
                                                           {"status": "paid"}))))
    header, *data = [list(r) for r in workbook.active.iter_rows(values_only=True)]
    assert len(data) == 1 and data[0][header.index("Belopp (kr)")] == paid.amount
    written = data[0][header.index("Utbetald")]  # Stockholm time, without an offset (Excel has none)
    assert written.replace(second=0, microsecond=0) == timezone.localtime(paid.paid_at).replace(
        tzinfo=None, second=0, microsecond=0)
    assert list(DataExport.objects.order_by("made_at").values_list("kind", "file_format", "filters")) == [
        ("utbetalningar", "csv", {}), ("utbetalningar", "xlsx", {"status": "paid"})]


def test_rows_are_read_in_chunks_at_a_cost_that_does_not_grow_with_them(decided, cast):
    """Each chunk is one fetch of the cursor plus one query for its participants; the rows
    are produced one by one, so a whole export never sits in memory."""
    decisions = log.decision_log_rows(log.decision_log(actor=cast.auditor)).order_by(*log.DECISION_LOG_ORDER)
    with CaptureQueriesContext(connection) as ctx:
        produced = exports.rows(decisions, exports.decision_columns(), chunk_size=2)
        first = next(produced)
        after_first = len(ctx.captured_queries)
        rest = list(produced)
    assert len(rest) == 3 and first[0] == decided.dismissed.application.case.diarienummer
    assert after_first <= 2  # the first chunk and its participants
    assert len(ctx.captured_queries) <= 2 * 2 + 1  # two chunks of two, each with its participants
    response = client_for(cast.auditor).get(reverse("workflows:decision_log_export", args=["csv"]),
                                            {"fran": (timezone.localdate() + timedelta(days=1)).isoformat()})
    assert csv_rows(body(response))[1:] == []  # an empty period: only the header
