"""Browser tests: Debian's Chromium driven by Playwright against Django's live server.

Fixtures:

``browser`` (package)
    One headless Chromium (``/usr/bin/chromium``, installed by ``.ci/run``; Playwright's
    own browser downloads are not available) for all tests in ``tests/e2e``.
``live_server`` (package)
    pytest-django's live server, bound to 127.0.0.1 only. Tests using it get a
    transactional database; its thread serves the static files too.
``users``
    The ``cast`` with the password ``PASSWORD`` set, so they can log in through the form.
``open_page(user=None, viewport=None)``
    A new browser context (own cookies) and page on the live server, logged in through
    the real login form when ``user`` is given. Contexts are closed after the test.
``assert_accessible(page, name)``
    axe-core on the current page, WCAG 2.1 A and AA rules; fails listing each violation.
"""

import json
import os
from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the suite runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "e2e-lösenord-2026"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="package")
def _orm_beside_playwright():
    # Playwright's sync API runs an asyncio loop in this thread (in a greenlet), so Django
    # sees a running loop and refuses ORM calls from the test (SynchronousOnlyOperation),
    # including the database flush after each test. The test code is still synchronous,
    # one call at a time, so the check is a false alarm here. Set only while the browser
    # is up (package scope: set before and restored after every e2e test and its
    # teardown), not for the rest of the suite.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(_orm_beside_playwright):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium, as .ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def live_server(_orm_beside_playwright):
    """pytest-django's live server on 127.0.0.1 (its default, "localhost", may bind ::1)."""
    server = LiveServer("127.0.0.1:0")
    yield server
    server.stop()


@pytest.fixture
def users(cast):
    for user in vars(cast).values():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return cast


def login(page, user):
    """Through the real form. Secure cookies stay on as in production: Chromium treats
    http://127.0.0.1 as a potentially trustworthy origin and keeps and sends them."""
    page.goto("/logga-in/")
    page.get_by_label("Användarnamn").fill(user.username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    session = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    assert session and session[0]["secure"] and session[0]["httpOnly"], page.context.cookies()


@pytest.fixture
def open_page(browser, live_server):
    contexts = []

    def open_page(*, user=None, viewport=None):
        context = browser.new_context(
            base_url=live_server.url,
            locale="sv-SE",
            timezone_id="Europe/Stockholm",
            viewport=viewport or {"width": 1280, "height": 900},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        if user is not None:
            login(page, user)
        return page

    yield open_page
    for context in contexts:
        context.close()


def _describe(violations) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:200]}")
            summary = node.get("failureSummary", "").replace("\n", "\n        ")
            if summary:
                lines.append(f"        {summary}")
    return "\n".join(lines)


def axe_violations(page) -> list[dict]:
    # page.evaluate runs through the DevTools protocol, not as a page script, so the
    # strict CSP (script-src 'self') stays on and untouched during the scan.
    page.evaluate(AXE_SOURCE)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    # A scan that evaluated nothing (axe failed to find the document) must not pass.
    assert results["passes"], f"axe evaluated no rule on {page.url}"
    return results["violations"]


@pytest.fixture
def assert_accessible():
    def check(page, name: str):
        # Colour contrast is only meaningful with the site's stylesheet applied.
        # Waited for, not read once: right after a navigation the sheet may still be arriving.
        loaded = "() => [...document.styleSheets].some(s => s.href && s.href.endsWith('/css/site.css') && s.cssRules.length > 0)"
        try:
            page.wait_for_function(loaded, timeout=5_000)
        except PlaywrightTimeoutError:
            raise AssertionError(f"{name}: site.css did not load") from None
        violations = axe_violations(page)
        assert not violations, f"{name} ({page.url}) has {len(violations)} WCAG 2.1 A/AA violation(s):\n{_describe(violations)}"

    return check
