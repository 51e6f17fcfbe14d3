"""Roles are Django groups; viewflow queues find tasks through the permissions they hold."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from arenden.actors import group_names


class Role(StrEnum):
    APPLICANT = "sokande"
    REGISTRAR = "registrator"
    CASE_OFFICER = "handlaggare"
    DECISION_MAKER = "beslutsfattare"
    FINANCE = "ekonomi"
    TEAM_LEAD = "arbetsledare"
    AUDITOR = "revisor"
    ADMINISTRATOR = "administrator"


ROLE_LABELS = {
    Role.APPLICANT: _("Sökande"),
    Role.REGISTRAR: _("Registrator"),
    Role.CASE_OFFICER: _("Handläggare"),
    Role.DECISION_MAKER: _("Beslutsfattare"),
    Role.FINANCE: _("Ekonomi"),
    Role.TEAM_LEAD: _("Arbetsledare"),
    Role.AUDITOR: _("Revisor"),
    Role.ADMINISTRATOR: _("Administratör"),
}

# The permission each staff role's queue is built on (viewflow assigns tasks to permissions).
ROLE_PERMISSIONS = {
    Role.REGISTRAR: ["register_application"],
    Role.CASE_OFFICER: ["handle_application"],
    Role.DECISION_MAKER: ["decide_application"],
    Role.FINANCE: ["manage_payments"],
    Role.AUDITOR: ["audit_application"],
    Role.TEAM_LEAD: [],
    Role.ADMINISTRATOR: [],
    Role.APPLICANT: [],
}

# Permissions a role's group holds in other apps, (app label, codename): the team lead
# assigns the tasks of every queue to the people who hold its role, and takes no case action.
ROLE_APP_PERMISSIONS = {Role.TEAM_LEAD: [("workflows", "assign_tasks")]}

STAFF_ROLES = frozenset(
    {Role.REGISTRAR, Role.CASE_OFFICER, Role.DECISION_MAKER, Role.FINANCE, Role.TEAM_LEAD, Role.AUDITOR}
)


def user_roles(user) -> frozenset[str]:
    """The user's role names, cached on the user object for the request."""
    return group_names(user)


def has_role(user, role: Role) -> bool:
    return role in user_roles(user)


def is_staff_reader(user) -> bool:
    """Brå staff who may read every submitted case."""
    return bool(user_roles(user) & STAFF_ROLES)


def is_auditor_only(user) -> bool:
    """An auditor (revisor) holding no other staff role: no queue of their own, they land on
    the decision log (issue 9)."""
    roles = user_roles(user)
    return Role.AUDITOR in roles and not roles & (STAFF_ROLES - {Role.AUDITOR})


def roles_ensure() -> None:
    """Create the role groups with their permissions; safe to run again."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        wanted = Q(content_type__app_label="bidrag", codename__in=codenames)
        for app_label, codename in ROLE_APP_PERMISSIONS.get(role, []):
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(wanted))
