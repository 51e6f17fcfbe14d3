"""The queues (issue 7): a role's tasks by kind (all, unassigned, mine, overdue, waiting for
the applicant), filtered, searched and sorted, paged by keyset; a team lead assigns from
them. Thin: parse, call the selectors (and workflows.door for assignments), render."""

import uuid

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from arenden.errors import ServiceError
from arenden.http import report_error
from arenden.keyset import keyset_page
from bidrag.models import Application
from bidrag.roles import Role, is_auditor_only, is_staff_reader, user_roles

from . import door, selectors
from .list_tables import TO_QUEUE  # an assignment select's value: "<application id>|<node>|<user id>" or "…|kon"
from .queue_forms import KIND_LABELS, QueueFilterForm
from .views import COUNT_LIMIT, PAGE_SIZES, _page_size, _total

KIND_PARAM = "vy"


@login_required
def queue(request):
    roles = selectors.queue_roles(actor=request.user)
    if not roles:
        if is_auditor_only(request.user):
            return redirect("workflows:decision_log")  # an auditor's way in (issue 9)
        if is_staff_reader(request.user):
            return redirect("workflows:case_list")
        raise Http404
    role = next((r for r in roles if r.value == request.GET.get("ko")), roles[0])
    kinds = selectors.queue_kinds(actor=request.user, role=role)
    kind = next((k for k in kinds if k.value == request.GET.get(KIND_PARAM)), kinds[0])
    form = QueueFilterForm(request.GET)
    form.is_valid()
    query = selectors.queue_query(actor=request.user, role=role, kind=kind, queue_filter=form.queue_filter(),
                                  sort=form.sort())
    per_page = _page_size(request)
    page = keyset_page(selectors.queue_page_entries(query), ordering=query.ordering, params=request.GET, size=per_page,
                       any_of=query.any_of)
    counts = selectors.queue_kind_counts(actor=request.user, role=role, limit=COUNT_LIMIT)
    # The heading counts what the filter lets through; unfiltered, that is the tab's count.
    total = selectors.queue_total(query, limit=COUNT_LIMIT) if query.narrowed else counts[kind]
    rows = selectors.queue_rows(page.rows)
    is_team_lead = Role.TEAM_LEAD in user_roles(request.user)
    if is_team_lead:
        options = selectors.assignees(actor=request.user, role=role, rows=rows)
        for row in rows:
            row["assignees"] = options.get(row["task"].pk)
    return render(
        request,
        "workflows/queue.html",
        {
            "roles": roles, "role": role, "kind": kind, "page": page, "rows": rows, "is_team_lead": is_team_lead,
            "kinds": [{"kind": k, "label": KIND_LABELS[k], **_total(counts[k])} for k in kinds],
            "kind_label": KIND_LABELS[kind], "form": form, "per_page": per_page,
            "page_sizes": PAGE_SIZES, **_total(total),
        },
    )




@login_required
@require_POST
def queue_assign(request):
    """A team lead's assignments from a queue page, all or nothing (workflows.door.assign_many):
    each row's select names whom its task goes to; a refusal names its row."""
    if not is_staff_reader(request.user):
        raise Http404
    back = request.POST.get("tillbaka", "")
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("workflows:queue")
    chosen = []
    for value in request.POST.getlist("tilldela"):
        parts = value.split("|")
        if len(parts) != 3 or not parts[2]:
            continue  # "oförändrad"
        try:
            application_id = uuid.UUID(parts[0])
            person = None if parts[2] == TO_QUEUE else int(parts[2])
        except ValueError:
            continue
        chosen.append((application_id, parts[1], person))
    if not chosen:
        messages.info(request, _("Inga tilldelningar att spara."))
        return redirect(back)
    people = get_user_model().objects.in_bulk([p for _a, _n, p in chosen if p is not None])
    missing = object()
    assignments = [(a, n, None if p is None else people.get(p, missing)) for a, n, p in chosen]
    if any(person is missing for _a, _n, person in assignments):
        messages.error(request, _("Personen finns inte längre. Ladda om sidan."))
        return redirect(back)
    try:
        door.assign_many(actor=request.user, assignments=assignments)
    except ServiceError as error:
        report_error(request, error)
        numbers = dict(Application.objects.filter(pk__in=[row["application_id"] for row in error.details.get("rows", [])])
                       .values_list("pk", "case__diarienummer"))
        for row in error.details.get("rows", []):
            messages.error(request, f"{numbers.get(row['application_id']) or ''}: {row['message']}")
        return redirect(back)
    messages.success(request, ngettext("%(count)d uppgift fördelad.", "%(count)d uppgifter fördelade.",
                                       len(assignments)) % {"count": len(assignments)})
    return redirect(back)
