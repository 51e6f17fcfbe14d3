"""Staff must prove a second factor (TOTP, django-otp) in this session before any staff page."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import Resolver404, resolve, reverse

from bidrag.roles import is_staff_reader

# Pages an unverified staff member may still reach: setting up and giving the code,
# logging out and choosing a language. Everything else sends them to the code first.
EXEMPT_URL_NAMES = frozenset({"logout", "set_language", "admin:logout"})
EXEMPT_NAMESPACES = frozenset({"konton"})


def needs_second_factor(user) -> bool:
    """Brå staff in a role, and anyone who may use the admin site."""
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser or is_staff_reader(user)))


def is_exempt(path: str) -> bool:
    if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return True  # a 404 shows nothing
    return match.view_name in EXEMPT_URL_NAMES or bool(set(match.namespaces) & EXEMPT_NAMESPACES)


class StaffSecondFactorMiddleware:
    """After django_otp's OTPMiddleware: an unverified staff member is sent to the code page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            settings.OTP_REQUIRED_FOR_STAFF
            and needs_second_factor(user)
            and not user.is_verified()
            and not is_exempt(request.path_info)
        ):
            return redirect_to_login(request.get_full_path(), reverse("konton:otp_verify"))
        return self.get_response(request)
