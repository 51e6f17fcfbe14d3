"""Issue 9: every read of a case is recorded (who read what, when) and visible to auditors.
The record is one INSERT on an append-only table, taking no lock on the case; a refused
read (404) is no read of the case; only auditors see the reads."""

from datetime import timedelta

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arenden.models import CaseRead
from arenden.reads import case_read_record
from bidrag.models.application import Status

pytestmark = pytest.mark.django_db

Kind = CaseRead.Kind


@pytest.fixture
def granted(make_application):
    return make_application(to=Status.GRANTED)


@pytest.fixture
def stranger(db):
    return get_user_model().objects.create_user("okand", first_name="Olle", last_name="Okänd")


def _reads(application, **filters):
    return list(CaseRead.objects.filter(case_id=application.case_id, **filters).order_by("read_at"))


def main_of(page: str) -> str:
    """The page's own content, without the header's language and logout forms."""
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_a_read_by_an_officer_an_applicant_and_an_auditor_is_recorded_with_who_and_when(granted, cast, client):
    before = timezone.now()
    assert _get(client, cast.officer, reverse("workflows:case_detail", args=[granted.pk])).status_code == 200
    assert _get(client, cast.applicant, reverse("workflows:application_detail", args=[granted.pk])).status_code == 200
    assert _get(client, cast.auditor, reverse("workflows:case_journal", args=[granted.pk])).status_code == 200
    after = timezone.now()

    reads = _reads(granted)
    assert [(r.reader_id, r.kind) for r in reads] == [
        (cast.officer.pk, Kind.CASE_PAGE), (cast.applicant.pk, Kind.APPLICATION), (cast.auditor.pk, Kind.JOURNAL),
    ]
    assert all(before <= r.read_at <= after for r in reads)
    officer, applicant, auditor = reads
    assert officer.reader_label == "Hanna Handläggare" and officer.reader_roles == ["handlaggare"]
    assert applicant.reader_roles == ["sokande"] and auditor.reader_roles == ["revisor"]


def test_an_attachment_a_letter_a_receipt_and_the_version_as_sent_are_recorded(granted, cast, client):
    attachment = granted.case.attachments.first()
    decision = granted.decisions.get()
    client.force_login(cast.applicant)
    assert client.get(reverse("bidrag:attachment_download", args=[attachment.pk])).status_code in (200, 302)
    assert client.get(reverse("bidrag:decision_letter", args=[granted.pk, decision.pk])).status_code == 200
    assert client.get(reverse("bidrag:receipt", args=[granted.pk])).status_code == 200
    client.force_login(cast.auditor)
    assert client.get(reverse("bidrag:submitted_version", args=[granted.pk])).status_code == 200

    reads = _reads(granted)
    assert [(r.reader_id, r.kind, r.object_id) for r in reads] == [
        (cast.applicant.pk, Kind.ATTACHMENT, attachment.pk),
        (cast.applicant.pk, Kind.LETTER, decision.pk),
        (cast.applicant.pk, Kind.RECEIPT, None),
        (cast.auditor.pk, Kind.SUBMITTED_VERSION, None),
    ]
    assert reads[0].detail == attachment.original_name


def test_a_strangers_404_is_no_read_of_the_case(granted, cast, client, stranger):
    attachment = granted.case.attachments.first()
    decision = granted.decisions.get()
    client.force_login(stranger)
    for url in (
        reverse("workflows:case_detail", args=[granted.pk]),
        reverse("workflows:case_journal", args=[granted.pk]),
        reverse("workflows:case_reads", args=[granted.pk]),
        reverse("workflows:application_detail", args=[granted.pk]),
        reverse("bidrag:attachment_download", args=[attachment.pk]),
        reverse("bidrag:decision_letter", args=[granted.pk, decision.pk]),
        reverse("bidrag:receipt", args=[granted.pk]),
    ):
        assert client.get(url).status_code == 404, url
    # A case officer is no member of the applicant organisation: its own page is not theirs.
    client.force_login(cast.officer)
    assert client.get(reverse("workflows:application_detail", args=[granted.pk])).status_code == 404
    assert _reads(granted) == []


def test_the_auditor_sees_a_cases_reads_and_every_read_filtered_by_user_and_period(granted, cast, client, malmo,
                                                                                     make_application):
    other = make_application(to=Status.IN_REVIEW, organisation=malmo, title="Trygg i Malmö")
    _get(client, cast.officer, reverse("workflows:case_detail", args=[granted.pk]))
    _get(client, cast.officer2, reverse("workflows:case_detail", args=[other.pk]))
    _get(client, cast.applicant, reverse("workflows:application_detail", args=[granted.pk]))

    page = _get(client, cast.auditor, reverse("workflows:case_reads", args=[granted.pk])).content.decode()
    assert "Hanna Handläggare" in page and "Sara Sökande" in page and "Hugo Handläggare" not in page
    assert "Ärendet" in page and "Ansökan, sökandens sida" in page
    assert "<form" not in main_of(page)  # the auditor changes nothing

    every = client.get(reverse("workflows:all_reads")).content.decode()
    assert "Hanna Handläggare" in every and "Hugo Handläggare" in every
    assert granted.case.diarienummer in every and other.case.diarienummer in every
    assert 'method="post"' not in main_of(every) and 'method="get"' in main_of(every)

    hugo = client.get(reverse("workflows:all_reads"), {"anvandare": "handlaggare2"}).content.decode()
    assert "Hugo Handläggare" in hugo and "Hanna Handläggare" not in hugo
    by_name = client.get(reverse("workflows:all_reads"), {"anvandare": "Handläggare"}).content.decode()
    assert "Hugo Handläggare" in by_name and "Hanna Handläggare" in by_name and "Sara Sökande" not in by_name
    nobody = client.get(reverse("workflows:all_reads"), {"anvandare": "finns-inte"}).content.decode()
    assert "Inga läsningar matchar urvalet." in nobody

    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    in_period = client.get(reverse("workflows:all_reads"), {"fran": today, "till": today}).content.decode()
    assert "Hanna Handläggare" in in_period
    before = client.get(reverse("workflows:all_reads"), {"till": yesterday}).content.decode()
    assert "Hanna Handläggare" not in before and "Inga läsningar matchar urvalet." in before
    wrong = client.get(reverse("workflows:all_reads"), {"fran": today, "till": yesterday})
    assert wrong.status_code == 400


def test_the_reads_pages_answer_404_to_an_applicant_and_a_case_officer(granted, cast, client):
    for user in (cast.applicant, cast.signatory, cast.officer, cast.team_lead):
        client.force_login(user)
        assert client.get(reverse("workflows:all_reads")).status_code == 404
        assert client.get(reverse("workflows:case_reads", args=[granted.pk])).status_code == 404
    assert not _reads(granted, kind=Kind.READS)


def test_the_reads_of_a_case_page_by_keyset(granted, cast, client):
    for _ in range(55):
        case_read_record(actor=cast.officer, case_id=granted.case_id, kind=Kind.CASE_PAGE)
    client.force_login(cast.auditor)
    first = client.get(reverse("workflows:case_reads", args=[granted.pk]))
    assert first.status_code == 200
    page = first.context["page"]
    assert len(page.rows) == 50 and page.has_next
    assert page.rows[0].kind == Kind.READS  # the auditor's own read of this list, the newest
    second = client.get(reverse("workflows:case_reads", args=[granted.pk]), {"efter": page.next_cursor})
    older = second.context["page"]
    assert len(older.rows) == 6 and not older.has_next  # 55 + the first list read, + this one, less 50
    assert {r.pk for r in page.rows}.isdisjoint(r.pk for r in older.rows)


def test_a_read_is_one_insert_and_nothing_else(granted, cast):
    cast.officer.groups.all()  # the page's access check has read the roles already
    from arenden.actors import group_names

    group_names(cast.officer)
    with CaptureQueriesContext(connection) as queries:
        read = case_read_record(actor=cast.officer, case_id=granted.case_id, kind=Kind.CASE_PAGE)
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert queries[0]["sql"].startswith('INSERT INTO "arenden_caseread"')
    assert CaseRead.objects.get(pk=read.pk).reader_id == cast.officer.pk


@pytest.mark.owner_role
def test_reads_are_append_only(granted, cast):
    read = case_read_record(actor=cast.officer, case_id=granted.case_id, kind=Kind.CASE_PAGE)
    for statement in (
        f"UPDATE arenden_caseread SET reader_label = 'x' WHERE id = '{read.pk}'",
        f"DELETE FROM arenden_caseread WHERE id = '{read.pk}'",
    ):
        with pytest.raises(DatabaseError, match="arenden_caseread is append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert CaseRead.objects.filter(pk=read.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_read_does_not_wait_for_an_action_holding_the_case(make_application, cast):
    """A foreign-key check would take KEY SHARE on the case row and wait behind the FOR
    UPDATE every action takes: the read is recorded while another transaction holds the case."""
    application = make_application(to=Status.IN_REVIEW)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as action:  # an action in another process, holding the case
        action.execute("SELECT id FROM arenden_case WHERE id = %s FOR UPDATE", [application.case_id])
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            read = case_read_record(actor=cast.officer, case_id=application.case_id, kind=Kind.CASE_PAGE)
        action.rollback()
    assert CaseRead.objects.filter(pk=read.pk).exists()


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        # A handful of rows would be read whole by any plan: ask which index serves the order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    return queryset.explain()


def test_the_two_lists_are_read_from_their_indexes_in_their_order(granted, cast):
    from arenden.reads import READ_ORDER, by_readers, case_reads, reads_in_period

    case_read_record(actor=cast.officer, case_id=granted.case_id, kind=Kind.CASE_PAGE)
    today = timezone.localdate()
    case_plan = _plan(case_reads(case_id=granted.case_id).order_by(*READ_ORDER)[:51])
    assert "case_read_case_order" in case_plan and "Sort" not in case_plan, case_plan
    period_plan = _plan(reads_in_period(date_from=today, date_to=today).order_by(*READ_ORDER)[:51])
    assert "case_read_order" in period_plan and "Sort" not in period_plan, period_plan
    reader_plan = _plan(reads_in_period(date_from=today).filter(by_readers([cast.officer.pk])[0])
                        .order_by(*READ_ORDER)[:51])
    assert "case_read_reader_order" in reader_plan and "Sort" not in reader_plan, reader_plan
