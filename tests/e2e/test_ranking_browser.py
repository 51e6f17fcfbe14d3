"""Issue 7: the ranking with its simulator in Chromium: no column cut off at 1280 px, no
sideways scrolling of the page at 320 px, axe (WCAG 2.1 A/AA) clean; the simulator works
without JavaScript (a GET form) and the batch decision's confirmation lists the proposal."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bidrag.models import Organisation
from bidrag.models.application import Status
from bidrag.models.assessment import criteria_of
from tests.domain import perform

from .test_keyboard_and_reflow import assert_no_horizontal_scroll

FITS = """() => {
    const wrapper = document.querySelector('main .table-wrapper');
    const main = document.querySelector('main');
    return {wrapper: wrapper.getBoundingClientRect().right, main: main.getBoundingClientRect().right,
            table: wrapper.scrollWidth, shown: wrapper.clientWidth,
            scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth};
}"""


@pytest.fixture
def ranked(make_application, cast, call):
    organisations = Organisation.objects.exclude(kommunkod="").order_by("kommunkod")[:3]
    apps = []
    for value, organisation, to in zip((5, 4, 2), organisations, (Status.DECISION_PROPOSED, Status.IN_ASSESSMENT,
                                                                   Status.IN_ASSESSMENT), strict=True):
        application = make_application(to=Status.IN_ASSESSMENT, organisation=organisation,
                                       title="Trygghetsvandringar och föräldranätverk i centrala staden")
        perform(actor=cast.officer, application=application, node="assess", action="score",
                data={"scores": {c["code"]: (value, "Motiverat") for c in criteria_of(call)}})
        if to == Status.DECISION_PROPOSED:
            perform(actor=cast.officer, application=application, node="assess", action="propose_decision",
                    data={"outcome": "granted", "amount": Decimal("300000"),
                          "reasons": "Lägesbilden visar behovet och åtgärdsplanen går att genomföra inom året."})
        apps.append(application)
    call.budget = Decimal("500000")
    call.save(update_fields=["budget"])
    return apps


@pytest.mark.parametrize("width", [320, 1280])
def test_ranking_fits_1280_and_reflows_at_320_px(width, open_page, users, ranked, call, assert_accessible):
    page = open_page(user=users.decision_maker, viewport={"width": width, "height": 800})
    page.goto(f"/handlaggning/rangordning/{call.pk}/")
    expect(page.locator("main table tbody tr[id^=plats-]")).to_have_count(3)
    expect(page.get_by_text("Budgetgränsen: här räcker budgeten inte längre")).to_be_visible()
    if width == 320:
        assert_no_horizontal_scroll(page, "ranking")
    else:
        fits = page.evaluate(FITS)
        assert fits["table"] <= fits["shown"] + 1, f"a column of the ranking is cut off at 1280 px: {fits}"
        assert fits["wrapper"] <= fits["main"] + 1 and fits["scroll"] <= fits["client"], fits
    assert_accessible(page, f"ranking at {width} px")

    # the simulator, without any script: cut the first and recompute
    page.locator("#stryk-1").check()
    page.get_by_role("button", name="Räkna om").first.click()
    expect(page.get_by_role("heading", name="Det här flyttas av dina ändringar")).to_be_visible()
    assert_accessible(page, f"ranking with changes at {width} px")

    # the batch decision's confirmation shows what will be decided
    page.goto(f"/handlaggning/rangordning/{call.pk}/")
    page.get_by_label("Besluta enligt förslaget", exact=False).check()
    page.get_by_role("button", name="Besluta markerade förslag").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Besluta 1 förslag")
    expect(page.get_by_text("300 000 kr").first).to_be_visible()
    assert_accessible(page, f"batch decision confirmation at {width} px")
