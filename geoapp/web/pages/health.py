"""Liveness and readiness: /healthz answers 200 only when the database does."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from geoapp.db import queries
from geoapp.extensions import db
from geoapp.web.http import json_response
from geoapp.web.serializers import error_json

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 {"status": "ok"} when PostgreSQL answers, 503 with a JSON error when it does not."""
    try:
        db.session.execute(queries.database_ping())
    except SQLAlchemyError:
        db.session.rollback()
        body = error_json("database_unavailable", "the database is not answering")
        return json_response({"status": "unavailable", **body}, status=503)
    return json_response({"status": "ok"})
