"""Backup codes for staff who lose their authenticator app (django-otp's static plugin):
shown once when the app is set up, or when a new set is made (which ends the old one);
each code opens one session, is throttled like the app's codes and every use is recorded.
An administrator can reset a staff member's devices (command or admin action), recorded
with who did it."""

import logging
import re
from io import StringIO
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from konton.models import SecondFactorEvent, SecondFactorEventKind
from konton.services import backup_codes_create

from .test_staff_second_factor import code, device_for

CODE = re.compile(r'<li><code class="hash backup-code">([a-z2-7]{4}) ([a-z2-7]{4})</code></li>')


@pytest.fixture(autouse=True)
def second_factor_on(settings):
    settings.OTP_REQUIRED_FOR_STAFF = True


def shown_codes(page: str) -> list[str]:
    return [a + b for a, b in CODE.findall(page)]


def verified(client, user) -> None:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    client.force_login(user)
    assert client.post(reverse("konton:otp_verify"), {"token": code(device)}).status_code == 302


def test_setting_up_the_app_shows_ten_backup_codes_once(client, cast):
    client.force_login(cast.officer)
    queue = reverse("workflows:queue")
    setup = f"{reverse('konton:otp_setup')}?next={quote(queue)}"
    client.get(setup)
    device = TOTPDevice.objects.get(user=cast.officer, confirmed=False)

    response = client.post(setup, {"token": code(device)})

    codes_page = f"{reverse('konton:backup_codes')}?next={quote(queue, safe='')}"
    assert response.status_code == 302 and response["Location"] == codes_page
    page = client.get(codes_page).content.decode()
    shown = shown_codes(page)
    assert len(shown) == 10 and len(set(shown)) == 10
    stored = set(StaticToken.objects.filter(device__user=cast.officer).values_list("token", flat=True))
    assert set(shown) == stored
    assert "Spara reservkoderna nu" in page and f'href="{queue}"' in page
    event = SecondFactorEvent.objects.get(user=cast.officer)
    assert (event.kind, event.by, event.codes_left) == (SecondFactorEventKind.BACKUP_CODES_CREATED, cast.officer, 10)

    # Once: the page shown again lists none of them, only how many are left.
    again = client.get(codes_page).content.decode()
    assert shown_codes(again) == [] and not any(c in again for c in shown)
    assert "Du har 10 oanvända reservkoder" in again
    assert client.get(queue).status_code == 200


def test_a_backup_code_opens_the_staff_pages_once_and_is_recorded(client, cast, caplog):
    device_for(cast.officer)
    codes = backup_codes_create(user=cast.officer, ip_address=None)
    client.force_login(cast.officer)
    queue = reverse("workflows:queue")
    verify_page = client.get(f"{reverse('konton:otp_verify')}?next={quote(queue)}").content.decode()
    backup = f"{reverse('konton:otp_backup')}?next={quote(queue, safe='')}"
    assert f'href="{backup}"' in verify_page  # the way there from the code page

    with caplog.at_level(logging.INFO, logger="konton.otp"):
        response = client.post(backup, {"code": codes[0]}, REMOTE_ADDR="10.4.4.4")

    # In, and shown how many are left, with a way on to where they were going.
    assert response.status_code == 302 and response["Location"].startswith(reverse("konton:backup_codes"))
    page = client.get(response["Location"]).content.decode()
    assert "Du har 9 oanvända reservkoder" in page and f'href="{queue}"' in page
    assert client.get(queue).status_code == 200
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    event = SecondFactorEvent.objects.get(kind=SecondFactorEventKind.BACKUP_CODE_USED)
    assert (event.user, event.by, event.codes_left, event.ip_address) == (cast.officer, cast.officer, 9, "10.4.4.4")
    assert any("backup code used" in r.getMessage() and cast.officer.username in r.getMessage() for r in caplog.records)

    # The same code in another session: refused.
    other = client.__class__()
    other.force_login(cast.officer)
    refused = other.post(backup, {"code": codes[0]})
    assert refused.status_code == 200 and "Reservkoden stämmer inte" in refused.content.decode()
    assert other.get(queue).status_code == 302
    assert SecondFactorEvent.objects.filter(kind=SecondFactorEventKind.BACKUP_CODE_USED).count() == 1


def test_a_backup_code_may_be_written_in_groups_and_capitals(client, cast):
    device_for(cast.officer)
    [first, *_rest] = backup_codes_create(user=cast.officer, ip_address=None)
    client.force_login(cast.officer)
    written = f"{first[:4].upper()} - {first[4:].upper()}"
    assert client.post(reverse("konton:otp_backup"), {"code": written}).status_code == 302
    assert client.get(reverse("workflows:queue")).status_code == 200


def test_a_wrong_backup_code_is_refused_and_then_throttled(client, cast):
    device_for(cast.officer)
    codes = backup_codes_create(user=cast.officer, ip_address=None)
    client.force_login(cast.officer)
    wrong = "a" * 8 if "a" * 8 not in codes else "b" * 8
    response = client.post(reverse("konton:otp_backup"), {"code": wrong})
    assert response.status_code == 200 and "Reservkoden stämmer inte" in response.content.decode()
    # At once again, even with a right code: wait first, as for the app's codes.
    response = client.post(reverse("konton:otp_backup"), {"code": codes[1]})
    assert response.status_code == 200 and "För många felaktiga koder" in response.content.decode()
    assert client.get(reverse("workflows:queue")).status_code == 302
    assert StaticToken.objects.filter(token=codes[1]).exists()  # not spent by the throttled try
    assert not SecondFactorEvent.objects.filter(kind=SecondFactorEventKind.BACKUP_CODE_USED).exists()

    for bad in ["", "abc", "abcdefg1", "abcdefghi"]:
        response = client.post(reverse("konton:otp_backup"), {"code": bad})
        assert response.status_code == 200 and 'class="error-summary"' in response.content.decode()


def test_without_backup_codes_the_page_says_whom_to_ask(client, cast):
    device_for(cast.officer)
    client.force_login(cast.officer)
    response = client.post(reverse("konton:otp_backup"), {"code": "abcdefgh"})
    assert response.status_code == 200 and "Du har inga reservkoder" in response.content.decode()


def test_a_new_set_ends_the_old_one(client, cast):
    device_for(cast.officer)
    old = backup_codes_create(user=cast.officer, ip_address=None)
    verified(client, cast.officer)
    codes_page = reverse("konton:backup_codes")

    response = client.post(codes_page)

    assert response.status_code == 302 and response["Location"].startswith(codes_page)
    new = shown_codes(client.get(response["Location"]).content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=cast.officer).values_list("token", flat=True)) == set(new)
    assert StaticDevice.objects.filter(user=cast.officer).count() == 1
    assert SecondFactorEvent.objects.filter(user=cast.officer, kind=SecondFactorEventKind.BACKUP_CODES_CREATED).count() == 2
    # This session stays verified (its device is the app, not the codes).
    assert client.get(reverse("workflows:queue")).status_code == 200

    other = client.__class__()
    other.force_login(cast.officer)
    refused = other.post(reverse("konton:otp_backup"), {"code": old[0]})
    assert refused.status_code == 200 and "Reservkoden stämmer inte" in refused.content.decode()


def test_a_session_opened_by_a_backup_code_stays_open_with_a_new_set(client, cast):
    device_for(cast.officer)
    codes = backup_codes_create(user=cast.officer, ip_address=None)
    client.force_login(cast.officer)
    client.post(reverse("konton:otp_backup"), {"code": codes[0]})
    assert client.post(reverse("konton:backup_codes")).status_code == 302
    assert client.get(reverse("workflows:queue")).status_code == 200


def test_backup_codes_cannot_be_made_with_the_password_alone(client, cast):
    device_for(cast.officer)
    client.force_login(cast.officer)  # no code given in this session
    for method in (client.get, client.post):
        response = method(reverse("konton:backup_codes"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("konton:otp_verify"))
    assert not StaticToken.objects.exists() and not SecondFactorEvent.objects.exists()


def test_applicants_have_no_backup_codes(client, cast):
    client.force_login(cast.signatory)
    for name in ("konton:backup_codes", "konton:otp_backup"):
        response = client.post(reverse(name))
        assert response.status_code == 302 and response["Location"] == reverse("home")
    assert not StaticDevice.objects.exists()


# -- an administrator resets a staff member's devices ----------------------------------


def test_the_reset_command_removes_every_device_and_records_who(client, cast, caplog):
    device_for(cast.officer)
    backup_codes_create(user=cast.officer, ip_address=None)
    device_for(cast.finance)
    verified(client, cast.officer)
    out = StringIO()

    with caplog.at_level(logging.INFO, logger="konton.otp"):
        call_command("otp_reset", cast.officer.username, by=cast.admin.username, stdout=out)

    assert not TOTPDevice.objects.filter(user=cast.officer).exists()
    assert not StaticDevice.objects.filter(user=cast.officer).exists() and not StaticToken.objects.exists()
    assert TOTPDevice.objects.filter(user=cast.finance).exists()  # nobody else's
    event = SecondFactorEvent.objects.get(kind=SecondFactorEventKind.DEVICES_RESET)
    assert (event.user, event.by) == (cast.officer, cast.admin)
    assert "test" in event.detail and "2" in out.getvalue() and cast.admin.username in out.getvalue()
    assert any("second factor reset" in r.getMessage() and cast.admin.username in r.getMessage() for r in caplog.records)
    # The session that gave a code is no longer verified; the next step is a new app.
    response = client.get(reverse("workflows:queue"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("konton:otp_setup"))


def test_the_reset_command_takes_an_administrator_and_a_known_user(cast):
    device_for(cast.officer)
    with pytest.raises(CommandError, match="administratör"):
        call_command("otp_reset", cast.officer.username, by=cast.registrar.username, stdout=StringIO())
    with pytest.raises(CommandError, match="finns inte"):
        call_command("otp_reset", "ingen-sadan", by=cast.admin.username, stdout=StringIO())
    with pytest.raises(CommandError, match="finns inte"):
        call_command("otp_reset", cast.officer.username, by="ingen-sadan", stdout=StringIO())
    assert TOTPDevice.objects.filter(user=cast.officer).exists() and not SecondFactorEvent.objects.exists()


def test_the_admin_action_resets_the_chosen_users_and_records_the_administrator(client, cast):
    officer_device = device_for(cast.officer)
    backup_codes_create(user=cast.officer, ip_address=None)
    device_for(cast.finance)
    device_for(cast.admin)
    verified(client, cast.admin)
    changelist = reverse("admin:otp_totp_totpdevice_changelist")

    response = client.post(changelist, {"action": "second_factor_reset", "_selected_action": [officer_device.pk]})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.officer).exists() and not StaticDevice.objects.filter(user=cast.officer).exists()
    assert TOTPDevice.objects.filter(user=cast.finance).exists()
    event = SecondFactorEvent.objects.get(kind=SecondFactorEventKind.DEVICES_RESET)
    assert (event.user, event.by, event.ip_address) == (cast.officer, cast.admin, "127.0.0.1")
    assert "återställd" in client.get(changelist).content.decode()
    # The record is in the admin, and cannot be changed or deleted there.
    events = reverse("admin:konton_secondfactorevent_changelist")
    assert cast.officer.username in client.get(events).content.decode()
    change = reverse("admin:konton_secondfactorevent_change", args=[event.pk])
    client.post(change, {"detail": "ändrad"})
    event.refresh_from_db()
    assert event.detail != "ändrad"
    assert client.post(reverse("admin:konton_secondfactorevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403


def test_the_admin_never_shows_backup_codes(client, cast):
    device_for(cast.admin)
    codes = backup_codes_create(user=cast.officer, ip_address=None)
    verified(client, cast.admin)
    device = StaticDevice.objects.get(user=cast.officer)
    for url in (reverse("admin:otp_static_staticdevice_changelist"),
                reverse("admin:otp_static_staticdevice_change", args=[device.pk])):
        page = client.get(url)
        assert page.status_code == 200
        assert not any(c in page.content.decode() for c in codes)
