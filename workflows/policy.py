"""Who may do what: the rules of law, checked once, at the door, for every action.

The rules, in the order they are applied:
1. The clock acts only where the flow declares a clock action, and nobody else does there.
2. Auditors (revisor) and administrators never write: they read (DESIGN.md §1).
3. Role: the actor holds one of the action's staff roles, or represents the applicant
   organisation (as firmatecknare where the action demands it).
4. Jäv (FL 16–18 §§): whoever declared jäv on the case takes no part in it, for any action,
   claim or assignment, until the agency has ruled the question; for good if it ruled jäv.
5. Claim: a task someone has taken is theirs; nobody else acts on it.
6. Four eyes: an action names the events whose actors it bars (the decider took no part in
   the assessment; attester ≠ preparer; payer ≠ attester; a waiver is decided by someone
   other than its proposer). Read from the case's journal, which records every actor.

FSM permission arguments are advisory in every FSM library; these rules are not.
"""

from django.db.models import BooleanField, ExpressionWrapper
from django.utils.translation import gettext_lazy as _

from arenden.errors import ErrorCode, NotAllowed
from arenden.models import JournalEvent
from arenden.services import conflict_barred_user_ids
from bidrag.models import Application, Membership
from bidrag.roles import Role, user_roles

from .steps import Action, Party

NEVER_WRITE = frozenset({Role.AUDITOR, Role.ADMINISTRATOR})


def is_read_only(actor) -> bool:
    return bool(actor.is_superuser or user_roles(actor) & NEVER_WRITE)


def is_barred(actor, application: Application) -> bool:
    """Jäv declared and not ruled away: the person takes no part in the case."""
    return actor is not None and actor.pk in conflict_barred_user_ids(case=application.case)


def refuse_if_barred(actor, application: Application) -> None:
    """FL 16 §: whoever declared jäv takes no part, whatever the action."""
    if is_barred(actor, application):
        _refuse(
            _("Du har anmält jäv i ärendet och får inte delta i handläggningen (FL 16 §)."),
            ErrorCode.CONFLICT_OF_INTEREST,
        )


def _membership(actor, application: Application) -> str | None:
    """The role the actor holds in the applicant organisation as the policy counts it: a
    firmatecknare/ombud counts as one only with a mandate Brå's registrar has confirmed
    (Membership.SIGNING); until then, as a sökande. An e-ID proves the person, never the mandate."""
    row = (
        Membership.objects.filter(organisation_id=application.organisation_id, user=actor)
        .annotate(signing=ExpressionWrapper(Membership.SIGNING, output_field=BooleanField()))
        .values_list("signing", flat=True)
        .first()
    )
    if row is None:
        return None
    return Membership.Role.SIGNATORY if row else Membership.Role.APPLICANT


def _refuse(message, code: ErrorCode = ErrorCode.PERMISSION_DENIED):
    raise NotAllowed(message, code=code)


def check_staff_write(actor) -> None:
    if actor is None or not actor.is_authenticated:
        _refuse(_("Logga in för att fortsätta."))
    if is_read_only(actor):
        _refuse(_("Revisorer och administratörer kan läsa ärenden men inte ändra dem."))


def check(*, actor, application: Application, action: Action, task=None) -> None:
    """Raise NotAllowed unless `actor` may take `action` on `application` (at `task`)."""
    if action.is_clock_action or actor is None:
        if not (action.is_clock_action and actor is None):
            _refuse(_("Åtgärden utförs av systemets klocka när svarsfristen har gått ut."))
        return
    check_staff_write(actor)
    if action.is_applicant_action:
        role = _membership(actor, application)
        if role is None:
            _refuse(_("Du företräder inte den sökande organisationen."))
        if Party.SIGNATORY in action.by and Party.MEMBER not in action.by and role != Membership.Role.SIGNATORY:
            _refuse(_("Endast organisationens firmatecknare får göra detta."))
    elif not user_roles(actor) & action.staff_roles:
        _refuse(_("Du har inte behörighet att utföra den här åtgärden."))
    refuse_if_barred(actor, application)
    if task is not None and task.owner_id and task.owner_id != actor.pk and not action.is_applicant_action:
        owner = task.owner.get_full_name() or task.owner.username
        _refuse(_("Uppgiften är tilldelad %(name)s.") % {"name": owner})
    if action.four_eyes and took_part(actor, application, action.four_eyes):
        _refuse(
            _("Du har deltagit i ärendet på ett sätt som hindrar dig från det här steget (fyraögonsprincipen)."),
            ErrorCode.FOUR_EYES,
        )


def took_part(actor, application: Application, events) -> bool:
    return JournalEvent.objects.filter(
        case_id=application.case_id, actor_id=actor.pk, action__in=[str(e) for e in events]
    ).exists()


def may_take(*, actor, application: Application, action: Action, task=None) -> bool:
    try:
        check(actor=actor, application=application, action=action, task=task)
    except NotAllowed:
        return False
    return True


def check_claim(*, actor, application: Application, node, task) -> None:
    """A task may be taken by someone who may take one of its node's actions."""
    check_staff_write(actor)
    if task.flow_task_type != "HUMAN" or not user_roles(actor) & {r for a in node.actions for r in a.staff_roles}:
        _refuse(_("Uppgiften ligger inte i någon av dina köer."))
    refuse_if_barred(actor, application)
    if not any(may_take(actor=actor, application=application, action=a) for a in node.actions):
        _refuse(
            _("Du har deltagit i ärendet på ett sätt som hindrar dig från det här steget (fyraögonsprincipen)."),
            ErrorCode.FOUR_EYES,
        )


def check_declare_conflict(*, actor, application: Application) -> None:
    check_staff_write(actor)
    # The team lead assigns the case's tasks: they too must say when they are jäviga.
    if not user_roles(actor) & {Role.REGISTRAR, Role.CASE_OFFICER, Role.DECISION_MAKER, Role.FINANCE,
                                Role.TEAM_LEAD}:
        _refuse(_("Du har inte behörighet att utföra den här åtgärden."))


def check_rule_conflict(*, actor, application: Application, declaration) -> None:
    check_staff_write(actor)
    if Role.DECISION_MAKER not in user_roles(actor):
        _refuse(_("Jävsfrågan avgörs av en beslutsfattare."))
    if declaration.user_id == actor.pk:
        _refuse(_("Du kan inte avgöra din egen jävsanmälan."), ErrorCode.CONFLICT_OF_INTEREST)
    refuse_if_barred(actor, application)


def check_register_item(*, actor, application: Application) -> None:
    """Who registers items in a case's diarium by hand (OSL 5 kap. 1 §): a registrar on any
    case; a case officer on a case they handle, to write down what they were told (FL 27 §):
    one who holds an open task on it or has acted in it. Never an auditor or administrator,
    never someone barred by jäv. Not a step of the flow: the case's state does not change."""
    check_staff_write(actor)
    roles = user_roles(actor)
    if Role.REGISTRAR not in roles:
        if Role.CASE_OFFICER not in roles:
            _refuse(_("Handlingar diarieförs av registrator eller av ärendets handläggare."))
        if not _handles(actor, application):
            _refuse(_("Du kan bara diarieföra handlingar i ärenden som du handlägger."))
    refuse_if_barred(actor, application)


def check_produce_documents(*, actor, application: Application) -> None:
    """Who produces a case's allmänna handlingar on request (TF 2 kap.), after a secrecy
    review (OSL): the registrar on any case, a case officer on a case they handle, as for
    registering items. Never an auditor or administrator (they read the production in the
    journal), never someone barred by jäv. Not a step of the flow: nothing changes state."""
    check_staff_write(actor)
    roles = user_roles(actor)
    if Role.REGISTRAR not in roles:
        if Role.CASE_OFFICER not in roles:
            _refuse(_("Handlingar lämnas ut av registrator eller av ärendets handläggare."))
        if not _handles(actor, application):
            _refuse(_("Du kan bara lämna ut handlingar i ärenden som du handlägger."))
    refuse_if_barred(actor, application)


def _handles(actor, application: Application) -> bool:
    from viewflow.workflow.models import Task

    from bidrag.locks import ACTIVE_TASK

    holds = Task.objects.filter(
        process__applicationprocess__application=application, status__in=ACTIVE_TASK, owner=actor
    ).exists()
    return holds or JournalEvent.objects.filter(case_id=application.case_id, actor_id=actor.pk).exists()


def check_assign(*, actor, application: Application, node, task, to_user) -> None:
    """A team lead (arbetsledare) hands a task to `to_user`, or back to the queue (None).

    The team lead takes no case action; the assignee holds the step's role and may take
    every action there (their role, jäv, four eyes, never an auditor or administrator), as
    the case stays with its handler (workflows.door._keep_with_its_handler)."""
    check_staff_write(actor)
    if Role.TEAM_LEAD not in user_roles(actor):
        _refuse(_("Endast en arbetsledare fördelar uppgifter."))
    refuse_if_barred(actor, application)
    if task.flow_task_type != "HUMAN" or node is None or not node.actions:
        _refuse(_("Uppgiften väntar på sökanden och kan inte tilldelas."))
    if to_user is None:
        return
    name = to_user.get_full_name() or to_user.get_username()
    if not to_user.is_active or is_read_only(to_user) or not user_roles(to_user) & {
        r for a in node.actions for r in a.staff_roles
    }:
        _refuse(_("%(name)s har inte rollen för uppgiften.") % {"name": name})
    if is_barred(to_user, application):
        _refuse(
            _("%(name)s har anmält jäv i ärendet och kan inte tilldelas (FL 16 §).") % {"name": name},
            ErrorCode.CONFLICT_OF_INTEREST,
        )
    if not all(may_take(actor=to_user, application=application, action=a) for a in node.actions):
        _refuse(
            _("%(name)s har deltagit i ärendet på ett sätt som hindrar dem från steget (fyraögonsprincipen).")
            % {"name": name},
            ErrorCode.FOUR_EYES,
        )


def check_appeal(*, actor, application: Application, dismiss: bool = False) -> None:
    """Who handles an appeal (FL 44–45 §§): a registrar or case officer registers it and,
    if it came in time, forwards it; a decision maker dismisses a late one. Never an
    auditor or administrator, never someone barred by jäv. Not a step of the flow: the
    application's state does not change, and the case may already be closed."""
    check_staff_write(actor)
    roles = user_roles(actor)
    if dismiss and Role.DECISION_MAKER not in roles:
        _refuse(_("Ett för sent inkommet överklagande avvisas av en beslutsfattare."))
    if not dismiss and not roles & {Role.REGISTRAR, Role.CASE_OFFICER}:
        _refuse(_("Överklaganden registreras och lämnas över av registrator eller handläggare."))
    refuse_if_barred(actor, application)


def check_delay_notice(*, actor, application: Application) -> None:
    """FL 11 §: a case officer (or the registrar) tells the applicant of a delay; never an
    auditor or administrator, never someone barred by jäv."""
    check_staff_write(actor)
    if not user_roles(actor) & {Role.CASE_OFFICER, Role.REGISTRAR}:
        _refuse(_("Underrättelse om försening skickas av handläggare eller registrator."))
    refuse_if_barred(actor, application)


def check_demand_refusal(*, actor, application: Application) -> None:
    """FL 12 §: refusing a demand for a decision is a decision: a decision maker's, not barred."""
    check_staff_write(actor)
    if Role.DECISION_MAKER not in user_roles(actor):
        _refuse(_("En begäran om avgörande avslås av en beslutsfattare."))
    refuse_if_barred(actor, application)


def check_decision_demand(*, actor, application: Application) -> None:
    """FL 12 §: the party demands a decision: the applicant organisation's firmatecknare."""
    check_staff_write(actor)
    if _membership(actor, application) != Membership.Role.SIGNATORY:
        _refuse(_("Endast organisationens firmatecknare får göra detta."))


def check_correction(*, actor, application: Application) -> None:
    """FL 36 §: correcting a sent decision is a decision maker's, never one barred by jäv."""
    check_staff_write(actor)
    if Role.DECISION_MAKER not in user_roles(actor):
        _refuse(_("Ett beslut rättas av en beslutsfattare."))
    refuse_if_barred(actor, application)


def check_reconsideration_request(*, actor, application: Application) -> None:
    """FL 37 §: the party asks Brå to reconsider a decision: the organisation's firmatecknare."""
    check_decision_demand(actor=actor, application=application)


def check_reconsideration_comments(*, actor, application: Application) -> None:
    """FL 25 §: the applicant answers a proposal to change a decision to their detriment:
    anyone representing the organisation, as for the communication before a decision."""
    check_staff_write(actor)
    if _membership(actor, application) is None:
        _refuse(_("Du företräder inte den sökande organisationen."))


def check_reconsideration_letter(*, actor, application: Application) -> None:
    """A request for reconsideration that came by letter is registered by the registrar or a
    case officer; never an auditor or administrator, never someone barred by jäv."""
    check_staff_write(actor)
    if not user_roles(actor) & {Role.REGISTRAR, Role.CASE_OFFICER}:
        _refuse(_("En begäran om omprövning registreras av registrator eller handläggare."))
    refuse_if_barred(actor, application)


def check_reconsideration_answer(*, actor, application: Application) -> None:
    """The answer that a decision stands after reconsideration: a case officer's, not barred."""
    check_staff_write(actor)
    if Role.CASE_OFFICER not in user_roles(actor):
        _refuse(_("Svaret att beslutet står fast lämnas av en handläggare."))
    refuse_if_barred(actor, application)
