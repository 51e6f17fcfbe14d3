"""Who is acting: the acting user's group names, read once per user object."""


def group_names(user) -> frozenset[str]:
    """The user's group names, cached on the user object (one query per request)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_group_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._group_names = cached
    return cached
