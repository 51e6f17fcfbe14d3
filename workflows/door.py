"""The one door every state change of an application goes through (DESIGN.md §3).

A signatory's submission, a case officer's proposal, a decision, the deadline clock: each
is `act(actor=…, application_id=…, node=…, action=…, data=…)`. In one transaction it

1. locks in the fixed order of bidrag.locks: the application, its case, its open tasks;
2. applies the policy (workflows.policy: roles, claims, jäv, four eyes, read-only roles);
3. calls the action's service, which changes the domain, journals and writes the outbox;
4. completes the task and lets the flow create the next one; closes the case when the
   application has reached a final state.

Files arriving with an action are stored in S3 before any lock is taken, and removed again
if the action fails. A refusal changes nothing: no state, no event, no task.
"""

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.status import PROCESS, STATUS

from arenden.actors import Actor
from arenden.errors import Conflict, NotAllowed, NotFound, TransitionNotAllowed
from arenden.journal import journal_append
from arenden.models import ConflictOfInterest
from arenden.services import case_close, case_reopen, conflict_declare, conflict_rule
from arenden.storage import upload_discard, upload_store
from bidrag.events import Event
from bidrag.locks import lock_application, lock_case, lock_tasks
from bidrag.models import Application
from bidrag.models.application import FINAL, Status
from bidrag.roles import is_staff_reader
from bidrag.services.common import door_open

from . import policy
from .flows import ApplicationFlow
from .models import ApplicationProcess
from .queue_entries import queue_sync
from .steps import Action, Start, transition_targets

CLOSING_TEXT = {
    Status.DISMISSED: "Ärendet avslutat: ansökan avvisad",
    Status.REJECTED: "Ärendet avslutat: ansökan avslagen",
    Status.CLOSED: "Ärendet avslutat",
    Status.WITHDRAWN: "Ärendet avslutat: ansökan återkallad",
}
REOPENING_TEXT = "Ärendet återupptaget: beslutet omprövas (37 § förvaltningslagen)"


class FlowMismatch(RuntimeError):
    """A service moved the status in a way its action does not declare: a programming error."""


def nodes():
    """The flow's nodes that declare actions, by name."""
    return {node.name: node for node in ApplicationFlow.instance.nodes() if getattr(node, "actions", ())}


def find(node_name: str | None, action_name: str) -> tuple[object | None, Action | None]:
    """The node and action named; node None for the process-wide actions (withdraw)."""
    if node_name is None:
        return None, next((a for a in ApplicationFlow.process_actions if a.name == action_name), None)
    node = nodes().get(node_name)
    return node, (node.action(action_name) if node is not None else None)


def _task_at(tasks, node_name: str):
    return next((t for t in tasks if t.flow_task is not None and t.flow_task.name == node_name), None)


def _store_uploads(actor, application_id, spec: Action, data: dict) -> dict:
    """Store uploaded files before any lock (no network I/O under a row lock), and only
    for someone the policy would let through (checked again under the lock)."""
    files = {key: value for key, value in data.items() if isinstance(value, UploadedFile)}
    if not files:
        return {}
    application = Application.objects.select_related("case").get(pk=application_id)
    policy.check(actor=actor, application=application, action=spec)
    return {key: upload_store(case_id=application.case_id, uploaded_file=value) for key, value in files.items()}


def act(*, actor: Actor | None, application_id, node: str | None, action: str, data: dict | None = None):
    """Take one action. Returns what the service returned."""
    data = dict(data or {})
    flow_node, spec = find(node, action)
    if spec is None:
        raise NotAllowed(_("Okänd åtgärd."))
    stored = _store_uploads(actor, application_id, spec, data)
    data.update(stored)
    try:
        with transaction.atomic():
            application = lock_application(application_id)
            application.case = lock_case(application.case_id)
            tasks = lock_tasks(application.pk)
            task = None
            if flow_node is not None and not isinstance(flow_node, Start):
                task = _task_at(tasks, node)
                if task is None:
                    # Policy first where it can be told without the task: a refusal must not
                    # reveal more than "not yours" to someone who may not act at all.
                    policy.check(actor=actor, application=application, action=spec)
                    raise TransitionNotAllowed(_("Uppgiften är redan utförd eller finns inte längre. Ladda om sidan."))
            policy.check(actor=actor, application=application, action=spec, task=task)
            if isinstance(flow_node, Start) and not ApplicationProcess.objects.filter(application=application).exists():
                # The process first, the service after: a submission ends with the diarienummer,
                # whose serial row is the lock every submission of the year queues on.
                ApplicationFlow.start.run(application=application)
            before = application.status
            with door_open():
                result = spec.perform(actor, application, data)
            after = Application.objects.values_list("status", flat=True).get(pk=application.pk)
            _check_declared(spec, before, after)
            if flow_node is None and spec.opens:
                _open(application, spec.opens)
                _keep_with_its_handler(actor, application)
            elif flow_node is None:
                _cancel_process(application, tasks)
            elif not isinstance(flow_node, Start):
                _complete(task, actor)
                _keep_with_its_handler(actor, application)
            _case_follows(actor, application, after)
            queue_sync(application.pk)
            return result
    except BaseException:
        for upload in stored.values():
            upload_discard(upload)
        raise


def _check_declared(spec: Action, before: str, after: str) -> None:
    if before == after:
        return
    for name in spec.application_transitions:
        if after in transition_targets(Application, name, before):
            return
    raise FlowMismatch(
        f"action {spec.name} moved {before} → {after}, which none of {spec.application_transitions} declares"
    )


def _complete(task, actor) -> None:
    activation = task.flow_task.activation_class(task)
    if task.flow_task_type == "HUMAN":
        if task.status == STATUS.NEW:
            activation.assign(actor)
        if activation.start.can_proceed():
            activation.start(None)
        activation.execute()
    else:  # a Wait: completed by the applicant, a case officer or the clock
        activation.run(None)
        activation.execute()


def _keep_with_its_handler(actor, application: Application) -> None:
    """The case stays with the person handling it (issue 7): each task a staff member's step
    opens goes to them, and the task an applicant's answer (or the clock) opens goes to
    whoever last held a task on the case (the case officer who asked), if the policy lets
    them take every action there (their role, jäv, four eyes); otherwise it waits in the
    queue. Inside the caller's transaction, under its locks."""
    from viewflow.workflow.models import Task

    opened = [t for t in lock_tasks(application.pk) if t.status == STATUS.NEW and t.flow_task_type == "HUMAN"]
    if not opened:
        return
    previous = (
        Task.objects.filter(process__applicationprocess__application_id=application.pk, flow_task_type="HUMAN",
                            owner__isnull=False)
        .exclude(pk__in=[t.pk for t in opened]).select_related("owner").order_by("-created", "-pk")
    )
    if actor is not None and is_staff_reader(actor):
        people = [actor]
    else:  # the applicant answered, or the clock ran out: back to the one who asked
        last = previous.first()
        people = [last.owner] if last is not None else []
    by_name = nodes()
    for task in opened:
        node = by_name.get(task.flow_task.name)
        if node is None or any(a.is_applicant_action for a in node.actions):
            continue  # a step the applicant takes waits for them, in no one's hands at Brå
        for person in people:
            try:
                policy.check_claim(actor=person, application=application, node=node, task=task)
            except NotAllowed:
                continue
            # Only to someone who may take every action there: a task whose main action four
            # eyes deny them (pay after attesting, decide after proposing) is for someone else.
            if not all(policy.may_take(actor=person, application=application, action=a) for a in node.actions):
                continue
            task.flow_task.activation_class(task).assign(person)
            break


def _case_follows(actor, application: Application, status: str) -> None:
    """A case is open while something is expected on it: closed once its application is in a
    final state with no task open, taken up again when a task opens on it after it was
    closed (a decision reconsidered, FL 37 §)."""
    open_tasks = lock_tasks(application.pk)
    if status in FINAL and not open_tasks:
        case_close(actor=actor, case=application.case, description=CLOSING_TEXT[status])
    elif open_tasks and application.case.closed_at is not None:
        case_reopen(actor=actor, case=application.case, description=REOPENING_TEXT)


def _open(application: Application, node_name: str) -> None:
    """Open the step `node_name` beside whatever else the process expects, and in a process
    that had ended, which is then running again (as viewflow's own End.undo reopens one).
    Inside the caller's transaction, under its locks."""
    from viewflow.workflow.models import Task

    node = nodes()[node_name]
    process = ApplicationProcess.objects.select_for_update(of=("self",)).get(application=application)
    if Task.objects.filter(process=process, flow_task=node, finished__isnull=True).exists():
        raise Conflict(_("Steget ”%(step)s” är redan öppet i ärendet.") % {"step": node.task_title})
    last = Task.objects.filter(process=process).order_by("-created", "-pk").first()
    if process.status != PROCESS.NEW:
        process.status, process.finished = PROCESS.NEW, None
        process.save(update_fields=["status", "finished"])
    activation = node.activation_class.create(node, last.flow_task.activation_class(last), last.token)
    activation.activate()


def _cancel_process(application: Application, tasks) -> None:
    """After a withdrawal: nothing is expected of anyone any more."""
    process = ApplicationProcess.objects.filter(application=application).first()
    if process is None:
        return
    now = timezone.now()
    for task in tasks:
        task.status, task.finished = STATUS.CANCELED, now
        task.save(update_fields=["status", "finished"])
    process.status, process.finished = PROCESS.CANCELED, now
    process.save(update_fields=["status", "finished"])


def claim(*, actor: Actor, application_id, node: str) -> None:
    """Take a task from the queue."""
    flow_node = nodes().get(node)
    with transaction.atomic():
        application = lock_application(application_id)
        lock_case(application.case_id)
        task = _task_at(lock_tasks(application.pk), node) if flow_node else None
        if task is None:
            raise TransitionNotAllowed(_("Uppgiften är redan utförd eller finns inte längre. Ladda om sidan."))
        policy.check_claim(actor=actor, application=application, node=flow_node, task=task)
        if task.status != STATUS.NEW:
            raise Conflict(_("Uppgiften har redan tagits av någon annan."))
        task.flow_task.activation_class(task).assign(actor)
        journal_append(actor=actor, case=application.case, action=Event.CLAIM_TASK,
                       payload={"node": node, "task": str(flow_node.task_title or node)})
        queue_sync(application.pk)


def release(*, actor: Actor, application_id, node: str) -> None:
    """Give a task one has taken back to the queue."""
    with transaction.atomic():
        application = lock_application(application_id)
        lock_case(application.case_id)
        task = _task_at(lock_tasks(application.pk), node)
        if task is None:
            raise TransitionNotAllowed(_("Uppgiften är redan utförd eller finns inte längre. Ladda om sidan."))
        if task.owner_id != actor.pk:
            raise NotAllowed(_("Du kan bara lämna tillbaka dina egna uppgifter."))
        task.flow_task.activation_class(task).unassign()
        flow_node = nodes().get(node)
        journal_append(actor=actor, case=application.case, action=Event.RELEASE_TASK,
                       payload={"node": node, "task": str(flow_node.task_title if flow_node else node)})
        queue_sync(application.pk)


def assign(*, actor: Actor, application_id, node: str, to_user) -> None:
    """A team lead hands the task at `node` to `to_user` (assign or reassign), or back to the
    queue (to_user None); journaled. In one transaction, under the door's locks."""
    with transaction.atomic():
        _assign_locked(actor=actor, application_id=application_id, node=node, to_user=to_user)


def assign_many(*, actor: Actor, assignments) -> int:
    """Bulk assignment, all or nothing: each (application_id, node, to_user) is checked as
    `assign` checks it; if any is refused, none is made and NotAllowed names every refused
    row in details["rows"] ({application_id, node, message}). Locked application by
    application in one fixed order (by id), so two bulk assignments never deadlock."""
    refused = []
    with transaction.atomic():
        for application_id, node, to_user in sorted(assignments, key=lambda item: str(item[0])):
            try:
                with transaction.atomic():
                    _assign_locked(actor=actor, application_id=application_id, node=node, to_user=to_user)
            except (NotAllowed, TransitionNotAllowed, Conflict) as error:
                refused.append({"application_id": application_id, "node": node, "message": str(error.message)})
        if refused:
            raise NotAllowed(_("Ingen uppgift fördelades: rätta raderna nedan och försök igen."),
                             details={"rows": refused})
    return len(assignments)


def _assign_locked(*, actor: Actor, application_id, node: str, to_user) -> None:
    flow_node = nodes().get(node)
    application = lock_application(application_id)
    application.case = lock_case(application.case_id)
    task = _task_at(lock_tasks(application.pk), node) if flow_node else None
    if task is None:
        raise TransitionNotAllowed(_("Uppgiften är redan utförd eller finns inte längre. Ladda om sidan."))
    policy.check_assign(actor=actor, application=application, node=flow_node, task=task, to_user=to_user)
    previous = task.owner
    if (to_user.pk if to_user is not None else None) == task.owner_id:
        return  # already so: nothing to change, nothing to journal
    activation = task.flow_task.activation_class(task)
    if task.owner_id:
        activation.unassign()
    if to_user is not None:
        activation.assign(to_user)
    journal_append(
        actor=actor, case=application.case, action=Event.ASSIGN_TASK if to_user is not None else Event.UNASSIGN_TASK,
        payload={"node": node, "task": str(flow_node.task_title or node),
                 "to": _person(to_user), "from": _person(previous)},
    )
    queue_sync(application.pk)


def _person(user) -> dict | None:
    return None if user is None else {"id": user.pk, "name": user.get_full_name() or user.get_username()}


def release_all_of(*, user, application: Application) -> None:
    """Unassign the user's tasks on the case (after a declared jäv); inside the caller's lock."""
    for task in lock_tasks(application.pk):
        if task.owner_id == user.pk:
            task.flow_task.activation_class(task).unassign()
    queue_sync(application.pk)


def deadlines_run() -> int:
    """The clock: waiting steps whose deadline passed go back to the case officer."""
    passed = 0
    overdue = Application.objects.filter(
        status__in=[Status.AWAITING_SUPPLEMENT, Status.AWAITING_COMMENTS], deadline__lt=timezone.localdate()
    ).values_list("pk", "status")
    for pk, status in list(overdue):
        node = "await_supplement" if status == Status.AWAITING_SUPPLEMENT else "await_comments"
        try:
            act(actor=None, application_id=pk, node=node, action="deadline_passed")
        except (Conflict, TransitionNotAllowed):
            continue  # answered meanwhile
        passed += 1
    return passed


def declare_conflict(*, actor: Actor, application_id, reason: str):
    """FL 17 §: a person who may be jävig reports it; from then on they take no part.
    Their tasks on the case go back to the queue."""
    with transaction.atomic():
        application = lock_application(application_id)
        lock_case(application.case_id)
        policy.check_declare_conflict(actor=actor, application=application)
        if application.case.closed_at is not None:
            raise TransitionNotAllowed(_("Ärendet är avslutat. Jäv kan bara anmälas i pågående ärenden."))
        declaration = conflict_declare(actor=actor, case=application.case, reason=reason)
        release_all_of(user=actor, application=application)
        return declaration


def rule_conflict(*, actor: Actor, application_id, declaration_id, upheld: bool, reasons: str):
    """FL 18 §: the agency decides the jäv question; journaled on the case."""
    with transaction.atomic():
        application = lock_application(application_id)
        lock_case(application.case_id)
        declaration = ConflictOfInterest.objects.filter(case=application.case, pk=declaration_id).first()
        if declaration is None:
            raise NotFound(_("Jävsanmälan finns inte."))
        policy.check_rule_conflict(actor=actor, application=application, declaration=declaration)
        return conflict_rule(actor=actor, declaration=declaration, upheld=upheld, reasons=reasons)
