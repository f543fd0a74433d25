"""The audit log: rows are only ever inserted, and read back newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Select, func, insert, or_, select

from geoapp.db.models import AuditEvent


def insert_event(**values: Any) -> Insert:
    """Insert one audit event with these column values."""
    return insert(AuditEvent).values(**values)


def events_page(*, user_email: str | None, user_id: int | None, action: str | None,
                limit: int, offset: int) -> Select[tuple[AuditEvent]]:
    """Audit events newest first: by a user's email (any case) or id, by action, one page."""
    query = select(AuditEvent)
    if user_email is not None:
        matches = [func.lower(AuditEvent.user_email) == user_email.lower()]
        if user_id is not None:
            matches.append(AuditEvent.user_id == user_id)
        query = query.where(or_(*matches))
    if action:
        query = query.where(AuditEvent.action == action)
    return query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)


def known_actions() -> Select[tuple[str]]:
    """Every action recorded so far, in order."""
    return select(AuditEvent.action).distinct().order_by(AuditEvent.action)
