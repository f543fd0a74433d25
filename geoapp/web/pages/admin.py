"""The audit log on the web: the hook that records every write request, and its admin views.

What is recorded is decided in one place, `is_audited`: unsafe requests to views guarded by
`require_role` (they carry `required_role`), plus sign-in. The hook runs after the view,
also when it failed or the guard refused the caller, so refused and failed attempts are
recorded with their status.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from geoapp.db.vocabulary import Role
from geoapp.extensions import db
from geoapp.inputs.params import parse_int
from geoapp.users import audit
from geoapp.web.auth import SAFE_METHODS, require_role
from geoapp.web.contract.queries import AuditQuery
from geoapp.web.http import json_response

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__)

# POST views behind the guard that only read (a batch of points is too large for a URL).
READS_BEHIND_GUARD = {"api.lookup_batch"}
# Writes without a role guard that are worth recording.
UNGUARDED_WRITES = {"auth.login"}
# Creating routes have no id in their URL; the id comes from their answer.
CREATED_TYPES = {
    "api.create_token": "token",
    "api.create_dataset_import": "dataset",
    "datasets.upload": "dataset",
    "api.create_items": "flood_zones",
}
# Largest answer read back for the id of what it created or the error code it reports.
MAX_BODY_INSPECTED = 65536
PAGE_SIZE = 50


def is_audited(endpoint: str, method: str) -> bool:
    """Whether a request to this endpoint with this method is a write to record."""
    if method in SAFE_METHODS or endpoint in READS_BEHIND_GUARD:
        return False
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "required_role", None) is not None or endpoint in UNGUARDED_WRITES


def answer_json(response: Response) -> Any:
    """The JSON body of a small, complete JSON answer, else None."""
    if response.is_streamed or not response.is_json:
        return None
    if (response.content_length or 0) > MAX_BODY_INSPECTED:
        return None
    try:
        return json.loads(response.get_data())
    except ValueError:
        return None


def target_of(endpoint: str, view_args: dict[str, Any], response: Response,
              body: Any) -> tuple[str | None, str | None, list[Any]]:
    """(target type, target id, all ids) of a write: from its URL, else from its answer."""
    collection = view_args.get("collection_id")
    for name, value in reversed(view_args.items()):
        if name.endswith("_id") and name != "collection_id":
            kind = str(collection) if collection is not None else name[: -len("_id")]
            return kind, str(value), [value]
    kind = str(collection) if collection is not None else CREATED_TYPES.get(endpoint)
    ids: list[Any] = []
    if isinstance(body, dict) and response.status_code < 400:
        if isinstance(body.get("ids"), list):
            ids = body["ids"]
        elif isinstance(body.get("id"), int | str):
            ids = [body["id"]]
    if not ids and response.status_code in (201, 202, 301, 302, 303) and response.location:
        last = response.location.rstrip("/").rsplit("/", 1)[-1]
        ids = [last] if last.isdigit() else []
    return kind, ",".join(str(i) for i in ids) or None, ids


def acting_user() -> Any:
    """The caller the guard identified (also when it refused their role), or the signed-in user."""
    user = g.get("user")
    if user is None and current_user and current_user.is_authenticated:
        user = current_user._get_current_object()
    return user


def write_record(session: Session, entry: audit.AuditRecord, *, failed: bool) -> None:
    """Insert and commit one record on the request's session.

    Write views commit their work or roll it back when they refuse it; only an unexpected
    failure (5xx) may leave a half-done write, which must not be committed with the record, so
    it is rolled back first. Committing does not expire loaded objects: nothing else was
    written, and the rest of the request (a template, the caller's objects) may still read them.
    """
    if failed:
        session.rollback()
    audit.record(session, entry)
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


def record_request(response: Response) -> Response:
    """after_request: record an audited write with its caller, target and outcome."""
    endpoint = request.endpoint
    if endpoint is None or not is_audited(endpoint, request.method):
        return response  # unknown URLs (404) and reads
    try:
        user_id, user_email = audit.actor_of(acting_user())
        body = answer_json(response)
        view_args = dict(request.view_args or {})
        target_type, target_id, ids = target_of(endpoint, view_args, response, body)
        details: dict[str, Any] = {}
        if len(ids) > 1:
            details["ids"] = ids
        if response.status_code >= 400 and isinstance(body, dict) and "error" in body:
            details["error"] = str(body["error"])[:80]
        if endpoint == "auth.login" and user_id is None:
            details["email"] = (request.form.get("email") or "")[:254]
        entry = audit.AuditRecord(
            action=endpoint, status=response.status_code, user_id=user_id,
            user_email=user_email, method=request.method, path=request.path,
            target_type=target_type, target_id=target_id, client_addr=request.remote_addr,
            user_agent=request.headers.get("User-Agent"), details=details,
        )
        write_record(db.session(), entry, failed=response.status_code >= 500)
    except SQLAlchemyError:
        db.session.rollback()
        # The write's answer stands; operators learn the log missed it.
        log.exception("could not record %s %s in the audit log", request.method, request.path)
    return response


def forget_caller(_error: BaseException | None) -> None:
    """teardown_request: drop the caller from `g`.

    `g` lives as long as the app context, which outlives one request when code pushed it
    around several (tests, scripts); the next request must not inherit this one's caller.
    """
    g.pop("user", None)


def register_audit(app: Flask) -> None:
    """Record every audited request, and mount the audit log's page and API."""
    app.after_request(record_request)
    app.teardown_request(forget_caller)
    app.register_blueprint(bp)


def page_filters() -> dict[str, str | None]:
    """The user and action filters of a request (empty means no filter)."""
    return {
        "user": (request.args.get("user") or "").strip()[:254] or None,
        "action": (request.args.get("action") or "").strip()[:80] or None,
    }


@bp.get("/api/audit")
@require_role(Role.ADMIN)
def audit_api() -> ResponseReturnValue:
    """GET /api/audit?user=&action=&limit=&offset=: audit events, newest first (admins)."""
    params = AuditQuery.read(request.args)
    limit, offset = params.limit, params.offset
    filters = {"user": params.user, "action": params.action}
    page = audit.list_events(db.session, **filters, limit=limit, offset=offset)
    body: dict[str, Any] = {
        "events": [audit.event_json(event) for event in page.events],
        "limit": page.limit,
        "offset": page.offset,
        "links": [],
    }
    if page.has_more:
        query = {key: value for key, value in filters.items() if value}
        next_url = current_app.url_for("admin.audit_api", limit=limit, offset=offset + limit,
                                       _external=True, **query)
        body["links"].append({"rel": "next", "href": next_url, "type": "application/json"})
    return json_response(body)


@bp.get("/admin/audit")
@require_role(Role.ADMIN)
def audit_page() -> ResponseReturnValue:
    """The audit log as a table with user and action filters, 50 events a page (admins)."""
    number = parse_int(request.args, "page", minimum=1, maximum=10**6) \
        if request.args.get("page") else 1
    filters = page_filters()
    page = audit.list_events(db.session, **filters, limit=PAGE_SIZE,
                             offset=(number - 1) * PAGE_SIZE)
    return render_template("admin/audit.html", page=page, number=number, filters=filters,
                           actions=audit.known_actions(db.session), utc=dt.UTC)
