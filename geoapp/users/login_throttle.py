"""Sign-in throttling: failures per account and per client address, with a lockout.

The counters live in PostgreSQL (``login_failures``) so that every web process and every
server sees the same ones; each failure is one atomic upsert.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import and_, case, delete, func, null, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geoapp.db.models import LoginFailure
from geoapp.errors import TooManySignInAttempts


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures lock what out, counted over which window, for how long."""

    max_account_failures: int
    max_address_failures: int
    window: dt.timedelta
    lockout: dt.timedelta


def subjects(email: str, address: str) -> list[tuple[str, str]]:
    """The (kind, subject) counters one sign-in attempt counts against."""
    return [("account", email.strip().lower()[:320]), ("address", address[:320] or "unknown")]


def check_not_locked(session: Session, email: str, address: str, now: dt.datetime) -> None:
    """Raise TooManySignInAttempts while the account or the address is locked out."""
    locked_until = session.scalar(
        select(func.max(LoginFailure.locked_until)).where(
            tuple_(LoginFailure.kind, LoginFailure.subject).in_(subjects(email, address)),
            LoginFailure.locked_until > now,
        )
    )
    if locked_until is not None:
        retry_after = max(1, math.ceil((locked_until - now).total_seconds()))
        raise TooManySignInAttempts(
            "Too many failed sign-in attempts. Try again in "
            f"{_readable_duration(retry_after)}.",
            retry_after=retry_after,
        )


def record_failure(
    session: Session, email: str, address: str, policy: ThrottlePolicy, now: dt.datetime
) -> None:
    """Count a failed sign-in for the account and the address, locking them at their limit."""
    limits = {"account": policy.max_account_failures, "address": policy.max_address_failures}
    for kind, subject in subjects(email, address):
        limit = limits[kind]
        statement = insert(LoginFailure).values(
            kind=kind,
            subject=subject,
            failures=1,
            window_started_at=now,
            locked_until=now + policy.lockout if limit <= 1 else None,
        )
        # A counter starts again when its window has passed or its lockout has ended.
        restart = or_(
            LoginFailure.window_started_at <= now - policy.window,
            and_(LoginFailure.locked_until.is_not(None), LoginFailure.locked_until <= now),
        )
        failures = case((restart, 1), else_=LoginFailure.failures + 1)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[LoginFailure.kind, LoginFailure.subject],
                set_={
                    "failures": failures,
                    "window_started_at": case((restart, now),
                                              else_=LoginFailure.window_started_at),
                    "locked_until": case(
                        (failures >= limit, now + policy.lockout),
                        (restart, null()),
                        else_=LoginFailure.locked_until,
                    ),
                },
            )
        )
    forget_stale(session, policy, now)


def clear_account(session: Session, email: str) -> None:
    """Forget an account's failures after it signed in successfully (the address keeps its)."""
    kind, subject = subjects(email, "")[0]
    session.execute(
        delete(LoginFailure).where(LoginFailure.kind == kind, LoginFailure.subject == subject)
    )


def forget_stale(session: Session, policy: ThrottlePolicy, now: dt.datetime) -> None:
    """Delete counters whose window and lockout are both over, so the table stays small."""
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.window_started_at <= now - policy.window,
            or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until <= now),
        )
    )


def _readable_duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"
