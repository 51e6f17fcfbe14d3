"""Public pages, no login: what can be applied for, and what was granted.

The start page lists every call (open, upcoming, closed) with the facts an applicant
needs before logging in; a call has a page of its own with the guidance and the way to
apply. Of applications only the granted projects of closed calls appear, as organisation
name, project title and granted amount (bidrag.selectors.granted_projects).
"""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from . import selectors
from .models import Call
from .models.application import AttachmentKind
from .orgnr import LegalForm
from .roles import is_auditor_only, is_staff_reader

OPEN, UPCOMING, CLOSED = "open", "upcoming", "closed"
STATE_LABELS = {OPEN: _("Öppen"), UPCOMING: _("Kommande"), CLOSED: _("Stängd")}
# The badge always carries the word; colour is only a second cue.
STATE_CLASSES = {OPEN: "badge--success", UPCOMING: "badge--info", CLOSED: "badge--closed"}


def _label(choices, code: str) -> str:
    try:
        return choices(code).label
    except ValueError:
        return code


@dataclass
class CallPage:
    """A call as the public pages show it; labels resolved here so templates query nothing."""

    call: Call
    state: str
    eligible: list[str]
    attachments: list[str]
    granted: list[selectors.GrantedProject] = field(default_factory=list)

    @property
    def state_label(self):
        return STATE_LABELS[self.state]

    @property
    def state_class(self) -> str:
        return STATE_CLASSES[self.state]

    @property
    def granted_total(self):
        return sum((p.amount or 0 for p in self.granted), 0)


def _state(call: Call, now: datetime) -> str:
    if call.opens_at > now:
        return UPCOMING
    return OPEN if call.is_open(now) else CLOSED


def _page(call: Call, now: datetime) -> CallPage:
    scheme = call.scheme
    return CallPage(
        call=call,
        state=_state(call, now),
        eligible=[_label(LegalForm, code) for code in scheme.eligible_legal_forms],
        attachments=[_label(AttachmentKind, code) for code in scheme.required_attachments],
    )


def _with_granted(pages: list[CallPage], now: datetime) -> None:
    closed = {page.call.pk: page for page in pages if page.state == CLOSED}
    if not closed:
        return
    for project in selectors.granted_projects(call_ids=closed.keys(), at=now):
        closed[project.call_id].granted.append(project)


def apply_url(request, call: Call) -> str | None:
    """Where "apply" leads: the new-application form for this call, through the login
    page for an anonymous visitor; nothing for staff or when the call is not open."""
    create = f"{reverse('bidrag:application_create')}?{urlencode({'utlysning': call.pk})}"
    if not request.user.is_authenticated:
        return f"{reverse('login')}?{urlencode({'next': create})}"
    if is_staff_reader(request.user):
        return None
    return create


@require_safe
def home(request):
    if request.user.is_authenticated:
        # Logged-in people land where their work is; the public start page is for visitors.
        if is_auditor_only(request.user):
            return redirect("workflows:decision_log")  # the auditor's landing page (issue 9)
        if is_staff_reader(request.user):
            return redirect("workflows:queue")
        return redirect("bidrag:application_list")
    now = timezone.now()
    pages = [_page(call, now) for call in selectors.public_calls()]
    _with_granted(pages, now)
    by_state: dict[str, list[CallPage]] = {OPEN: [], UPCOMING: [], CLOSED: []}
    for page in pages:
        by_state[page.state].append(page)
    by_state[UPCOMING].sort(key=lambda p: p.call.opens_at)
    by_state[CLOSED].sort(key=lambda p: p.call.closes_at, reverse=True)
    return render(
        request,
        "public/home.html",
        {"open_calls": by_state[OPEN], "upcoming_calls": by_state[UPCOMING], "closed_calls": by_state[CLOSED]},
    )


@require_safe
def call_detail(request, call_id):
    now = timezone.now()
    page = _page(selectors.public_call_get(call_id=call_id), now)
    _with_granted([page], now)
    return render(
        request,
        "public/call_detail.html",
        {"page": page, "call": page.call, "apply_url": apply_url(request, page.call) if page.state == OPEN else None},
    )
