"""In-app notices: every message to a person is also a notice; the header shows the unread
count (one query, whatever the number), the list page shows one's own a page at a time
(keyset), a notice is marked read by POST with CSRF, and another person's notice is a 404."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.messages import Recipient, notify, sample_context
from notifications.models import Notice

pytestmark = pytest.mark.django_db


def notices_of(person, count: int, *, read: int = 0) -> list[Notice]:
    now = timezone.now()
    made = [
        Notice.objects.create(user=person, kind="payment", reference=f"test:{i}", subject=f"Meddelande {i:02d}",
                              body="Text", link="/ansokningar/", read_at=now if i < read else None)
        for i in range(count)
    ]
    # Distinct times, newest last, so the order is the one written.
    for i, notice in enumerate(made):
        Notice.objects.filter(pk=notice.pk).update(created_at=now - timedelta(minutes=count - i))
    return made


def test_a_message_becomes_a_notice_for_each_person_not_for_a_bare_address(cast):
    notify(kind="payment", reference="test:1", context=sample_context("payment"), link="/ansokningar/",
           recipients=[Recipient(email="info@kommun.example.se"), Recipient(email=cast.applicant.email,
                                                                            user_id=cast.applicant.pk)])
    [notice] = Notice.objects.all()
    assert notice.user == cast.applicant and notice.read_at is None and notice.link == "/ansokningar/"
    assert "250\u00a0000\u00a0kr" in notice.subject


def test_the_header_shows_the_unread_count_in_one_query(cast, client):
    client.force_login(cast.applicant)
    url = reverse("bidrag:application_list")
    with CaptureQueriesContext(connection) as none:
        page = client.get(url).content.decode()
    assert "oläst" not in page
    notices_of(cast.applicant, 3, read=2)
    assert "1 oläst" in client.get(url).content.decode()
    notices_of(cast.applicant, 40)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert "41 olästa" in page
    assert len(many) == len(none)
    assert sum("notifications_notice" in q["sql"] for q in many.captured_queries) == 1


def test_the_list_shows_only_ones_own_notices_a_page_at_a_time(cast, client):
    mine = notices_of(cast.applicant, 30)
    [theirs] = notices_of(cast.signatory, 1)
    Notice.objects.filter(pk=theirs.pk).update(subject="Någon annans meddelande")
    client.force_login(cast.applicant)
    first = client.get(reverse("notices:list"))
    assert first.status_code == 200
    page = first.content.decode()
    assert "Meddelande 29" in page and "Meddelande 05" in page and "Meddelande 04" not in page
    assert "Någon annans" not in page
    next_page = first.context["page"].next_cursor
    assert next_page
    second = client.get(reverse("notices:list"), {"efter": next_page}).content.decode()
    assert "Meddelande 04" in second and "Meddelande 00" in second and "Meddelande 05" not in second
    assert "Någon annans" not in second
    assert [n.pk for n in first.context["notices"]] + [n.pk for n in client.get(
        reverse("notices:list"), {"efter": next_page}).context["notices"]] == [n.pk for n in reversed(mine)]


def test_a_notice_is_marked_read_by_post_and_anothers_is_not_found(cast, client):
    [mine] = notices_of(cast.applicant, 1)
    [theirs] = notices_of(cast.signatory, 1)
    client.force_login(cast.applicant)
    assert client.get(reverse("notices:read", args=[mine.pk])).status_code == 405
    response = client.post(reverse("notices:read", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("notices:list")
    mine.refresh_from_db()
    assert mine.read_at is not None
    first_read = mine.read_at
    client.post(reverse("notices:read", args=[mine.pk]))
    mine.refresh_from_db()
    assert mine.read_at == first_read  # the first reading's time stays

    foreign = client.post(reverse("notices:read", args=[theirs.pk]))
    missing = client.post(reverse("notices:read", args=[uuid.uuid4()]))
    assert foreign.status_code == missing.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notice_marks_it_read_and_goes_to_its_page(cast, client):
    [notice] = notices_of(cast.applicant, 1)
    client.force_login(cast.applicant)
    response = client.post(reverse("notices:read", args=[notice.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/ansokningar/"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_marking_read_needs_the_csrf_token(cast):
    [notice] = notices_of(cast.applicant, 1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.applicant)
    assert client.post(reverse("notices:read", args=[notice.pk])).status_code == 403
    assert client.post(reverse("notices:read_all")).status_code == 403
    notice.refresh_from_db()
    assert notice.read_at is None


def test_all_ones_own_notices_are_marked_read_at_once(cast, client):
    notices_of(cast.applicant, 3)
    [theirs] = notices_of(cast.signatory, 1)
    client.force_login(cast.applicant)
    assert client.post(reverse("notices:read_all")).status_code == 302
    assert not Notice.objects.filter(user=cast.applicant, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_list_needs_a_login(client):
    response = client.get(reverse("notices:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_admin_shows_notices_and_sent_reminders_and_lets_nobody_write_them(cast, client):
    notices_of(cast.applicant, 1)
    client.force_login(cast.admin)
    for model in ("notice", "remindersent", "messagelanguage"):
        assert client.get(reverse(f"admin:notifications_{model}_changelist")).status_code == 200
    assert client.get(reverse("admin:notifications_notice_add")).status_code == 403
    assert client.get(reverse("admin:notifications_remindersent_add")).status_code == 403
