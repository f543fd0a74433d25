"""Liveness and readiness: /healthz answers 200 only when the database does.

Missing front-end packages are reported in the body, not in the status: the API still works.
"""

from __future__ import annotations

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from geoapp.db.queries import health as health_sql
from geoapp.extensions import db
from geoapp.web.assets import INSTALL_COMMAND, assets_health
from geoapp.web.http import json_response
from geoapp.web.serializers import error_json

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 {"status": "ok"} when PostgreSQL answers, 503 with a JSON error when it does not.

    When front-end packages are missing, an "assets" member says which (the status is kept).
    """
    # Only when something is wrong: the healthy body stays {"status": "ok"} for probes.
    assets = assets_health(current_app)
    details = {} if assets["ok"] else {"assets": {**assets, "fix": INSTALL_COMMAND}}
    try:
        db.session.execute(health_sql.database_ping())
    except SQLAlchemyError:
        db.session.rollback()
        body = error_json("database_unavailable", "the database is not answering")
        return json_response({"status": "unavailable", **body, **details}, status=503)
    return json_response({"status": "ok", **details})
