"""Service-layer errors with stable codes, shared by every domain app.

Views map them to HTTP statuses; the message is a translatable sentence a user can act on.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    CONFLICT = "conflict"
    INVALID = "invalid"
    FOUR_EYES = "four_eyes"
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    CALL_CLOSED = "call_closed"
    INCOMPLETE = "incomplete"
    UPLOAD_REJECTED = "upload_rejected"
    STORAGE_UNAVAILABLE = "storage_unavailable"


class ServiceError(Exception):
    code: ErrorCode = ErrorCode.INVALID
    http_status = 400

    def __init__(self, message, *, code: ErrorCode | None = None, details: dict | None = None):
        super().__init__(str(message))
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class NotFound(ServiceError):
    """No such object for this actor (404): a foreign one answers exactly like a missing one."""

    code = ErrorCode.NOT_FOUND
    http_status = 404


class ValidationFailed(ServiceError):
    code = ErrorCode.INVALID
    http_status = 400


class NotAllowed(ServiceError):
    """The actor lacks the right (403), including four-eyes and conflict-of-interest refusals."""

    code = ErrorCode.PERMISSION_DENIED
    http_status = 403


class TransitionNotAllowed(ServiceError):
    """The object is not in a state where this action applies (409)."""

    code = ErrorCode.TRANSITION_NOT_ALLOWED
    http_status = 409


class Conflict(ServiceError):
    """Someone else changed the object first (409)."""

    code = ErrorCode.CONFLICT
    http_status = 409
