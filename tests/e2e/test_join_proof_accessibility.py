"""axe-core (WCAG 2.1 A and AA) on the pages of a join request with proof of the mandate, in
their normal and error states, at 1280 and 320 px (where nothing may scroll sideways): the
person's Mina organisationer with the request and its proof form, and the registrar's
Behörigheter att pröva with a join request's proof beside a member's mandate request."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from bidrag.models import JoinRequest, Membership
from bidrag.services import organisations as services
from tests.bidrag.test_mandates import proof
from tests.e2e.test_keyboard_and_reflow import assert_no_horizontal_scroll

WIDTHS = [1280, 320]


@pytest.fixture
def asker(users, stockholm):
    """Kerstin asks to join Stockholms stad, whose only member is a sökande."""
    from tests.e2e.conftest import PASSWORD

    Membership.objects.create(organisation=stockholm, user=users.applicant, role=Membership.Role.APPLICANT)
    person = get_user_model().objects.create_user("kerstin", password=PASSWORD, first_name="Kerstin",
                                                  last_name="Kommunjurist", email="kerstin@stockholm.example.se")
    services.organisation_add(actor=person, orgnr=stockholm.orgnr)
    return person


def scan(page, assert_accessible, name, width):
    assert_accessible(page, f"{name} at {width} px")
    if width == 320:
        assert_no_horizontal_scroll(page, name)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_persons_join_request_with_the_proof_form(open_page, assert_accessible, asker, seaweedfs, tmp_path, width):
    page = open_page(user=asker, viewport={"width": width, "height": 900})
    page.goto("/organisationer/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina organisationer")
    expect(page.get_by_role("heading", name="Får du teckna organisationen?")).to_be_visible()
    scan(page, assert_accessible, "join request with the proof form", width)

    page.get_by_role("button", name="Skicka in beviset").click()  # no file chosen
    expect(page.locator(".error-summary")).to_contain_text("Välj filen med beviset.")
    expect(page.get_by_label("Bevis om behörighet (PDF)")).to_have_attribute("aria-invalid", "true")
    scan(page, assert_accessible, "join request with a refused proof", width)

    pdf = tmp_path / "delegationsordning.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% delegationsordning\n%%EOF\n")
    page.get_by_label("Bevis om behörighet (PDF)").set_input_files(pdf)
    page.get_by_role("button", name="Skicka in beviset").click()
    expect(page.get_by_role("status")).to_contain_text("Beviset är inskickat")
    expect(page.get_by_text("väntar på Brås registrator")).to_be_visible()
    scan(page, assert_accessible, "join request with its proof waiting", width)
    assert JoinRequest.objects.get(user=asker).mandate_state == Membership.Mandate.REQUESTED


@pytest.mark.parametrize("width", WIDTHS)
def test_the_registrars_queue_with_a_join_request_and_a_mandate_request(
    open_page, assert_accessible, users, asker, malmo, seaweedfs, width
):
    request = JoinRequest.objects.get(user=asker)
    services.join_mandate_request(actor=asker, join_request_id=request.pk, uploaded_file=proof())
    olle = get_user_model().objects.create_user("olle", first_name="Olle", last_name="Ombud")
    Membership.objects.create(organisation=malmo, user=olle)
    services.mandate_request(actor=olle, organisation=malmo, uploaded_file=proof())

    page = open_page(user=users.registrar, viewport={"width": width, "height": 900})
    page.goto("/handlaggning/behorigheter/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Behörigheter att pröva")
    expect(page.locator(".task")).to_have_count(2)
    expect(page.locator(f"#begaran-{request.pk}")).to_contain_text("Vill bli medlem")
    scan(page, assert_accessible, "mandate queue with a join request", width)

    page.locator(f"#begaran-{request.pk}").get_by_role("button", name="Avslå").click()  # no reasons
    expect(page.locator(f"#begaran-{request.pk} .error-summary")).to_contain_text("Ange skälen")
    scan(page, assert_accessible, "mandate queue with a refused rejection", width)

    page.locator(f"#begaran-{request.pk}").get_by_role("button", name="Bekräfta behörigheten").click()
    expect(page.get_by_role("status")).to_contain_text("medlem i organisationen som firmatecknare")
    expect(page.locator(".task")).to_have_count(1)
    scan(page, assert_accessible, "mandate queue after the confirmation", width)
    assert Membership.objects.get(user=asker).may_sign
