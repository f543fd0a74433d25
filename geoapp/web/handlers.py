"""Rendering of every error in one place: JSON for API clients, a readable page for people."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

from flask import Flask, Response, current_app, redirect, render_template, request, url_for
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, TooManyRequests

from geoapp.db.vocabulary import Role
from geoapp.errors import (
    AppError,
    InvalidParameter,
    QueryTimeout,
    ServiceUnavailable,
    Unauthorized,
)
from geoapp.extensions import db
from geoapp.web.guards.redaction import strip_server_paths
from geoapp.web.guards.request_db import is_query_timeout
from geoapp.web.http import json_response
from geoapp.web.serializers import error_json

log = logging.getLogger(__name__)

# Endpoints that stay reachable when GEOAPP_PUBLIC_READ is off.
ALWAYS_PUBLIC_ENDPOINTS = {"health.healthz", "auth.login", "assets.vendor", "static"}


def wants_json() -> bool:
    """API paths and clients that prefer JSON get JSON errors; browsers get pages."""
    if request.path.startswith("/api") or request.path.startswith("/healthz"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def server_roots() -> list[str]:
    """Folders of this deployment whose paths must not reach users."""
    from geoapp import PROJECT_DIR

    config = current_app.config
    return [str(PROJECT_DIR), current_app.instance_path, config["GEOAPP_UPLOAD_DIR"],
            config["GEOAPP_VENDOR_DIR"], tempfile.gettempdir(), sys.prefix, sys.base_prefix,
            str(Path.home())]


def public_message(message: str) -> str:
    """A message fit to show users: server paths cut to file names (also a template filter)."""
    return strip_server_paths(str(message), server_roots())


def render_error(status: int, code: str, message: str) -> Response:
    """One error response in the format the client wants."""
    message = public_message(message)
    if wants_json():
        response = json_response(error_json(code, message), status)
    else:
        response = Response(
            render_template("errors/error.html", status=status, code=code, message=message),
            mimetype="text/html",
        )
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="floodmanager"'
    return response


def register_error_handlers(app: Flask) -> None:
    """Turn typed errors, HTTP errors and unexpected failures into clean responses."""
    app.add_template_filter(public_message, "public_message")

    @app.errorhandler(AppError)
    def handle_app_error(error: AppError) -> Response:
        if isinstance(error, Unauthorized) and not wants_json():
            return redirect(url_for("auth.login", next=request.full_path))
        return render_error(error.status, error.code, error.message)

    @app.errorhandler(TooManyRequests)
    def handle_rate_limited(error: TooManyRequests) -> Response:
        # Retry-After and the X-RateLimit-* headers are added by the limiter afterwards.
        return render_error(429, "rate_limited", error.description or "too many requests")

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        code = (error.name or "error").lower().replace(" ", "_")
        return render_error(error.code or 500, code, error.description or error.name)

    @app.errorhandler(OperationalError)
    def handle_database_down(error: OperationalError) -> Response:
        # The transaction is aborted (or its connection gone): end it before anything else
        # of this request touches the session.
        try:
            db.session.rollback()
        except SQLAlchemyError:
            log.debug("rollback after a database error failed too", exc_info=True)
        if is_query_timeout(error):
            log.warning("query cancelled after its budget on %s %s: %s", request.method,
                        request.path, error.orig)
            timeout = QueryTimeout(
                "the query took too long and was cancelled; narrow the request down (a "
                "smaller area, page or batch) or try again later"
            )
            return render_error(timeout.status, timeout.code, timeout.message)
        log.warning("database unavailable: %s", error.orig)
        unavailable = ServiceUnavailable(
            "the database is not answering; try again shortly", code="database_unavailable"
        )
        return render_error(unavailable.status, unavailable.code, unavailable.message)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        # Logged with its traceback for operators; users see no internals.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, "internal_error", "an unexpected error occurred")


def register_read_guard(app: Flask) -> None:
    """When GEOAPP_PUBLIC_READ is off, every page and API read needs a signed-in viewer."""
    from geoapp.web.auth import authenticate_request

    @app.before_request
    def require_viewer_for_reads() -> None:
        if app.config["GEOAPP_PUBLIC_READ"] or request.endpoint in ALWAYS_PUBLIC_ENDPOINTS:
            return
        authenticate_request(Role.VIEWER)


def register_input_guard(app: Flask) -> None:
    """Refuse NUL characters in query parameters (PostgreSQL text cannot hold them), and
    parameters given more than once."""

    @app.before_request
    def refuse_nul_characters() -> None:
        for name, value in request.args.items(multi=True):
            if "\x00" in value or "\x00" in name:
                raise InvalidParameter(f"parameter {name.replace(chr(0), '')!r} contains a NUL "
                                       "character")

    @app.before_request
    def refuse_repeated_parameters() -> None:
        # Every parameter takes one value (lists are comma-separated): a repeated one would be
        # read as its first value here and perhaps as its last by a proxy checking it.
        for name, values in request.args.lists():
            if len(values) > 1:
                raise InvalidParameter(f"parameter {name[:40]!r} is given {len(values)} times; "
                                       "give it once (lists are comma-separated)")
