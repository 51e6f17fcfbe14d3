from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from arenden.journal import journal_verify
from bidrag.models import Application, Call, Organisation
from bidrag.models.application import Status
from bidrag.selectors import granted_projects

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_every_state_once_and_twice_is_harmless(capsys):
    call_command("seed_demo", "--force")
    first = (Organisation.objects.count(), Application.objects.count(), Counter(Application.objects.values_list("status", flat=True)))
    call_command("seed_demo", "--force")
    second = (Organisation.objects.count(), Application.objects.count(), Counter(Application.objects.values_list("status", flat=True)))
    assert first == second
    organisations, applications, states = first
    assert organisations == 290 + 3
    assert set(states) == set(Status.values)
    # the start page has something in each of its parts: open, upcoming and closed calls
    now = timezone.now()
    assert Call.objects.filter(opens_at__gt=now).exists()
    closed = Call.objects.filter(closes_at__lt=now)
    assert closed.exists()
    assert granted_projects(call_ids=closed.values_list("pk", flat=True))
    assert journal_verify() == []
    # The open call has scored applications to rank in the quick start.
    from bidrag.models import Assessment

    assert Assessment.objects.filter(application__call__closes_at__gt=now).count() >= 6
    out = capsys.readouterr().out
    assert "bidrag-demo-2026" in out and "beslutsfattare" in out


def test_seed_demo_refuses_without_debug():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("seed_demo")
    assert not Application.objects.exists()
