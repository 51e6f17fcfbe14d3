"""Messages to staff (issue 8): the daily digest by e-mail, and the notice of a case reaching
the FL 12 § six-month mark.

``staff_digests_send`` (``manage.py send_staff_digest``, daily by the scheduler) first writes
the FL 12 § notices due today, then one digest per member of staff with anything new:

* new tasks in their queues: unassigned tasks that came into the queue of a role they hold
  (every queue for a team lead, who assigns them) and tasks given to them (opened for them,
  or assigned by a team lead), since their last digest; not the next step of their own work,
  which the case hands back to them; never on a case they declared jäv on;
* tasks newly past target (workflows.selectors._overdue, as under *Försenade*): those past
  target now that were not at the last digest, with how many are past target in all;
* cases that reached the FL 12 § six-month mark and dead letters (administrators): the
  notices of those kinds written to them since the last digest.

Each person's digest of a day is claimed under a unique constraint (notifications.digest) in
the transaction that writes the e-mail, so a second run or a second scheduler sends nothing
twice. A day with nothing new, or a person who turned the e-mail off, is recorded all the
same and sends nothing; the notices in the service are written either way.

The FL 12 § notice: six months after submission (the day the applicant may demand a
decision, bidrag.services.clocks.demand_allowed_from) of an undecided case, once per case
(notifications.reminders.reminder_claim), to those holding its open tasks (or, for a wait,
who asked), else to everyone in the queues its tasks wait in who is not jäv-barred.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from arenden.calendar import stockholm_today
from arenden.models import ConflictOfInterest, JournalEvent
from bidrag.events import Event
from bidrag.models import Application
from bidrag.roles import ROLE_LABELS, ROLE_PERMISSIONS, STAFF_ROLES, Role
from bidrag.services.clocks import UNDECIDED, demand_allowed_from
from notifications.dead_letters import ADMIN_GROUP
from notifications.dead_letters import KIND as DEAD_LETTER
from notifications.digest import digest_claim, digest_email_disabled_ids, digest_latest
from notifications.messages import (
    DEFAULT_LANGUAGE,
    Recipient,
    absolute_url,
    message_render,
    notify,
    recipient_languages,
)
from notifications.models import Notice, StaffDigestRun
from notifications.reminders import reminder_claim
from notifications.services import outbox_enqueue

from .models import QueueEntry
from .selectors import QUEUE_ROLES, _barred, _overdue, queue_roles

KIND = "staff_digest"
FL12_KIND = "fl12_six_months"
ITEMS = 10  # listed per section; the counts are whole
FIRST_PERIOD = timedelta(days=1)  # a person's first digest looks back this far
# A scheduler that was away for a while still tells of a mark it missed, up to this long after.
FL12_CATCH_UP = timedelta(days=30)
Outcome = StaffDigestRun.Outcome

_ROLE_OF_PERMISSION = {f"bidrag.{codename}": role for role in QUEUE_ROLES for codename in ROLE_PERMISSIONS[role]}


# -- the FL 12 § six-month mark ---------------------------------------------------------------


def _case_staff(application: Application) -> list[int]:
    """Who is told a case reached six months: its handlers, else the people of its queues."""
    entries = list(QueueEntry.objects.filter(application_id=application.pk).values("permission", "owner_id",
                                                                                  "asked_by_id"))
    handlers = {e["owner_id"] or e["asked_by_id"] for e in entries} - {None}
    barred = set(ConflictOfInterest.objects.filter(case_id=application.case_id).exclude(ruling__upheld=False)
                 .values_list("user_id", flat=True))
    if handlers - barred:
        return sorted(handlers - barred)
    roles = {_ROLE_OF_PERMISSION[e["permission"]] for e in entries if e["permission"] in _ROLE_OF_PERMISSION}
    people = (get_user_model().objects.filter(is_active=True, groups__name__in=[r.value for r in roles])
              .exclude(pk__in=barred).distinct().values_list("pk", flat=True))
    return sorted(people)


def fl12_notices_send(*, now: datetime | None = None) -> int:
    """Notices of every undecided case whose six-month mark is today (or was lately and went
    untold); each case once. Returns how many cases this call told of."""
    now = now or timezone.now()
    today = stockholm_today(now)
    # Six months are 181–184 days: a coarse window from the index, the exact day below.
    candidates = Application.objects.filter(
        status__in=UNDECIDED, submitted_at__lte=now - timedelta(days=180),
        submitted_at__gt=now - timedelta(days=185) - FL12_CATCH_UP,
    ).select_related("case", "organisation")
    told = 0
    for application in candidates:
        mark = demand_allowed_from(application)
        if mark is None or not today - FL12_CATCH_UP < mark <= today:
            continue
        with transaction.atomic():
            if not reminder_claim(kind=FL12_KIND, reference=f"application:{application.pk}:fl12", offset_days=0):
                continue
            people = _case_staff(application)
            notify(kind=FL12_KIND, reference=f"application:{application.pk}",
                   recipients=[Recipient(user_id=pk) for pk in people],
                   link=reverse("workflows:case_detail", args=[application.pk]), context={
                       "diarienummer": application.case.diarienummer, "title": application.title,
                       "organisation": application.organisation.name, "submitted_at": application.submitted_at,
                       "reached_on": mark,
                   })
        told += 1
    return told


# -- the digest ---------------------------------------------------------------------------------


@dataclass
class Digest:
    """What one person's digest tells: the template's context, and what the record keeps."""

    context: dict[str, Any]
    overdue: list[int]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def anything_new(self) -> bool:
        return any(self.counts[name] for name in ("new", "overdue_new", "six_months", "dead_letters"))


def staff_recipients():
    """Everyone a digest may go to: active staff (every staff role, administrators,
    superusers) and anyone holding an open task. Applicants holding nothing are not among them."""
    groups = [role.value for role in STAFF_ROLES] + [Role.ADMINISTRATOR.value, ADMIN_GROUP]
    holding = QueueEntry.objects.filter(owner__isnull=False).values("owner_id")
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(groups__name__in=groups) | Q(is_superuser=True) | Q(pk__in=holding))
            .distinct().order_by("pk"))


def _my_entries(user) -> tuple[Q, list[Role]]:
    roles = queue_roles(actor=user)
    permissions = [f"bidrag.{codename}" for role in roles for codename in ROLE_PERMISSIONS[role]]
    return Q(permission__in=permissions) | Q(owner=user), roles


def _items(entries: list[QueueEntry], *, user) -> list[dict[str, Any]]:
    applications = {
        row["pk"]: row for row in Application.objects.filter(pk__in=[e.application_id for e in entries])
        .values("pk", "title", "case__diarienummer")
    }
    return [{
        "diarienummer": applications[e.application_id]["case__diarienummer"],
        "title": applications[e.application_id]["title"],
        "queue": _queue_label(e.permission),
        "mine": e.owner_id == user.pk,
        "url": absolute_url(reverse("workflows:case_detail", args=[e.application_id])),
    } for e in entries]


def _queue_label(permission: str):
    role = _ROLE_OF_PERMISSION.get(permission)
    return ROLE_LABELS[role] if role is not None else ""


def _queue_url(role: Role | None, *, overdue: bool = False) -> str:
    params = [f"ko={role.value}"] if role is not None else []
    if overdue:
        params.append("vy=forsenade")
    return absolute_url(reverse("workflows:queue") + ("?" + "&".join(params) if params else ""))


def _own_step_before(user):
    """The step before the row's task (through viewflow's gateways) was ``user``'s own: the
    row is the next step of their own work, handed back to them."""
    return Task.objects.filter(Q(leading=OuterRef("task_id")) | Q(leading__leading=OuterRef("task_id")),
                               flow_task_type="HUMAN", owner=user)


def _assigned_to(user, *, since: datetime, until: datetime):
    """Someone (a team lead) gave ``user`` a task of the row's case in the period (journaled by
    workflows.door.assign; viewflow keeps no time of assignment)."""
    return JournalEvent.objects.filter(case_id=OuterRef("case_id"), action=Event.ASSIGN_TASK,
                                       payload__to__id=user.pk, occurred_at__gte=since, occurred_at__lt=until)


def digest_compose(user, *, since: datetime, now: datetime, notices_since: datetime, notices_until: datetime,
                   previous_overdue: set[int]) -> Digest:
    """``user``'s digest for the period from ``since`` to ``now``."""
    mine, roles = _my_entries(user)
    open_rows = QueueEntry.objects.filter(mine, is_wait=False).exclude(_barred(user))
    # New in the queue (nobody holds it yet), or newly assigned to the person; not the next
    # step of their own (the case stays with its handler, workflows.door): that is no news.
    opened = Q(created__gte=since, created__lt=now)
    new = open_rows.filter(
        Q(opened, owner__isnull=True)
        | Q(opened, ~Exists(_own_step_before(user)), owner=user)
        | Q(Exists(_assigned_to(user, since=since, until=now)), owner=user)
    ).order_by("created", "pk")
    overdue = set(open_rows.filter(_overdue(now)).values_list("pk", flat=True))
    newly_overdue = open_rows.filter(pk__in=overdue - previous_overdue).order_by("created", "pk")
    notices = Notice.objects.filter(user=user, created_at__gt=notices_since, created_at__lte=notices_until)
    six_months = list(notices.filter(kind=FL12_KIND).order_by("created_at").values("subject", "link",
                                                                                 "reference"))
    counts = {
        "new": new.count(), "overdue_new": newly_overdue.count(), "overdue_total": len(overdue),
        "six_months": len(six_months), "dead_letters": notices.filter(kind=DEAD_LETTER).count(),
    }
    six_months_items = _six_months_items(six_months)
    first_role = roles[0] if roles else None
    context = {
        "diarienummer": "", "name": user.get_full_name() or user.get_username(), "day": stockholm_today(now),
        "since": since, "new_count": counts["new"], "new_tasks": _items(list(new[:ITEMS]), user=user),
        "overdue_new_count": counts["overdue_new"], "overdue_total": counts["overdue_total"],
        "overdue_new": _items(list(newly_overdue[:ITEMS]), user=user),
        "six_months_count": counts["six_months"], "six_months": six_months_items[:ITEMS],
        "dead_letters_count": counts["dead_letters"],
        "dead_letters_url": absolute_url(reverse("admin:notifications_deadletter_changelist")),
        "queue_url": _queue_url(first_role), "overdue_url": _queue_url(first_role, overdue=True),
        "settings_url": absolute_url(reverse("notices:digest_settings")),
        "url": _queue_url(None) if roles else absolute_url(reverse("notices:list")),
    }
    return Digest(context=context, overdue=sorted(overdue), counts=counts)


def _six_months_items(notices: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    ids = [n["reference"].removeprefix("application:") for n in notices]
    rows = {str(row["pk"]): row for row in Application.objects.filter(pk__in=ids)
            .values("pk", "title", "case__diarienummer")}
    return [{"diarienummer": rows[i]["case__diarienummer"], "title": rows[i]["title"], "url": absolute_url(n["link"])}
            for i, n in zip(ids, notices, strict=True) if i in rows]


def staff_digest_send(user, *, now: datetime, language: str, email_enabled: bool) -> str | None:
    """Record (and send) ``user``'s digest of today, once: the outcome, or None when this
    day's digest was already someone else's (an earlier run, another scheduler)."""
    today = stockholm_today(now)
    latest = digest_latest(user_id=user.pk)
    if latest is not None and latest.day >= today:
        return None
    notices_until = timezone.now()
    digest = digest_compose(
        user, since=latest.period_end if latest else now - FIRST_PERIOD, now=now,
        notices_since=latest.notices_until if latest else notices_until - FIRST_PERIOD, notices_until=notices_until,
        previous_overdue=set(latest.overdue) if latest else set(),
    )
    if not digest.anything_new:
        outcome = Outcome.NOTHING
    elif not email_enabled or not user.email:
        outcome = Outcome.OPTED_OUT
    else:
        outcome = Outcome.SENT
    with transaction.atomic():
        if not digest_claim(user_id=user.pk, day=today, period_start=digest.context["since"], period_end=now,
                            notices_until=notices_until, outcome=outcome, overdue=digest.overdue,
                            counts=digest.counts):
            return None
        if outcome == Outcome.SENT:
            message = message_render(kind=KIND, context=digest.context, language=language)
            outbox_enqueue(kind=KIND, reference=f"staff_digest:{user.pk}:{today.isoformat()}", recipients=[user.email],
                           subject=message.subject, body=message.body)
    return outcome


def staff_digests_send(*, now: datetime | None = None) -> int:
    """The FL 12 § notices due, then every member of staff's digest of today. Returns how
    many digests this call sent by e-mail; any number of calls at once send each once."""
    now = now or timezone.now()
    fl12_notices_send(now=now)
    people = list(staff_recipients())
    languages = recipient_languages([person.pk for person in people])
    disabled = digest_email_disabled_ids([person.pk for person in people])
    sent = 0
    for person in people:
        outcome = staff_digest_send(person, now=now, language=languages.get(person.pk, DEFAULT_LANGUAGE),
                                    email_enabled=person.pk not in disabled)
        sent += outcome == Outcome.SENT
    return sent

