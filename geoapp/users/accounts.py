"""Accounts, sign-ins and API tokens: creation, password checks, issue/verify/revoke."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from geoapp.db.models import ApiToken, User, UserSession
from geoapp.db.queries import accounts as accounts_sql
from geoapp.db.vocabulary import Role
from geoapp.errors import Conflict, InvalidInput, NotFound
from geoapp.users import login_throttle

TOKEN_PREFIX = "fm_"
MIN_PASSWORD_LENGTH = 8
ROLE_RANK = {role: rank for rank, role in enumerate(Role)}


def normalise_email(email: str) -> str:
    """Validated, lower-cased email address (no DNS lookups: works offline)."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(f"invalid email address: {exc}", code="invalid_email") from None


def role_allows(role: str, minimum: Role) -> bool:
    """Whether ``role`` is at least ``minimum`` in viewer < analyst < admin."""
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[minimum]


def create_user(session: Session, email: str, password: str, role: str = Role.VIEWER) -> User:
    """Create an account; the caller commits."""
    if role not in ROLE_RANK:
        raise InvalidInput(f"role must be one of {', '.join(Role)}", code="invalid_role")
    _check_new_password(password)
    address = normalise_email(email)
    if session.scalar(accounts_sql.user_id_with_email(address)) is not None:
        raise Conflict(f"a user with email {address} already exists", code="user_exists")
    user = User(email=address, password_hash=generate_password_hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User:
    """The user with this email, or NotFound."""
    user = session.scalar(accounts_sql.user_with_email(email.strip().lower()))
    if user is None:
        raise NotFound(f"no user with email {email.strip()}", code="user_not_found")
    return user


def get_user(session: Session, user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}", code="user_not_found")
    return user


@functools.cache
def _dummy_password_hash() -> str:
    """A hash of a random password, made like real ones (same algorithm and cost)."""
    return generate_password_hash(secrets.token_urlsafe(24))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None.

    Unknown and inactive accounts cost one password check too, so the response time does not
    tell which email addresses have accounts.
    """
    user = session.scalar(accounts_sql.user_with_email(email.strip().lower()))
    password_hash = user.password_hash if user is not None else _dummy_password_hash()
    matches = check_password_hash(password_hash, password)
    if user is None or not user.is_active or not matches:
        return None
    return user


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters", code="weak_password"
        )


def set_password(session: Session, user: User, password: str) -> int:
    """Set a new password and end all the user's sign-ins (returns how many); caller commits."""
    _check_new_password(password)
    user.password_hash = generate_password_hash(password)
    return revoke_all_sign_ins(session, user)


def attempt_sign_in(
    session: Session,
    email: str,
    password: str,
    address: str,
    policy: login_throttle.ThrottlePolicy,
    now: dt.datetime,
) -> User | None:
    """Sign-in check behind the lockout: a failure is counted, a success clears the account's.

    Raises TooManySignInAttempts during a lockout, even for the right password. The caller
    commits, also when the answer is None (the failure must be counted).
    """
    login_throttle.check_not_locked(session, email, address, now)
    user = authenticate(session, email, password)
    if user is None:
        login_throttle.record_failure(session, email, address, policy, now)
    else:
        login_throttle.clear_account(session, email)
    return user


def change_password(
    session: Session,
    user: User,
    current: str,
    new: str,
    address: str,
    policy: login_throttle.ThrottlePolicy,
    now: dt.datetime,
) -> int:
    """A user's own password change; ends all their sign-ins (returned: how many).

    The current password must match, and wrong ones count as failed sign-ins (someone who
    found a signed-in browser cannot guess at it without limit). The caller commits, also
    after InvalidInput (the failure must be counted).
    """
    login_throttle.check_not_locked(session, user.email, address, now)
    if not check_password_hash(user.password_hash, current):
        login_throttle.record_failure(session, user.email, address, policy, now)
        raise InvalidInput("the current password is wrong", code="wrong_password")
    return set_password(session, user, new)


@dataclass(frozen=True)
class SignInPolicy:
    """How long sign-ins live: idle limit without "remember me", absolute limit with it."""

    idle: dt.timedelta
    remember_for: dt.timedelta
    # last_seen_at is written at most this often, not on every request.
    touch_every: dt.timedelta = dt.timedelta(minutes=1)

    def expired(self, sign_in: UserSession, now: dt.datetime) -> bool:
        """Whether this sign-in has outlived its limit at ``now``."""
        if sign_in.remember:
            return now >= sign_in.created_at + self.remember_for
        return now >= sign_in.last_seen_at + self.idle


def start_sign_in(
    session: Session, user: User, *, remember: bool, client_address: str, user_agent: str
) -> str:
    """Record a new sign-in and return its secret (only its hash is stored); caller commits.

    The secret is also set on ``user`` so that Flask-Login's ``get_id()`` returns it.
    """
    secret = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    session.add(
        UserSession(
            user_id=user.id,
            secret_hash=hash_token(secret),
            remember=remember,
            created_at=now,
            last_seen_at=now,
            client_address=client_address[:64],
            user_agent=user_agent[:255],
        )
    )
    session.flush()
    user.sign_in_secret = secret
    return secret


def user_for_sign_in(
    session: Session, secret: str, policy: SignInPolicy, now: dt.datetime
) -> User | None:
    """The active user of a live (unrevoked, unexpired) sign-in, noting its activity; or None."""
    sign_in = session.scalar(accounts_sql.unrevoked_sign_in(hash_token(secret)))
    if sign_in is None or policy.expired(sign_in, now) or not sign_in.user.is_active:
        return None
    if now - sign_in.last_seen_at >= policy.touch_every:
        sign_in.last_seen_at = now
    sign_in.user.sign_in_secret = secret
    return sign_in.user


def end_sign_in(session: Session, secret: str) -> None:
    """Revoke one sign-in (logout): its session and remember cookies stop working."""
    session.execute(accounts_sql.revoke_sign_in(hash_token(secret), dt.datetime.now(dt.UTC)))


def revoke_all_sign_ins(session: Session, user: User) -> int:
    """Revoke every live sign-in of a user ("sign out everywhere"); returns how many."""
    result = session.execute(accounts_sql.revoke_sign_ins_of(user.id, dt.datetime.now(dt.UTC)))
    return result.rowcount


def prune_sign_ins(session: Session, user: User, policy: SignInPolicy, now: dt.datetime) -> None:
    """Forget a user's revoked sign-ins and those past every limit (they can never come back)."""
    session.execute(
        accounts_sql.forget_dead_sign_ins(user.id, now, policy.idle, policy.remember_for)
    )


def hash_token(secret: str) -> str:
    """SHA-256 of a token: tokens are long random strings, so a fast hash is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created token; ``secret`` exists only here and is never stored."""

    token: ApiToken
    secret: str


def create_token(session: Session, user: User, name: str = "") -> IssuedToken:
    """Issue a bearer token for a user; the caller commits and shows the secret once."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name[:100], token_hash=hash_token(secret), prefix=secret[:10])
    session.add(token)
    session.flush()
    return IssuedToken(token=token, secret=secret)


def user_for_token(session: Session, secret: str) -> User | None:
    """The active owner of a valid, unrevoked token (recording its use), or None."""
    token = session.scalar(accounts_sql.unrevoked_token(hash_token(secret)))
    if token is None or not token.user.is_active:
        return None
    token.last_used_at = dt.datetime.now(dt.UTC)
    return token.user


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of a user's tokens (admins may revoke anyone's); the caller commits."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and user.role != Role.ADMIN):
        raise NotFound(f"no token {token_id}", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = dt.datetime.now(dt.UTC)
    return token
