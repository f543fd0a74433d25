"""Rendering of every error in one place: JSON for API clients, a readable page for people."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from geoapp.errors import AppError, InvalidParameter, ServiceUnavailable, Unauthorized
from geoapp.serializers import error_json

log = logging.getLogger(__name__)

# Endpoints that stay reachable when GEOAPP_PUBLIC_READ is off.
ALWAYS_PUBLIC_ENDPOINTS = {"health.healthz", "auth.login", "assets.vendor", "static"}


def wants_json() -> bool:
    """API paths and clients that prefer JSON get JSON errors; browsers get pages."""
    if request.path.startswith("/api") or request.path.startswith("/healthz"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def render_error(status: int, code: str, message: str) -> Response:
    """One error response in the format the client wants."""
    if wants_json():
        response = jsonify(error_json(code, message))
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

    @app.errorhandler(AppError)
    def handle_app_error(error: AppError) -> Response:
        if isinstance(error, Unauthorized) and not wants_json():
            return redirect(url_for("auth.login", next=request.full_path))
        return render_error(error.status, error.code, error.message)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        code = (error.name or "error").lower().replace(" ", "_")
        return render_error(error.code or 500, code, error.description or error.name)

    @app.errorhandler(OperationalError)
    def handle_database_down(error: OperationalError) -> Response:
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
    from geoapp.auth import authenticate_request

    @app.before_request
    def require_viewer_for_reads() -> None:
        if app.config["GEOAPP_PUBLIC_READ"] or request.endpoint in ALWAYS_PUBLIC_ENDPOINTS:
            return
        authenticate_request("viewer")


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
