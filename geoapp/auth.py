"""Sign-in pages and the one guard that protects every write route."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from geoapp import accounts
from geoapp.errors import Forbidden, Unauthorized
from geoapp.extensions import csrf, db, login_manager
from geoapp.models import User

bp = Blueprint("auth", __name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
View = TypeVar("View", bound=Callable[..., Any])


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's session lookup."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    raise Unauthorized("sign in to continue")


def bearer_secret() -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None when there is no header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(
            "the Authorization header must be 'Bearer <token>'", code="invalid_token"
        )
    return secret.strip()


def authenticate_request(minimum_role: str) -> User:
    """The caller (bearer token or signed-in session) if their role is at least ``minimum_role``.

    Raises Unauthorized without valid credentials and Forbidden when the role is too low.
    """
    secret = bearer_secret()
    if secret is not None:
        user = accounts.user_for_token(db.session, secret)
        if user is None:
            raise Unauthorized("the bearer token is invalid or revoked", code="invalid_token")
        db.session.commit()  # records last_used_at
        g.auth_method = "token"
    elif current_user.is_authenticated:
        user = current_user._get_current_object()
        g.auth_method = "session"
    else:
        raise Unauthorized("sign in or send 'Authorization: Bearer <token>'")
    # Set before the role check, so that the audit log names who was refused.
    g.user = user
    if not accounts.role_allows(user.role, minimum_role):
        raise Forbidden(f"this needs the {minimum_role} role; you are {user.role}")
    return user


def csrf_check() -> None:
    """CSRF-check unsafe requests, except those carrying an Authorization header.

    Browsers attach session cookies to cross-site requests, so cookie-authenticated writes
    (forms and API calls from our pages) need a CSRF token. An Authorization header cannot be
    set cross-site without a CORS preflight, so bearer-token clients need none.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if (
        request.method not in SAFE_METHODS
        and "Authorization" not in request.headers
        and not getattr(view, "read_only", False)
        and current_app.config["WTF_CSRF_ENABLED"]
    ):
        csrf.protect()


def read_only(view: View) -> View:
    """Mark a POST view that only reads (a query too large for a URL): no guard, no CSRF."""
    view.read_only = True  # type: ignore[attr-defined]
    return view


def require_role(minimum_role: str) -> Callable[[View], View]:
    """Decorator for write routes: the caller must have at least ``minimum_role``."""

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            authenticate_request(minimum_role)
            return view(*args, **kwargs)

        guarded.required_role = minimum_role  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorator


class LoginForm(FlaskForm):
    """Email and password, with Flask-WTF's CSRF token."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Keep me signed in")


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirects)."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("maps.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign-in page."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.email.data or "", form.password.data or "")
        if user is not None:
            login_user(user, remember=bool(form.remember.data))
            return redirect(safe_next(request.args.get("next")))
        error = "Unknown email or wrong password."
    status = 200 if error is None and not form.errors else 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@require_role("viewer")
def logout() -> Any:
    """Sign out (POST with CSRF token, so a link on another site cannot sign you out)."""
    logout_user()
    return redirect(url_for("maps.index"))
