"""Sign-in throttling: failures per account and per client address, with a lockout.

The counters live in PostgreSQL (``login_failures``) so that every web process and every
server sees the same ones; each failure is one atomic upsert.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from geoapp.db.queries import accounts as accounts_sql
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
    locked_until = session.scalar(accounts_sql.lockout_end(subjects(email, address), now))
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
        session.execute(accounts_sql.count_failure(
            kind, subject, limits[kind], now, policy.window, policy.lockout))
    forget_stale(session, policy, now)


def clear_account(session: Session, email: str) -> None:
    """Forget an account's failures after it signed in successfully (the address keeps its)."""
    kind, subject = subjects(email, "")[0]
    session.execute(accounts_sql.forget_failures(kind, subject))


def forget_stale(session: Session, policy: ThrottlePolicy, now: dt.datetime) -> None:
    """Delete counters whose window and lockout are both over, so the table stays small."""
    session.execute(accounts_sql.forget_stale_failures(now, policy.window))


def _readable_duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"
