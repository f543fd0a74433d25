"""The audit log: recording writes (and refused attempts) and reading them back, without Flask.

Requests are recorded by one hook (geoapp.web.pages.admin.register_audit), CLI write commands by
`record_command`; both end up in `record`. Rows are only ever inserted, never changed.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from geoapp.db.models import AuditEvent, User
from geoapp.db.queries import audit as audit_sql
from geoapp.inputs.params import PG_INTEGER_MAX, digits_value

# Column sizes of audit_log: longer values are cut, never refused (the write happened).
MAX_PATH = 512
MAX_USER_AGENT = 512
MAX_TARGET_ID = 128
MAX_ADDRESS = 64


@dataclass(frozen=True)
class AuditRecord:
    """What one write was: who, what, on which target, from where, and how it ended."""

    action: str
    status: int
    user_id: int | None = None
    user_email: str | None = None
    method: str | None = None
    path: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    client_addr: str | None = None
    user_agent: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditPage:
    """One page of audit events, newest first, and whether older ones follow."""

    events: Sequence[AuditEvent]
    limit: int
    offset: int
    has_more: bool


def cut(value: str | None, size: int) -> str | None:
    """The value shortened to a column's size (None stays None)."""
    return None if value is None else value[:size]


def record(session: Session, entry: AuditRecord) -> None:
    """Insert one audit event (the caller commits)."""
    session.execute(
        audit_sql.insert_event(
            action=entry.action[:80],
            status=entry.status,
            user_id=entry.user_id,
            user_email=entry.user_email,
            method=entry.method,
            path=cut(entry.path, MAX_PATH),
            target_type=cut(entry.target_type, 64),
            target_id=cut(entry.target_id, MAX_TARGET_ID),
            client_addr=cut(entry.client_addr, MAX_ADDRESS),
            user_agent=cut(entry.user_agent, MAX_USER_AGENT),
            details=dict(entry.details),
        )
    )


def record_command(session: Session, action: str, status: int, *, target_type: str | None = None,
                   target_id: int | str | None = None,
                   details: Mapping[str, Any] | None = None) -> None:
    """Record a CLI write: no account or address, but the operating-system user who ran it."""
    record(session, AuditRecord(
        action=action,
        status=status,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details={"os_user": os_user(), **(details or {})},
    ))


def os_user() -> str:
    """The login name running this process, or '?' where there is none (some containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


def list_events(session: Session, *, user: str | None = None, action: str | None = None,
                limit: int = 50, offset: int = 0) -> AuditPage:
    """Audit events newest first, filtered by user (email or id) and action, one page at a time."""
    email: str | None = None
    user_id: int | None = None
    if user:
        email = user.strip()
        user_id = digits_value(email, PG_INTEGER_MAX)
    # One row more than the page tells whether a next page exists, without counting.
    rows = session.scalars(audit_sql.events_page(
        user_email=email, user_id=user_id, action=action, limit=limit + 1, offset=offset
    )).all()
    return AuditPage(events=rows[:limit], limit=limit, offset=offset, has_more=len(rows) > limit)


def known_actions(session: Session) -> list[str]:
    """Every action recorded so far, for the filter of the admin page."""
    return list(session.scalars(audit_sql.known_actions()))


def actor_of(user: User | None) -> tuple[int | None, str | None]:
    """The id and email to record for a user (None, None for nobody)."""
    return (None, None) if user is None else (user.id, user.email)


def iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def event_json(event: AuditEvent) -> dict[str, Any]:
    """An audit event as the API returns it."""
    return {
        "id": event.id,
        "occurred_at": iso(event.occurred_at),
        "user": None if event.user_email is None and event.user_id is None
        else {"id": event.user_id, "email": event.user_email},
        "action": event.action,
        "method": event.method,
        "path": event.path,
        "target": None if event.target_type is None and event.target_id is None
        else {"type": event.target_type, "id": event.target_id},
        "status": event.status,
        "client_addr": event.client_addr,
        "user_agent": event.user_agent,
        "details": event.details,
    }
