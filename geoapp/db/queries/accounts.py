"""Accounts: users by email, sign-ins (sessions), API tokens and the sign-in failure counters.

Secrets never reach SQL: callers pass the SHA-256 hashes that are stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import (
    Delete,
    Select,
    Update,
    and_,
    case,
    delete,
    func,
    null,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.orm import joinedload

from geoapp.db.models import ApiToken, LoginFailure, User, UserSession


def user_id_with_email(address: str) -> Select[tuple[int]]:
    """The id of the account with this (normalised) email address."""
    return select(User.id).where(User.email == address)


def user_with_email(address: str) -> Select[tuple[User]]:
    """The account with this (lower-cased) email address."""
    return select(User).where(User.email == address)


def unrevoked_sign_in(secret_hash: str) -> Select[tuple[UserSession]]:
    """The unrevoked sign-in with this secret hash, its user loaded in the same round trip."""
    return (
        select(UserSession)
        .options(joinedload(UserSession.user))
        .where(UserSession.secret_hash == secret_hash, UserSession.revoked_at.is_(None))
    )


def revoke_sign_in(secret_hash: str, now: dt.datetime) -> Update:
    """Revoke the live sign-in with this secret hash."""
    return (
        update(UserSession)
        .where(UserSession.secret_hash == secret_hash, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_sign_ins_of(user_id: int, now: dt.datetime) -> Update:
    """Revoke every live sign-in of one user."""
    return (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def forget_dead_sign_ins(user_id: int, now: dt.datetime, idle: dt.timedelta,
                         remember_for: dt.timedelta) -> Delete:
    """Delete a user's revoked sign-ins and those past every limit (they can never come back)."""
    return delete(UserSession).where(
        UserSession.user_id == user_id,
        or_(
            UserSession.revoked_at.is_not(None),
            UserSession.created_at <= now - max(remember_for, idle),
            (UserSession.remember.is_(False)) & (UserSession.last_seen_at <= now - idle),
        ),
    )


def unrevoked_token(token_hash: str) -> Select[tuple[ApiToken]]:
    """The unrevoked API token with this hash."""
    return select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))


def lockout_end(subjects: Sequence[tuple[str, str]], now: dt.datetime
                ) -> Select[tuple[dt.datetime]]:
    """The latest lockout still running on any of these (kind, subject) counters."""
    return select(func.max(LoginFailure.locked_until)).where(
        tuple_(LoginFailure.kind, LoginFailure.subject).in_(subjects),
        LoginFailure.locked_until > now,
    )


def count_failure(kind: str, subject: str, limit: int, now: dt.datetime, window: dt.timedelta,
                  lockout: dt.timedelta) -> Insert:
    """One failed sign-in on a counter, as one atomic upsert that locks it at its limit."""
    statement = insert(LoginFailure).values(
        kind=kind,
        subject=subject,
        failures=1,
        window_started_at=now,
        locked_until=now + lockout if limit <= 1 else None,
    )
    # A counter starts again when its window has passed or its lockout has ended.
    restart = or_(
        LoginFailure.window_started_at <= now - window,
        and_(LoginFailure.locked_until.is_not(None), LoginFailure.locked_until <= now),
    )
    failures = case((restart, 1), else_=LoginFailure.failures + 1)
    return statement.on_conflict_do_update(
        index_elements=[LoginFailure.kind, LoginFailure.subject],
        set_={
            "failures": failures,
            "window_started_at": case((restart, now), else_=LoginFailure.window_started_at),
            "locked_until": case(
                (failures >= limit, now + lockout),
                (restart, null()),
                else_=LoginFailure.locked_until,
            ),
        },
    )


def forget_failures(kind: str, subject: str) -> Delete:
    """Delete one counter (an account that signed in successfully)."""
    return delete(LoginFailure).where(LoginFailure.kind == kind, LoginFailure.subject == subject)


def forget_stale_failures(now: dt.datetime, window: dt.timedelta) -> Delete:
    """Delete counters whose window and lockout are both over, so the table stays small."""
    return delete(LoginFailure).where(
        LoginFailure.window_started_at <= now - window,
        or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until <= now),
    )
