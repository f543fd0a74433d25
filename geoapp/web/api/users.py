"""Account administration over the API: ending a user's sign-ins."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from geoapp.db.vocabulary import Role
from geoapp.extensions import db
from geoapp.users import accounts
from geoapp.web.api import bp
from geoapp.web.auth import require_role
from geoapp.web.http import json_response


@bp.post("/users/<int:user_id>/sign-out-everywhere")
@require_role(Role.ADMIN)
def sign_out_everywhere(user_id: int) -> ResponseReturnValue:
    """POST /api/users/{id}/sign-out-everywhere: revoke all of a user's sign-ins (admins)."""
    user = accounts.get_user(db.session, user_id)
    revoked = accounts.revoke_all_sign_ins(db.session, user)
    db.session.commit()
    return json_response({"user_id": user.id, "email": user.email, "revoked_sign_ins": revoked})
