"""Test-only settings: the site's, with the URLconf that adds the streamed upload view
(tests/arenden/upload_urls.py). For `BENCH_UPLOAD_VIEW=streamed make bench` before the
attachment view itself is wired to arenden.uploads."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.arenden.upload_urls"
