"""Accounts and API tokens: creation, password checks, token issue/verify/revoke."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from geoapp.errors import Conflict, InvalidInput, NotFound
from geoapp.models import ROLES, ApiToken, User

TOKEN_PREFIX = "fm_"
MIN_PASSWORD_LENGTH = 8
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


def normalise_email(email: str) -> str:
    """Validated, lower-cased email address (no DNS lookups: works offline)."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(f"invalid email address: {exc}", code="invalid_email") from None


def role_allows(role: str, minimum: str) -> bool:
    """Whether ``role`` is at least ``minimum`` in viewer < analyst < admin."""
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[minimum]


def create_user(session: Session, email: str, password: str, role: str = "viewer") -> User:
    """Create an account; the caller commits."""
    if role not in ROLE_RANK:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters", code="weak_password"
        )
    address = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict(f"a user with email {address} already exists", code="user_exists")
    user = User(email=address, password_hash=generate_password_hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User:
    """The user with this email, or NotFound."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user with email {email.strip()}", code="user_not_found")
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active or not check_password_hash(user.password_hash, password):
        return None
    return user


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
    token = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.user.is_active:
        return None
    token.last_used_at = dt.datetime.now(dt.UTC)
    return token.user


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of a user's tokens (admins may revoke anyone's); the caller commits."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and user.role != "admin"):
        raise NotFound(f"no token {token_id}", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = dt.datetime.now(dt.UTC)
    return token
