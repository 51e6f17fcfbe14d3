"""Staff give a TOTP code (django-otp) once per session before any staff page: the queue,
the case pages under /arenden/, the admin. Applicants do not (their e-ID is strong)."""

import base64
import re
from urllib.parse import quote

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bidrag.models.application import Status

from .conftest import PNR2

STAFF = ["registrar", "officer", "decision_maker", "finance", "auditor", "admin"]


@pytest.fixture(autouse=True)
def second_factor_on(settings):
    settings.OTP_REQUIRED_FOR_STAFF = True


@pytest.fixture
def submitted(make_application):
    return make_application(to=Status.SUBMITTED)


def staff_urls(application) -> dict[str, str]:
    return {
        "queue": reverse("workflows:queue"),
        "case list": reverse("workflows:case_list"),
        "case page": reverse("workflows:case_detail", args=[application.pk]),
        "case task": reverse("workflows:task_claim", args=[application.pk, "register"]),
        "admin": reverse("admin:index"),
        "admin changelist": reverse("admin:auth_user_changelist"),
        "start page": reverse("home"),
    }


def code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def device_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", confirmed=True)


@pytest.mark.parametrize("role", STAFF)
def test_staff_without_a_verified_device_are_sent_to_the_code_page(client, cast, submitted, role):
    client.force_login(getattr(cast, role))
    for name, url in staff_urls(submitted).items():
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (name, method, response.status_code)
            assert response["Location"] == f"{reverse('konton:otp_verify')}?next={quote(url)}", (name, response["Location"])


def test_setting_up_the_app_then_reaching_the_queue(client, cast):
    client.force_login(cast.officer)
    queue = reverse("workflows:queue")
    response = client.get(queue, follow=True)
    # No device yet: the code page sends on to setting one up, keeping where they were going.
    assert response.redirect_chain[-1][0] == f"{reverse('konton:otp_setup')}?next={quote(queue, safe='')}"
    page = response.content.decode()
    assert 'src="data:image/svg+xml;base64,' in page and "QR-kod" in page
    key = re.search(r'<code class="hash">([A-Z2-7 ]+)</code>', page).group(1)
    device = TOTPDevice.objects.get(user=cast.officer, confirmed=False)
    assert key.replace(" ", "") == base64.b32encode(device.bin_key).decode()

    wrong = client.post(f"{reverse('konton:otp_setup')}?next={quote(queue)}", {"token": "000000" if code(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "Koden stämmer inte" in wrong.content.decode()
    assert 'aria-describedby="id_token_helptext id_token_error"' in wrong.content.decode()
    device.throttle_reset()  # the wrong code made the next try wait a second

    response = client.post(f"{reverse('konton:otp_setup')}?next={quote(queue)}", {"token": code(device)})
    # On by way of the new backup codes (tests/konton/test_backup_codes.py), still going to the queue.
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('konton:backup_codes')}?next={quote(queue, safe='')}"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(queue).status_code == 200


def test_a_confirmed_device_cannot_be_replaced_with_only_the_password(client, cast):
    device_for(cast.officer)
    client.force_login(cast.officer)
    response = client.get(reverse("konton:otp_setup"))
    assert response.status_code == 302 and response["Location"] == reverse("konton:otp_verify")
    assert TOTPDevice.objects.filter(user=cast.officer).count() == 1


@pytest.mark.parametrize("role", STAFF)
def test_a_verified_code_opens_the_staff_pages(client, cast, submitted, role):
    user = getattr(cast, role)
    device = device_for(user)
    client.force_login(user)
    queue = reverse("workflows:queue")
    verify = f"{reverse('konton:otp_verify')}?next={quote(queue)}"
    page = client.get(verify)
    assert page.status_code == 200 and "Engångskod" in page.content.decode()

    response = client.post(verify, {"token": code(device)})

    assert response.status_code == 302 and response["Location"] == queue
    for name, url in staff_urls(submitted).items():
        assert "tvastegsverifiering" not in client.get(url).get("Location", ""), name
    if role == "admin":
        assert client.get(reverse("admin:index")).status_code == 200
    else:  # (an auditor's queue is the case list)
        assert client.get(reverse("workflows:case_list")).status_code == 200
        assert client.get(reverse("workflows:case_detail", args=[submitted.pk])).status_code == 200


def test_a_wrong_code_is_refused_and_then_throttled(client, cast):
    device = device_for(cast.officer)
    client.force_login(cast.officer)
    right = code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(reverse("konton:otp_verify"), {"token": wrong})
    assert response.status_code == 200 and "Koden stämmer inte" in response.content.decode()
    # At once again, even with the right code: wait first (django-otp's throttling).
    response = client.post(reverse("konton:otp_verify"), {"token": right})
    assert response.status_code == 200 and "För många felaktiga koder" in response.content.decode()
    assert client.get(reverse("workflows:queue")).status_code == 302

    for bad in ["", "12345", "abcdef"]:
        response = client.post(reverse("konton:otp_verify"), {"token": bad})
        assert response.status_code == 200 and 'class="error-summary"' in response.content.decode()


def test_a_code_is_good_for_one_login_only(client, cast):
    device = device_for(cast.officer)
    used = code(device)
    client.force_login(cast.officer)
    assert client.post(reverse("konton:otp_verify"), {"token": used}).status_code == 302

    other = client.__class__()
    other.force_login(cast.officer)
    response = other.post(reverse("konton:otp_verify"), {"token": used})
    assert response.status_code == 200 and "Koden stämmer inte" in response.content.decode()


def test_the_verification_lasts_for_the_session_only(client, cast):
    device = device_for(cast.officer)
    client.force_login(cast.officer)
    client.post(reverse("konton:otp_verify"), {"token": code(device)})
    assert client.get(reverse("workflows:queue")).status_code == 200
    client.logout()
    client.force_login(cast.officer)
    assert client.get(reverse("workflows:queue")).status_code == 302


def test_unverified_staff_may_still_log_out(client, cast):
    client.force_login(cast.officer)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_applicants_need_no_second_factor(client, cast, draft):
    client.force_login(cast.signatory)
    assert client.get(reverse("bidrag:application_list")).status_code == 200
    response = client.get(reverse("konton:otp_verify"))
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_staff_logging_in_with_e_id_give_the_code_too(client, cast, eid):
    from konton.models import EIdentity

    EIdentity.objects.create(user=cast.officer, personnummer=PNR2, issuer="registered by an administrator")
    eid.login(client, personnummer=PNR2, next=reverse("workflows:queue"))
    assert int(client.session["_auth_user_id"]) == cast.officer.pk
    response = client.get(reverse("workflows:queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("konton:otp_verify"))


def test_the_demo_key_of_seed_demo_lets_demo_staff_in(client, cast):
    from konton.demo import demo_totp_code, demo_totp_ensure

    demo_totp_ensure([cast.officer])
    demo_totp_ensure([cast.officer])  # again: still one device
    assert TOTPDevice.objects.filter(user=cast.officer, confirmed=True).count() == 1
    client.force_login(cast.officer)
    response = client.post(reverse("konton:otp_verify"), {"token": demo_totp_code()})
    assert response.status_code == 302 and client.get(reverse("workflows:queue")).status_code == 200
