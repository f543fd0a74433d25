"""API tokens of the signed-in user: create (shown once) and revoke."""

from __future__ import annotations

from flask import g, request
from flask.typing import ResponseReturnValue

from geoapp.db.vocabulary import Role
from geoapp.errors import InvalidInput
from geoapp.extensions import db
from geoapp.users import accounts
from geoapp.web.api import bp
from geoapp.web.auth import require_role
from geoapp.web.contract.bodies import TokenRequest
from geoapp.web.http import json_response
from geoapp.web.serializers import token_json


def token_name() -> str:
    """The optional `name` of the request: no body, or a JSON object with a string name."""
    if not request.get_data(cache=True):
        return ""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput('send no body, or a JSON object like {"name": "laptop"}',
                           code="invalid_json")
    return TokenRequest.read(body).name


@bp.post("/tokens")
@require_role(Role.VIEWER)
def create_token() -> ResponseReturnValue:
    """POST /api/tokens {"name": ...}: a new bearer token; its secret is in this answer only."""
    issued = accounts.create_token(db.session, g.user, token_name())
    db.session.commit()
    return json_response(token_json(issued.token, secret=issued.secret), status=201)


@bp.delete("/tokens/<int:token_id>")
@require_role(Role.VIEWER)
def revoke_token(token_id: int) -> ResponseReturnValue:
    """DELETE /api/tokens/{id}: revoke a token of yours (admins: anyone's)."""
    token = accounts.revoke_token(db.session, g.user, token_id)
    db.session.commit()
    return json_response(token_json(token))
