"""Liveness and readiness: /healthz answers 200 only when the database does."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from geoapp.db.queries import health as health_sql
from geoapp.extensions import db
from geoapp.web.serializers import error_json

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 {"status": "ok"} when PostgreSQL answers, 503 with a JSON error when it does not."""
    try:
        db.session.execute(health_sql.database_ping())
    except SQLAlchemyError:
        db.session.rollback()
        body = error_json("database_unavailable", "the database is not answering")
        return jsonify({"status": "unavailable", **body}), 503
    return jsonify({"status": "ok"})
