"""Who is acting: the acting user's group names, read once per user object."""

from typing import TYPE_CHECKING


def group_names(user) -> frozenset[str]:
    """The user's group names, cached on the user object (one query per request)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_group_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._group_names = cached
    return cached


if TYPE_CHECKING:
    from django.contrib.auth.models import User as Actor
else:
    Actor = object  # the acting person: settings.AUTH_USER_MODEL; None only for the system clock
