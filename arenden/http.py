"""How service errors reach a person: a message in the page and the matching HTTP status."""

from django.contrib import messages

from .errors import ServiceError


def report_error(request, error: ServiceError) -> int:
    """Show the error's message to the user; return the HTTP status for the response."""
    messages.error(request, error.message)
    return error.http_status
