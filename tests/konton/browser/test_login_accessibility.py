"""axe-core (WCAG 2.1 A and AA) on the login pages: e-ID, a refused e-ID login, the
lockout page, and the staff's two-step pages (app, backup codes) in their normal and
error states."""

from django.conf import settings as django_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect


def test_login_page_with_e_id_and_a_refused_login(open_page, assert_accessible, oidc_rp):
    page = open_page()
    page.goto("/logga-in/")
    expect(page.get_by_role("button", name="Logga in med e-legitimation")).to_be_visible()
    assert_accessible(page, "login page with e-ID")
    page.goto("/logga-in/e-legitimation/retur/?state=fel&code=fel")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggningen misslyckades")
    assert_accessible(page, "refused e-ID login")


def test_lockout_page(open_page, assert_accessible, users):
    page = open_page()
    page.goto("/logga-in/")
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Användarnamn").fill(users.officer.username)
        page.get_by_label("Lösenord").fill("fel-lösenord")
        page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggningen är tillfälligt spärrad")
    assert_accessible(page, "lockout page")


def test_two_step_pages(open_page, assert_accessible, users, settings):
    settings.OTP_REQUIRED_FOR_STAFF = True
    page = open_page(user=users.officer)
    page.goto("/handlaggning/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tvåstegsverifiering")
    expect(page.get_by_role("img", name="QR-kod")).to_be_visible()
    assert_accessible(page, "two-step setup")

    page.get_by_label("Engångskod").fill("12")
    page.get_by_role("button", name="Aktivera tvåstegsverifiering").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page, "two-step setup with an error")

    device = TOTPDevice.objects.get(user=users.officer)
    page.get_by_label("Engångskod").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Aktivera tvåstegsverifiering").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reservkoder")
    expect(page.locator(".backup-code")).to_have_count(10)
    assert_accessible(page, "backup codes shown once")
    page.get_by_role("link", name="Fortsätt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Handläggning")

    other = open_page(user=users.officer)
    other.goto("/handlaggning/")
    expect(other.get_by_label("Engångskod")).to_be_visible()
    assert_accessible(other, "two-step code page")
    other.get_by_label("Engångskod").fill("abcdef")
    other.get_by_role("button", name="Verifiera").click()
    expect(other.locator(".error-summary")).to_contain_text("siffror")
    assert_accessible(other, "two-step code page with an error")

    other.get_by_role("link", name="Använd en reservkod").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Logga in med en reservkod")
    assert_accessible(other, "backup code page")
    other.get_by_label("Reservkod").fill("fel")
    other.get_by_role("button", name="Verifiera").click()
    expect(other.locator(".error-summary")).to_contain_text("åtta tecken")
    assert_accessible(other, "backup code page with an error")
