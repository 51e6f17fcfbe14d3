"""Template helpers for Bidragsportalen's pages: money, status badges, labels for codes.

Load with `{% load bidrag_tags %}`. Filters never query the database: they only read
what the view already fetched.
"""

from django import template
from django.conf import settings
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from arenden import formatting
from arenden.services import ALLOWED_TYPES
from bidrag.models.application import AttachmentKind, Status
from bidrag.roles import ROLE_LABELS, user_roles
from bidrag.roles import is_staff_reader as _is_staff_reader

register = template.Library()

# Badge modifiers: the badge always carries the status text, colour is only a second cue.
_STATUS_CLASSES = {
    Status.DRAFT: "badge--draft",
    Status.SUBMITTED: "badge--info",
    Status.IN_REVIEW: "badge--info",
    Status.IN_ASSESSMENT: "badge--info",
    Status.DECISION_PROPOSED: "badge--info",
    Status.REPORT_REVIEW: "badge--info",
    Status.AWAITING_SUPPLEMENT: "badge--action",
    Status.AWAITING_COMMENTS: "badge--action",
    Status.REPAYMENT_CLAIMED: "badge--action",
    Status.GRANTED: "badge--success",
    Status.IN_PROGRESS: "badge--success",
    Status.CLOSED: "badge--closed",
    Status.REJECTED: "badge--negative",
    Status.DISMISSED: "badge--negative",
    Status.WITHDRAWN: "badge--closed",
}

_ATTACHMENT_KIND_LABELS = dict(AttachmentKind.choices)



@register.filter
def sek(value):
    """An amount in kronor: "1 234 567 kr" ("SEK 1,234,567" in English); arenden.formatting.money."""
    return formatting.money(value)


@register.filter
def megabytes(value):
    """A size in bytes as MB: "21,2 MB"."""
    if value in (None, ""):
        return ""
    return formatting.megabytes(int(value))


@register.filter
def day(value):
    """A date in long form: "21 februari 2027"."""
    return formatting.day(value)


@register.filter
def iso_day(value):
    """A date as "2027-02-21"."""
    return formatting.iso_day(value)


@register.filter
def moment(value):
    """A point in time: "21 februari 2027 kl. 23.59"."""
    return formatting.moment(value)


@register.filter
def status_class(value):
    """CSS modifier for an application's status badge; takes an application or a status."""
    status = getattr(value, "status", value)
    return _STATUS_CLASSES.get(status, "badge--draft")


@register.filter
def status_label(value):
    """The label of an application status code ("in_review" → "Under granskning")."""
    if not value:
        return ""
    try:
        return Status(value).label
    except ValueError:
        return value


@register.filter
def role_label(value):
    """The label of a role ("handlaggare" → "Handläggare"); a list gives a comma-joined string."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(role_label(v)) for v in value)
    return ROLE_LABELS.get(value, value)


@register.filter
def attachment_kind(value):
    """The label of an attachment kind code ("atgardsplan" → "Åtgärdsplan")."""
    return _ATTACHMENT_KIND_LABELS.get(value, value)


@register.filter
def is_staff_reader(user):
    """True for Brå staff (any of the staff role groups)."""
    return _is_staff_reader(user)


@register.filter
def holds_role(user, role: str) -> bool:
    """True when the user holds the role (a group name, "registrator"): read from the role
    names already cached for the request, where `perms` would load every permission (two
    queries on every page)."""
    return role in user_roles(user)


@register.filter
def node_name(task):
    """The flow node name of a viewflow task ("review"), for task URLs."""
    flow_task = getattr(task, "flow_task", None)
    return getattr(flow_task, "name", "") if flow_task is not None else ""


@register.filter
def display_name(user):
    """A person's full name, or the username when no name is recorded."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def short_hash(value, length=12):
    return (value or "")[: int(length)]


@register.simple_tag
def attachment_max_bytes():
    return settings.ATTACHMENT_MAX_BYTES


@register.simple_tag
def attachment_extensions():
    """The accepted file name endings, for the upload form's help text: ".csv, .docx, …"."""
    return ", ".join(sorted(ALLOWED_TYPES))


@register.simple_tag
def attachment_accept():
    """Value for the file input's accept attribute."""
    return ",".join(sorted(ALLOWED_TYPES))


@register.simple_tag
def select_options(field):
    """A choice field's <option> elements, built in Python: a person who represents 290
    municipalities gets 290 of them, which the template engine renders ten times slower."""
    current = "" if field.value() is None else str(field.value())
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, mark_safe(" selected") if str(value) == current else "", label)
         for value, label in field.field.choices),
    )


@register.filter
def per_year(budget_lines):
    """[(year, total)] of a budget whose lines name their year (a project over several
    calendar years); [] otherwise. Reads the lines the view fetched, no query."""
    lines = list(budget_lines or [])
    if not any(getattr(line, "year", None) for line in lines):
        return []
    totals: dict = {}
    for line in lines:
        totals[line.year] = totals.get(line.year, 0) + line.amount
    return sorted(totals.items(), key=lambda item: (item[0] is None, item[0] or 0))


@register.simple_tag
def appeal_notice(scheme=None):
    """How to appeal a decision under ``scheme``, in the page's language (bidrag.letters)."""
    from bidrag.letters import appeal_notice as notice

    return notice(scheme)


@register.filter
def action_label(value):
    """A journal event's code in words ("mark_paid" → "Utbetalning gjord")."""
    from bidrag.events import action_label as label

    return label(value or "")


@register.filter
def journal_sentence(event):
    """A journal event as a sentence ("Ekonomi2 registrerade utbetalning 385 000 kr")."""
    from bidrag.events import journal_sentence as sentence

    return sentence(event)
