"""Messages to staff (issue 8): a daily digest by e-mail (new tasks in my queues, tasks past
target, cases at the FL 12 § six-month mark, dead letters), once a day however many runs or
schedulers, in the person's language, which each person can turn off; and notices in the
service (the FL 12 § mark, dead letters), which stay whatever the e-mail setting."""

import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from arenden.calendar import months_after
from bidrag.models import Application
from bidrag.models.application import Status
from bidrag.roles import Role
from notifications.dead_letters import ADMIN_GROUP
from notifications.models import MessageLanguage, Notice, OutboxMessage, StaffDigestRun, StaffDigestSetting
from notifications.services import outbox_deliver_due, outbox_enqueue
from tests.harness.ports import free_port
from workflows.queue_entries import queue_sync
from workflows.scheduler import default_jobs, run_due
from workflows.staff_digest import staff_digests_send

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SITE = "https://bidrag.example.se"


def morning(on: date) -> datetime:
    return datetime.combine(on, time(6, 30), tzinfo=STOCKHOLM)


def digests(person) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind="staff_digest", recipient=person.email).order_by("created_at"))


def quiet() -> None:
    """What the fixtures' applications sent before is not this test's."""
    OutboxMessage.objects.update(status=OutboxMessage.Status.NOT_SENT)


@pytest.mark.django_db
def test_the_digest_arrives_with_the_new_task_and_links_in_each_persons_language(
    make_application, cast, smtp_backend, settings
):
    settings.SITE_URL = SITE
    MessageLanguage.objects.create(user=cast.team_lead, language="en")
    application = make_application(to=Status.SUBMITTED)  # a task in the registrar's queue, nobody's yet
    quiet()

    assert staff_digests_send() == 2  # the registrar's queue, and the team lead who assigns every queue
    assert outbox_deliver_due() == 2
    received = {mail.rcpt_tos[0]: mail for mail in smtp_backend.wait_for(2)}
    assert set(received) == {cast.registrar.email, cast.team_lead.email}

    case_url = f"{SITE}{reverse('workflows:case_detail', args=[application.pk])}"
    diarienummer = application.case.diarienummer
    swedish, english = received[cast.registrar.email], received[cast.team_lead.email]
    assert swedish.subject.startswith("Bidragsportalen: din sammanfattning")
    assert "Nya uppgifter i dina köer: 1" in swedish.body
    assert f"– {diarienummer} ”Testprojekt” (Registrator): {case_url}" in swedish.body
    assert f"Din kö: {SITE}{reverse('workflows:queue')}?ko=registrator" in swedish.body
    assert f"{SITE}{reverse('notices:digest_settings')}" in swedish.body
    assert "Försenade" not in swedish.body and "sex månader" not in swedish.body
    assert english.subject.startswith("Bidragsportalen: your summary for")
    assert "New tasks in your queues: 1" in english.body
    assert f"– {diarienummer} “Testprojekt” (Registrar): {case_url}" in english.body

    # Applicants, and staff with nothing in their queues (the auditor, the case officer), get nothing.
    for person in (cast.applicant, cast.signatory, cast.auditor, cast.officer, cast.decision_maker, cast.finance):
        assert not digests(person), person
    assert StaffDigestRun.objects.get(user=cast.auditor).outcome == StaffDigestRun.Outcome.NOTHING
    assert not StaffDigestRun.objects.filter(user__in=[cast.applicant, cast.signatory]).exists()


@pytest.mark.django_db
def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_tells_only_what_is_new(make_application, cast):
    make_application(to=Status.SUBMITTED)
    quiet()
    now = timezone.now()
    assert staff_digests_send(now=now) == 2
    assert staff_digests_send(now=now + timedelta(hours=3)) == 0  # the same day: already sent
    assert len(digests(cast.registrar)) == 1

    # The next morning nothing has come in: nothing is sent.
    assert staff_digests_send(now=now + timedelta(days=1)) == 0
    assert len(digests(cast.registrar)) == 1
    assert StaffDigestRun.objects.filter(user=cast.registrar).order_by("day").last().outcome == "nothing"

    # Fifteen days on the task is past target (longer than BIDRAG_QUEUE_TARGET_DAYS in the
    # queue): that is new once, not every day after.
    assert staff_digests_send(now=now + timedelta(days=15)) == 2
    [_first, late] = digests(cast.registrar)
    assert "Nya försenade uppgifter: 1 (försenade i dina köer totalt: 1)" in late.body
    assert "?ko=registrator&vy=forsenade" in late.body
    assert "Nya uppgifter" not in late.body
    assert staff_digests_send(now=now + timedelta(days=16)) == 0


@pytest.mark.django_db
def test_the_next_step_of_ones_own_work_is_no_news_a_task_the_team_lead_assigns_is(make_application, cast):
    from workflows import door

    application = make_application(to=Status.IN_ASSESSMENT)  # the officer's own step opened "assess", theirs
    quiet()
    now = timezone.now()
    assert staff_digests_send(now=now) == 0
    assert StaffDigestRun.objects.get(user=cast.officer).counts["new"] == 0

    door.assign(actor=cast.team_lead, application_id=application.pk, node="assess", to_user=cast.officer2)
    assert staff_digests_send(now=now + timedelta(days=1)) == 1
    [digest] = digests(cast.officer2)
    assert "Nya uppgifter i dina köer: 1" in digest.body
    assert f"{application.case.diarienummer} ”Testprojekt” (Handläggare, tilldelad dig)" in digest.body


@pytest.mark.django_db
def test_a_case_one_declared_jav_on_is_not_in_ones_digest(make_application, cast):
    from workflows import door

    application = make_application(to=Status.SUBMITTED)
    door.declare_conflict(actor=cast.registrar, application_id=application.pk, reason="Min syster är projektledare.")
    quiet()
    assert staff_digests_send() == 1  # the team lead's only
    assert not digests(cast.registrar) and len(digests(cast.team_lead)) == 1
    assert StaffDigestRun.objects.get(user=cast.registrar).counts["new"] == 0


@pytest.mark.django_db
def test_the_scheduler_runs_the_digest_daily_at_half_past_six(make_application, cast):
    [job] = [job for job in default_jobs() if job.name == "send_staff_digest"]
    assert job.daily_at == time(6, 30)
    make_application(to=Status.SUBMITTED)
    [run] = run_due(jobs=[job])
    assert "2 digest(s) sent" in run.output
    assert run_due(jobs=[job]) == []  # the same due time: claimed once


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_the_same_moment_send_each_digest_once(make_application, cast):
    make_application(to=Status.SUBMITTED)
    quiet()
    now = timezone.now()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def scheduler():
        try:
            barrier.wait(10)
            results.append(staff_digests_send(now=now))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sum(results) == 2
    assert len(digests(cast.registrar)) == 1 and len(digests(cast.team_lead)) == 1
    assert StaffDigestRun.objects.filter(user=cast.registrar).count() == 1


def _six_months_ago(make_application, *, days: int = 170, **kwargs) -> tuple[Application, date]:
    """A case under assessment (the officer holds it), submitted ``days`` ago, and the day it
    reaches six months."""
    application = make_application(to=Status.IN_ASSESSMENT, **kwargs)
    submitted = timezone.now() - timedelta(days=days)
    Application.objects.filter(pk=application.pk).update(submitted_at=submitted)
    queue_sync(application.pk)  # time travel: the queue's row follows the submission
    application.refresh_from_db()
    return application, months_after(timezone.localdate(submitted), 6)


@pytest.mark.django_db
def test_fl12_six_month_mark_is_a_notice_to_the_handler_once_and_in_their_digest(make_application, cast, settings):
    settings.SITE_URL = SITE
    application, mark = _six_months_ago(make_application)
    quiet()

    staff_digests_send(now=morning(mark - timedelta(days=1)))
    assert not Notice.objects.filter(kind="fl12_six_months").exists()

    staff_digests_send(now=morning(mark))
    [notice] = Notice.objects.filter(kind="fl12_six_months")
    assert notice.user == cast.officer  # the case's handler, not the whole queue
    assert notice.link == reverse("workflows:case_detail", args=[application.pk])
    assert application.case.diarienummer in notice.subject and "12 §" in notice.subject
    assert "begära att ärendet avgörs" in notice.body

    sent = digests(cast.officer)
    assert "sex månader utan beslut" in sent[-1].body
    assert f"{SITE}{notice.link}" in sent[-1].body
    assert "sex månader" not in sent[0].body  # the day before (the case was already past its FL 11 § target)

    staff_digests_send(now=morning(mark) + timedelta(hours=4))  # a second scheduler, later that day
    staff_digests_send(now=morning(mark + timedelta(days=1)))  # and the next day
    assert Notice.objects.filter(kind="fl12_six_months").count() == 1
    assert not any("sex månader" in m.body for m in digests(cast.officer)[len(sent):])


@pytest.mark.django_db
def test_fl12_mark_of_a_decided_case_tells_nobody(make_application, cast):
    application = make_application(to=Status.REJECTED)
    submitted = timezone.now() - timedelta(days=170)
    Application.objects.filter(pk=application.pk).update(submitted_at=submitted)
    queue_sync(application.pk)
    staff_digests_send(now=morning(months_after(timezone.localdate(submitted), 6)))
    assert not Notice.objects.filter(kind="fl12_six_months").exists()


@pytest.mark.django_db
def test_an_opted_out_officer_gets_no_email_but_still_the_notice(make_application, cast, client, malmo):
    client.force_login(cast.officer)
    page = client.get(reverse("notices:list"))
    assert reverse("notices:digest_settings").encode() in page.content  # reachable from the header
    response = client.post(reverse("notices:digest_settings"), {"digest": "av"})
    assert response.status_code == 302
    assert StaffDigestSetting.objects.get(user=cast.officer).email_enabled is False
    assert b'value="av" id="digest-off" checked' in client.get(reverse("notices:digest_settings")).content

    application, mark = _six_months_ago(make_application)
    quiet()
    staff_digests_send(now=morning(mark))
    assert Notice.objects.filter(user=cast.officer, kind="fl12_six_months").count() == 1
    assert not digests(cast.officer)
    assert StaffDigestRun.objects.get(user=cast.officer).outcome == StaffDigestRun.Outcome.OPTED_OUT

    # Turned on again: the next news comes by e-mail (a second case reaching six months).
    client.post(reverse("notices:digest_settings"), {"digest": "pa"})
    assert StaffDigestSetting.objects.get(user=cast.officer).email_enabled is True
    second, second_mark = _six_months_ago(make_application, days=150, organisation=malmo, title="Andra projektet")
    assert second_mark > mark
    staff_digests_send(now=morning(second_mark))
    [digest] = digests(cast.officer)
    assert "”Andra projektet”" in digest.body and "”Testprojekt”" not in digest.body


@pytest.mark.django_db
def test_the_settings_page_is_for_staff_only(cast, client):
    client.force_login(cast.applicant)
    assert client.get(reverse("notices:digest_settings")).status_code == 404
    assert reverse("notices:digest_settings").encode() not in client.get(reverse("notices:list")).content
    assert not StaffDigestSetting.objects.exists()


@pytest.mark.django_db
def test_a_dead_letter_is_a_notice_to_the_administrators_and_in_their_digest(
    cast, settings, smtp_backend
):
    settings.SITE_URL = SITE
    assert Role.ADMINISTRATOR.value == ADMIN_GROUP
    quiet()
    settings.OUTBOX_MAX_ATTEMPTS = 1
    good = settings.MAILERS["default"]
    settings.MAILERS = {**settings.MAILERS, "default": {**good, "OPTIONS": {
        **good["OPTIONS"], "port": free_port(), "timeout": 2}}}  # nothing listens there
    [message] = outbox_enqueue(kind="decision", reference="test:dead", recipients=["kansli@example.se"],
                               subject="Beslut om ekonomiskt stöd – 2026-00042", body="Prov")
    assert outbox_deliver_due() == 0
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DEAD

    [notice] = Notice.objects.filter(kind="dead_letter")
    assert notice.user == cast.admin  # the administrator only
    assert notice.link == reverse("admin:notifications_deadletter_change", args=[message.pk])
    assert "Beslut om ekonomiskt stöd – 2026-00042" in notice.subject and "kansli@example.se" in notice.body
    assert "ConnectionRefusedError" in notice.body

    settings.MAILERS = {**settings.MAILERS, "default": good}  # SMTP is back
    assert staff_digests_send() == 1
    assert outbox_deliver_due() == 1
    [mail] = smtp_backend.wait_for(1)
    assert mail.rcpt_tos == (cast.admin.email,)
    assert "Meddelanden som inte kunde levereras: 1" in mail.body
    assert f"{SITE}{reverse('admin:notifications_deadletter_changelist')}" in mail.body


@pytest.mark.django_db
def test_the_staff_messages_are_on_the_preview_page_in_both_languages(cast, client):
    client.force_login(cast.admin)
    page = client.get(reverse("notices:preview")).content.decode()
    for text in ("Bidragsportalen: din sammanfattning 1 december 2026", "Bidragsportalen: your summary for 1 December 2026",
                 "Sex månader utan beslut (12 § FL)", "Six months without a decision (section 12 FL)",
                 "Ett meddelande kunde inte levereras", "A message could not be delivered"):
        assert text in page, text


@pytest.mark.django_db
def test_the_administrators_see_each_days_digests_read_only(make_application, cast, client):
    make_application(to=Status.SUBMITTED)
    staff_digests_send()
    client.force_login(cast.admin)
    page = client.get(reverse("admin:notifications_staffdigestrun_changelist")).content.decode()
    assert "registrator" in page and "Skickad" in page and "Inget nytt" in page
    run = StaffDigestRun.objects.get(user=cast.registrar)
    assert client.post(reverse("admin:notifications_staffdigestrun_change", args=[run.pk]), {}).status_code == 403
    assert client.get(reverse("admin:notifications_staffdigestsetting_changelist")).status_code == 200
