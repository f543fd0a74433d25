"""API tokens of the signed-in user: create (shown once) and revoke."""

from __future__ import annotations

from flask import g, jsonify, request
from flask.typing import ResponseReturnValue

from geoapp import accounts
from geoapp.api import bp
from geoapp.auth import require_role
from geoapp.extensions import db
from geoapp.serializers import token_json


@bp.post("/tokens")
@require_role("viewer")
def create_token() -> ResponseReturnValue:
    """POST /api/tokens {"name": ...}: a new bearer token; its secret is in this answer only."""
    body = request.get_json(silent=True) or {}
    name = body.get("name") if isinstance(body, dict) else None
    issued = accounts.create_token(db.session, g.user, str(name or ""))
    db.session.commit()
    return jsonify(token_json(issued.token, secret=issued.secret)), 201


@bp.delete("/tokens/<int:token_id>")
@require_role("viewer")
def revoke_token(token_id: int) -> ResponseReturnValue:
    """DELETE /api/tokens/{id}: revoke a token of yours (admins: anyone's)."""
    token = accounts.revoke_token(db.session, g.user, token_id)
    db.session.commit()
    return jsonify(token_json(token))
