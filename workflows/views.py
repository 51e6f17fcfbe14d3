"""Every page that moves an application from one state to another, plus the queues and
the case page. Thin: parse, call workflows.actions (which calls the services), render."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_http_methods, require_POST

from arenden.errors import ServiceError
from arenden.http import report_error
from arenden.services import conflict_declare
from bidrag import selectors as bidrag_selectors
from bidrag.models.application import WITHDRAWABLE, Status
from bidrag.roles import Role, is_staff_reader, user_roles
from bidrag.services.applications import submission_problems

from . import actions, selectors
from .forms import WithdrawForm

PAGE_SIZES = (25, 100)


class TaskView(View):
    """viewflow's View node wants a view; our case pages drive the tasks through task_action."""


def _staff_application(request, application_id):
    if not is_staff_reader(request.user):
        raise Http404
    return bidrag_selectors.application_get(actor=request.user, application_id=application_id)


def _page_size(request) -> int:
    try:
        per_page = int(request.GET.get("antal", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]


@login_required
def queue(request):
    roles = selectors.queue_roles(actor=request.user)
    if not roles:
        if is_staff_reader(request.user):
            return redirect("workflows:case_list")
        raise Http404
    requested = request.GET.get("ko")
    role = next((r for r in roles if r.value == requested), roles[0])
    per_page = _page_size(request)
    paginator = Paginator(selectors.queue_tasks(actor=request.user, role=role), per_page)
    page = paginator.get_page(request.GET.get("sida"))
    rows = [{"task": task, "application": selectors.task_application(task)} for task in page]
    return render(
        request,
        "workflows/queue.html",
        {"roles": roles, "role": role, "page": page, "rows": rows, "per_page": per_page, "page_sizes": PAGE_SIZES},
    )


@login_required
def case_list(request):
    """Every submitted case, for staff readers (the auditor's way in): filter and search."""
    if not is_staff_reader(request.user):
        raise Http404
    status = request.GET.get("status", "")
    query = request.GET.get("q", "").strip()
    cases = bidrag_selectors.application_list(actor=request.user).exclude(status=Status.DRAFT)
    if status in Status.values:
        cases = cases.filter(status=status)
    if query:
        cases = cases.filter(Q(case__diarienummer__icontains=query) | Q(organisation__name__icontains=query) | Q(title__icontains=query))
    per_page = _page_size(request)
    page = Paginator(cases, per_page).get_page(request.GET.get("sida"))
    return render(
        request,
        "workflows/case_list.html",
        {
            "page": page,
            "status": status,
            "q": query,
            "statuses": [s for s in Status if s != Status.DRAFT],
            "per_page": per_page,
            "page_sizes": PAGE_SIZES,
        },
    )


@login_required
def case_detail(request, application_id):
    application = _staff_application(request, application_id)
    case = application.case
    tasks = list(actions.active_tasks(application))
    return render(
        request,
        "workflows/case_detail.html",
        {
            "application": application,
            "case": case,
            "budget_lines": application.budget_lines.all(),
            "attachments": case.attachments.select_related("uploaded_by"),
            "diarium": case.diarium_entries.all(),
            "journal": case.journal.select_related("actor").order_by("seq"),
            "tasks": tasks,
            "claimable": {
                t.pk for t in tasks if t.flow_task_type == "HUMAN" and request.user.has_perm(t.owner_permission)
            },
            "actions": selectors.staff_actions(actor=request.user, application=application),
            "proposals": application.proposals.select_related("proposed_by"),
            "decisions": application.decisions.select_related("decided_by", "presented_by"),
            "disbursements": application.disbursements.select_related("prepared_by", "attested_by", "paid_by"),
            "reports": application.reports.all(),
            "repayments": application.repayments.all(),
            "conflicts": case.conflicts.select_related("user"),
            "is_auditor": Role.AUDITOR in user_roles(request.user),
        },
    )


@login_required
def application_detail(request, application_id):
    """The applicant's view of their application: status, decisions, what is asked of them."""
    application = bidrag_selectors.application_for_member(actor=request.user, application_id=application_id)
    return render(
        request,
        "workflows/application_detail.html",
        {
            "application": application,
            "budget_lines": application.budget_lines.all(),
            "attachments": application.case.attachments.all(),
            "decisions": application.decisions.select_related("decided_by", "presented_by"),
            "reports": application.reports.all(),
            "diarium": application.case.diarium_entries.all(),
            "is_signatory": bidrag_selectors.is_signatory(actor=request.user, application=application),
            "problems": submission_problems(application) if application.status == Status.DRAFT else [],
            "actions": selectors.applicant_actions(actor=request.user, application=application),
            "can_withdraw": application.status in WITHDRAWABLE,
        },
    )


def _after_action_url(request, application):
    if is_staff_reader(request.user) and not bidrag_selectors.is_member(actor=request.user, application=application):
        return redirect("workflows:case_detail", application_id=application.pk)
    return redirect("workflows:application_detail", application_id=application.pk)


@login_required
@require_http_methods(["GET", "POST"])
def task_action(request, application_id, node, action):
    application = bidrag_selectors.application_get(actor=request.user, application_id=application_id)
    spec = actions.find_action(node, action)
    if spec is None:
        raise Http404
    if spec.applicant:
        bidrag_selectors.application_for_member(actor=request.user, application_id=application_id)
    elif not is_staff_reader(request.user):
        raise Http404
    posted = request.method == "POST"
    form = spec.form(request.POST if posted else None, request.FILES if posted else None) if spec.form else None
    status = 200
    if request.method == "POST":
        if form is None or form.is_valid():
            try:
                actions.task_perform(
                    actor=request.user,
                    application=application,
                    node=node,
                    action=action,
                    data=form.cleaned_data if form else {},
                )
            except ServiceError as error:
                status = report_error(request, error)
            else:
                messages.success(request, _("Klart: %(action)s.") % {"action": spec.label})
                return _after_action_url(request, application)
        else:
            status = 400
    return render(
        request,
        "workflows/task_action.html",
        {"application": application, "spec": spec, "node": node, "form": form},
        status=status,
    )


@login_required
@require_POST
def task_claim(request, application_id, node):
    application = _staff_application(request, application_id)
    release = request.POST.get("release") == "1"
    try:
        if release:
            actions.task_release(actor=request.user, application=application, node=node)
        else:
            actions.task_claim(actor=request.user, application=application, node=node)
    except ServiceError as error:
        report_error(request, error)
    else:
        messages.success(request, _("Uppgiften är lämnad tillbaka till kön.") if release else _("Du har tagit uppgiften."))
    return redirect("workflows:case_detail", application_id=application.pk)


@login_required
@require_POST
def declare_conflict(request, application_id):
    application = _staff_application(request, application_id)
    try:
        conflict_declare(actor=request.user, case=application.case, reason=request.POST.get("reason", ""))
    except ServiceError as error:
        report_error(request, error)
    else:
        messages.success(request, _("Jävsanmälan är registrerad. Du kan inte längre delta i ärendet."))
    return redirect("workflows:case_detail", application_id=application.pk)


@login_required
@require_http_methods(["GET", "POST"])
def submit(request, application_id):
    application = bidrag_selectors.application_for_member(actor=request.user, application_id=application_id)
    status = 200
    if request.method == "POST":
        try:
            actions.application_submit_and_start(
                actor=request.user, application=application, idempotency_key=request.POST.get("idempotency_key", "")[:64]
            )
        except ServiceError as error:
            status = report_error(request, error)
        else:
            messages.success(request, _("Ansökan är inskickad. En mottagningsbekräftelse skickas med e-post."))
            return redirect("workflows:application_detail", application_id=application.pk)
    application.refresh_from_db()
    return render(
        request,
        "workflows/submit.html",
        {
            "application": application,
            "problems": submission_problems(application) if application.status == Status.DRAFT else [],
            "is_signatory": bidrag_selectors.is_signatory(actor=request.user, application=application),
            "idempotency_key": uuid.uuid4().hex,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request, application_id):
    application = bidrag_selectors.application_for_member(actor=request.user, application_id=application_id)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.application_withdraw_and_cancel(
                    actor=request.user, application=application, reason=form.cleaned_data["reason"]
                )
            except ServiceError as error:
                status = report_error(request, error)
            else:
                messages.success(request, _("Ansökan är återkallad."))
                return redirect("workflows:application_detail", application_id=application.pk)
        else:
            status = 400
    return render(request, "workflows/withdraw.html", {"application": application, "form": form}, status=status)
