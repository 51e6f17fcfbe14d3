"""The models and the migrations agree: a model change without its migration fails here,
not on the next developer's machine."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_without_its_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"models changed without a migration:\n{out.getvalue()}" if exit_.code else out.getvalue())
    assert "No changes detected" in out.getvalue()
