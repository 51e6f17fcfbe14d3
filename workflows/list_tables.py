"""The bodies of the two big staff tables, the queue and all cases, written in Python
(issue 7: at most 50 ms a page at 100 000 applications). The template engine spent about
half a millisecond a row resolving variables, translating and formatting; here each label
is translated once a page and each cell is one escape, so 100 rows cost little more than
25. The markup is the templates' old row markup; tests/workflows/test_list_tables.py reads it."""

from __future__ import annotations

import uuid
from html import escape

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from arenden.formatting import money
from bidrag.models.application import Status
from bidrag.templatetags.bidrag_tags import display_name, status_class

from .queue_entries import NO_DEADLINE, NOT_RECEIVED

_PLACEHOLDER = uuid.UUID(int=0)
DAY = "%Y-%m-%d"  # SHORT_DATE_FORMAT in both languages (config/formats)
TO_QUEUE = "kon"  # the assignment select's value for "back to the queue" (queue_views.queue_assign)


def queue_table_body(rows: list[dict], *, is_team_lead: bool) -> SafeString:
    """The <tr> of every row of a queue page (queue_views.queue builds `rows`)."""
    case_url = reverse("workflows:case_detail", args=[_PLACEHOLDER])
    placeholder = str(_PLACEHOLDER)
    none = f'<span class="muted">{escape(_("Ingen"))}</span>'
    unregistered = escape(_("Ej diariefört"))
    reasons = {"long": _("Länge i kön"), "fl11": _("Risk för försening (11 § FL)"),
               "fl12": _("Begäran om avgörande (12 § FL)")}
    reason_notes = {key: f'<span class="cell-note">{escape(label)}</span>' for key, label in reasons.items()}
    unchanged = escape(_("Oförändrad"))
    back_to_queue = escape(_("Tillbaka till kön"))
    waiting = f'<span class="muted">{escape(_("Väntar på sökanden"))}</span>'
    assign_to = _("Tilldela %(number)s till")
    here = timezone.get_current_timezone()
    language = get_language()
    titles: dict = {}  # a step's title, translated once a page
    out: list[str] = []
    for row in rows:
        entry, task, application = row["entry"], row["task"], row["application"]
        number = application["diarienummer"]
        received = "" if entry.received == NOT_RECEIVED else entry.received.astimezone(here).strftime(DAY)
        deadline = none if entry.deadline == NO_DEADLINE else entry.deadline.strftime(DAY)
        node = task.flow_task
        if node not in titles:
            titles[node] = escape(str(task.title or ""))
        owner = escape(display_name(task.owner)) if task.owner_id else none
        out.append(
            f'<tr><th scope="row"><a href="{case_url.replace(placeholder, str(application["pk"]))}">'
            f'{escape(number) if number else unregistered}</a></th>'
            f'<td>{escape(application["organisation_name"])}<span class="cell-note">{escape(application["title"])}</span></td>'
            f"<td>{titles[node]}</td>"
            f"<td>{received}</td>"
            f'<td>{entry.created.astimezone(here).strftime(DAY)}{"".join(reason_notes[why] for why in row["overdue"])}</td>'
            f"<td>{deadline}</td>"
            f'<td class="num">{escape(money(entry.requested, language=language))}</td>'
            f"<td>{owner}</td>"
        )
        if is_team_lead:
            out.append(_assign_cell(row, task, application, number or "", assign_to, unchanged, back_to_queue, waiting))
        out.append("</tr>")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def _assign_cell(row, task, application, number, assign_to, unchanged, back_to_queue, waiting) -> str:
    assignees = row.get("assignees")
    if assignees is None:
        return f"<td>{waiting}</td>"
    node = task.flow_task.name if task.flow_task else ""
    value = escape(f"{application['pk']}|{node}|")
    options = [f'<option value="">{unchanged}</option>']
    options += [f'<option value="{value}{person.pk}">{escape(display_name(person))}</option>'
                for person in assignees if person.pk != task.owner_id]
    if task.owner_id:
        options.append(f'<option value="{value}{TO_QUEUE}">{back_to_queue}</option>')
    return (f'<td><label class="visually-hidden" for="tilldela-{task.pk}">{escape(assign_to % {"number": number})}</label>'
            f'<select name="tilldela" id="tilldela-{task.pk}">{"".join(options)}</select></td>')


def case_table_body(applications) -> SafeString:
    """The <tr> of every row of the all-cases page (bidrag.selectors.staff_case_rows)."""
    case_url = reverse("workflows:case_detail", args=[_PLACEHOLDER])
    placeholder = str(_PLACEHOLDER)
    unregistered = escape(_("Ej diariefört"))
    here = timezone.get_current_timezone()
    language = get_language()
    badges = {status.value: f'<span class="badge {status_class(status.value)}">{escape(str(status.label))}</span>'
              for status in Status}
    out: list[str] = []
    for application in applications:
        number = application.case.diarienummer if application.case_id else None
        submitted = application.submitted_at.astimezone(here).strftime(DAY) if application.submitted_at else ""
        out.append(
            f'<tr><th scope="row"><a href="{case_url.replace(placeholder, str(application.pk))}">'
            f"{escape(number) if number else unregistered}</a></th>"
            f"<td>{escape(application.organisation.name)}</td>"
            f"<td>{escape(application.title)}</td>"
            f"<td>{badges.get(application.status, escape(application.status))}</td>"
            f"<td>{submitted}</td>"
            f'<td class="num">{escape(money(application.requested_total, language=language))}</td></tr>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
