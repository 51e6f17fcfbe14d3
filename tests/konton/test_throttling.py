"""Failed password logins are throttled by django-axes, per username and per address, on
the site's login page and the admin's; lockouts are recorded and shown in the admin."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.urls import reverse

from konton.models import LoginMethod, LoginRecord

PASSWORD = "rätt-lösenord-2026"
LOGIN_PAGES = {"site": "login", "admin": "admin:login"}


@pytest.fixture
def officer(cast):
    cast.officer.set_password(PASSWORD)
    cast.officer.save(update_fields=["password"])
    return cast.officer


@pytest.fixture
def admin_user(cast):
    cast.admin.set_password(PASSWORD)
    cast.admin.save(update_fields=["password"])
    return cast.admin


def attempt(client, page: str, username: str, password: str, address: str = "127.0.0.1", **extra):
    return client.post(reverse(LOGIN_PAGES[page]), {"username": username, "password": password},
                       REMOTE_ADDR=address, **extra)


def assert_locked_out(response) -> None:
    assert response.status_code == 429, response.status_code
    page = response.content.decode()
    assert "Inloggningen är tillfälligt spärrad" in page
    assert f"{settings.AXES_FAILURE_LIMIT} gånger i rad" in page
    assert "Försök igen om 15 minuter" in page


@pytest.mark.parametrize("page", ["site", "admin"])
def test_the_limit_locks_the_account_even_for_the_right_password(client, officer, admin_user, page):
    user = officer if page == "site" else admin_user
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = attempt(client, page, user.username, "fel")
        assert response.status_code == 200  # the form again, with its error
    assert_locked_out(attempt(client, page, user.username, "fel"))
    assert_locked_out(attempt(client, page, user.username, PASSWORD))  # attempt limit + 1, right password
    assert "_auth_user_id" not in client.session

    # Recorded: the attempt with its failure count, and each failure, the last ones as lockouts.
    [by_user] = AccessAttempt.objects.filter(username=user.username)
    assert by_user.failures_since_start >= limit
    failures = AccessFailureLog.objects.filter(username=user.username)
    assert failures.count() >= limit and failures.filter(locked_out=True).exists()


def test_the_limit_counts_per_address_across_usernames(client, officer):
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        assert attempt(client, "site", f"gissning{n}", "fel", address="10.1.1.1").status_code == 200
    assert_locked_out(attempt(client, "site", "gissning-sista", "fel", address="10.1.1.1"))
    # The address is locked, for any account.
    assert_locked_out(attempt(client, "site", officer.username, PASSWORD, address="10.1.1.1"))
    # The account itself is not: from another address it logs in.
    assert attempt(client, "site", officer.username, PASSWORD, address="10.2.2.2").status_code == 302


def test_the_limit_counts_per_account_across_addresses(client, officer):
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit):
        response = attempt(client, "site", officer.username, "fel", address=f"10.3.3.{n + 1}")
    assert_locked_out(response)
    assert_locked_out(attempt(client, "site", officer.username, PASSWORD, address="10.9.9.9"))


def test_a_successful_login_resets_the_count_and_is_recorded(client, officer):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        attempt(client, "site", officer.username, "fel")
    assert attempt(client, "site", officer.username, PASSWORD).status_code == 302
    record = LoginRecord.objects.get(user=officer)
    assert (record.method, record.ip_address) == (LoginMethod.PASSWORD, "127.0.0.1")
    client.logout()
    for _ in range(limit - 1):
        assert attempt(client, "site", officer.username, "fel").status_code == 200


def test_behind_the_load_balancer_the_address_it_saw_counts(client, officer, settings):
    settings.BEHIND_PROXY = True
    attempt(client, "site", officer.username, "fel", address="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.7")
    assert AccessAttempt.objects.get(username=officer.username).ip_address == "192.0.2.7"


def test_lockouts_are_visible_in_the_admin(client, officer, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "site", officer.username, "fel")
    client.force_login(cast.admin)
    page = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert page.status_code == 200 and officer.username in page.content.decode()
    page = client.get(reverse("admin:axes_accessfailurelog_changelist"))
    assert page.status_code == 200 and officer.username in page.content.decode()
