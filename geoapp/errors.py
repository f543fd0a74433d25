"""Typed application errors; each carries its HTTP status and a stable machine-readable code."""

from __future__ import annotations


class AppError(Exception):
    """Base of every error shown to a user: an HTTP status, a code and a readable message."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidParameter(AppError):
    """A query parameter or field is missing, malformed or out of range."""

    status = 400
    code = "invalid_parameter"


class InvalidInput(AppError):
    """A request body or uploaded content cannot be used."""

    status = 400
    code = "invalid_input"


class Unauthorized(AppError):
    """The request carries no valid credentials."""

    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    """The caller is known but their role does not allow this."""

    status = 403
    code = "forbidden"


class NotFound(AppError):
    """The addressed resource does not exist."""

    status = 404
    code = "not_found"


class Conflict(AppError):
    """The request clashes with the current state (e.g. an email already registered)."""

    status = 409
    code = "conflict"


class TooManySignInAttempts(AppError):
    """Sign-in is locked for an account or a client address after repeated failures."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        # Seconds until the lockout ends (the Retry-After header).
        self.retry_after = retry_after


class PayloadTooLarge(AppError):
    """The request is larger than a configured limit (which the message names)."""

    status = 413
    code = "payload_too_large"


class ServiceUnavailable(AppError):
    """A dependency (the database) does not answer."""

    status = 503
    code = "service_unavailable"


class NotConfigured(AppError):
    """An optional feature this deployment has not set up (e.g. address search).

    404 rather than 501: nothing is broken, the resource just does not exist here, and
    monitoring should not count it as a server error.
    """

    status = 404
    code = "not_configured"


class UpstreamError(AppError):
    """A service we depend on (a configured geocoder) failed or answered nonsense."""

    status = 502
    code = "upstream_error"


class QueryTimeout(ServiceUnavailable):
    """A query ran past the statement budget of its kind of request, and was cancelled."""

    code = "query_timeout"


class UnsupportedMediaType(AppError):
    """A request body in a format this endpoint does not read."""

    status = 415
    code = "unsupported_media_type"


class MethodNotAllowed(AppError):
    """The resource exists but cannot be written this way (e.g. a read-only collection)."""

    status = 405
    code = "method_not_allowed"
