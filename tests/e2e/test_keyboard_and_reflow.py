"""Keyboard use (WCAG 2.4.1 bypass blocks, 2.4.7 focus visible) and reflow at 320 CSS px
(1.4.10), which axe cannot check."""

import pytest
from playwright.sync_api import expect

from bidrag.models.application import Status

FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return {
        tag: el.tagName, id: el.id, text: el.textContent.trim(), cls: el.className,
        outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
        outlineColor: style.outlineColor, boxShadow: style.boxShadow, background: style.backgroundColor,
        top: box.top, bottom: box.bottom, left: box.left, width: box.width, height: box.height,
    };
}"""


def test_skip_link_is_first_visible_on_focus_and_moves_focus_to_main(open_page, users, draft):
    page = open_page(user=users.signatory)
    page.goto("/ansokningar/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina ansökningar")

    hidden = page.evaluate("() => document.querySelector('.skip-link').getBoundingClientRect().bottom")
    assert hidden <= 0, "the skip link should be off screen until it gets focus"

    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert focused["cls"] == "skip-link" and focused["text"] == "Hoppa till huvudinnehållet", focused
    # Focus is visible: an outline that is drawn, and a ring; the link is on screen.
    assert focused["outlineStyle"] != "none" and focused["outlineWidth"] >= 2, focused
    assert focused["boxShadow"] != "none" or focused["outlineColor"] not in ("transparent", "rgba(0, 0, 0, 0)"), focused
    assert focused["top"] >= 0 and focused["height"] > 0 and focused["width"] > 0, focused

    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    assert page.url.endswith("#main")

    # The next Tab continues inside main, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.getElementById('main').contains(document.activeElement)")
    focused = page.evaluate(FOCUSED)
    assert focused["outlineStyle"] != "none", focused


@pytest.fixture
def queue_with_cases(make_application, malmo):
    make_application(to=Status.SUBMITTED, title="Ett projekt med ett ganska långt namn om trygghet i centrum")
    make_application(to=Status.SUBMITTED, title="Trygga Malmö", organisation=malmo)


NARROW = {"width": 320, "height": 640}
OVERFLOW = """() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    wide: [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .filter(el => !el.closest('.table-wrapper, .visually-hidden, .skip-link'))
        .slice(0, 5).map(el => el.outerHTML.slice(0, 120)),
})"""


def assert_no_horizontal_scroll(page, name):
    assert page.evaluate("() => innerWidth") == 320
    result = page.evaluate(OVERFLOW)
    assert result["scrollWidth"] <= result["clientWidth"], f"{name} scrolls sideways at 320 px: {result}"


def test_edit_page_reflows_at_320_px(open_page, users, draft):
    page = open_page(user=users.applicant, viewport=NARROW)
    page.goto(f"/ansokningar/{draft.pk}/steg/budget/")
    expect(page.get_by_role("table", name="Projektets kostnader")).to_be_visible()
    assert_no_horizontal_scroll(page, "application edit page")


def test_queue_reflows_at_320_px(open_page, users, queue_with_cases):
    page = open_page(user=users.registrar, viewport=NARROW)
    page.goto("/handlaggning/")
    expect(page.get_by_role("table").locator("tbody tr")).to_have_count(2)
    assert_no_horizontal_scroll(page, "staff queue")


LIST_FITS = """() => {
    const table = document.querySelector('main table');
    const main = document.querySelector('main');
    const badges = [...table.querySelectorAll('.badge')].filter(b => b.scrollWidth > b.clientWidth + 1);
    return {table: table.getBoundingClientRect().right, main: main.getBoundingClientRect().right,
            scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
            cutBadges: badges.map(b => b.textContent)};
}"""


@pytest.mark.parametrize("width", [320, 1024, 1280, 1920])
@pytest.mark.parametrize("language", ["sv", "en"])
def test_applicant_list_fits_its_column_at_every_width(open_page, users, make_application, malmo, width, language):
    """Issue 6: the list was wider than its column at every desktop width (the action column
    behind a scroll, status badges cut off in English)."""
    make_application(to=Status.AWAITING_SUPPLEMENT, title="Ett projekt med ett ganska långt namn om trygghet i centrum")
    make_application(to=Status.DECISION_PROPOSED, title="Trygga Malmö", organisation=malmo)
    page = open_page(user=users.signatory, viewport={"width": width, "height": 800})
    if language == "en":
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url or "http://127.0.0.1"}])
    page.goto("/ansokningar/")
    expect(page.locator("main table tbody tr")).to_have_count(2)
    fits = page.evaluate(LIST_FITS)
    assert fits["table"] <= fits["main"] + 1, f"the list is wider than its column at {width} px: {fits}"
    assert fits["scroll"] <= fits["client"], f"the page scrolls sideways at {width} px: {fits}"
    assert not fits["cutBadges"], fits


@pytest.mark.parametrize("who", ["auditor", "officer"])
def test_all_cases_page_with_its_filter_reflows_at_320_px(who, open_page, users, make_application):
    """Issue 7: at 320 px the all-cases filter pushed the page to 341 px."""
    make_application(to=Status.IN_REVIEW, title="Ett ärende med ett ganska långt projektnamn för smala skärmar")
    page = open_page(user=getattr(users, who), viewport=NARROW)
    page.goto("/arenden/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("search").or_(page.locator("form").first)).to_be_visible()
    assert_no_horizontal_scroll(page, f"all cases ({who})")


QUEUE_FITS = """() => {
    const wrapper = document.querySelector('main .table-wrapper');
    const main = document.querySelector('main');
    return {wrapper: wrapper.getBoundingClientRect().right, main: main.getBoundingClientRect().right,
            table: wrapper.scrollWidth, shown: wrapper.clientWidth,
            scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth};
}"""


@pytest.mark.parametrize("width", [320, 1280])
def test_queue_with_its_filters_and_assignment_fits_1280_and_reflows_at_320_px(
    width, open_page, users, queue_with_cases, assert_accessible
):
    """Issue 7: the queue with every filter, the kind tabs and the team lead's assignment
    column: no column cut off at 1280 px, no sideways scrolling of the page at 320 px."""
    page = open_page(user=users.team_lead, viewport={"width": width, "height": 800})
    page.goto("/handlaggning/?ko=registrator")
    expect(page.get_by_role("group", name="Sök och filtrera")).to_be_visible()
    page.get_by_label("Län").select_option(label="Skåne län")
    page.get_by_label("Sökt belopp från (kr)").fill("1000")
    page.get_by_role("button", name="Visa").click()
    expect(page.get_by_role("table").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("cell", name="Trygga Malmö")).to_be_visible()
    expect(page.get_by_label("Tilldela", exact=False).first).to_be_visible()
    fits = page.evaluate(QUEUE_FITS)
    if width == 320:
        assert_no_horizontal_scroll(page, "queue with filters")
    else:
        assert fits["table"] <= fits["shown"] + 1, f"a column of the queue is cut off at 1280 px: {fits}"
        assert fits["wrapper"] <= fits["main"] + 1 and fits["scroll"] <= fits["client"], fits
    assert_accessible(page, f"queue with filters at {width} px")
