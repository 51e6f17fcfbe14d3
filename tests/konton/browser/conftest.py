"""The browser fixtures of tests/e2e (Debian Chromium, live server, axe), for the login pages."""

from tests.e2e.conftest import (  # noqa: F401 - fixtures
    _orm_beside_playwright,
    assert_accessible,
    browser,
    live_server,
    open_page,
    users,
)
