"""Sign-in pages, server-side sign-ins, and the one guard that protects every write route.

Each sign-in is a row (``user_sessions``); the session cookie and the remember cookie carry
its random secret instead of the user id (Flask-Login's "alternative tokens"), so logout, a
password change or "sign out everywhere" ends them on the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from geoapp.db.models import User
from geoapp.db.vocabulary import Role
from geoapp.errors import AppError, Forbidden, TooManySignInAttempts, Unauthorized
from geoapp.extensions import csrf, db, login_manager
from geoapp.users import accounts, login_throttle

bp = Blueprint("auth", __name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
View = TypeVar("View", bound=Callable[..., Any])


# Requests that never look at the signed-in user: no sign-in lookup for them.
ASSET_ENDPOINTS = {"static", "assets.vendor"}


def sign_in_policy(config: Mapping[str, Any]) -> accounts.SignInPolicy:
    """Sign-in lifetimes from the settings."""
    remember = config["REMEMBER_COOKIE_DURATION"]
    return accounts.SignInPolicy(
        idle=dt.timedelta(minutes=config["GEOAPP_SESSION_IDLE_MINUTES"]),
        remember_for=remember if isinstance(remember, dt.timedelta)
        else dt.timedelta(seconds=remember),
    )


def throttle_policy(config: Mapping[str, Any]) -> login_throttle.ThrottlePolicy:
    """Sign-in throttling limits from the settings."""
    return login_throttle.ThrottlePolicy(
        max_account_failures=config["GEOAPP_LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        max_address_failures=config["GEOAPP_LOGIN_MAX_FAILURES_PER_ADDRESS"],
        window=dt.timedelta(seconds=config["GEOAPP_LOGIN_FAILURE_WINDOW_S"]),
        lockout=dt.timedelta(seconds=config["GEOAPP_LOGIN_LOCKOUT_S"]),
    )


def client_address() -> str:
    """The caller's address (ProxyFix, when configured, puts the real client here)."""
    return request.remote_addr or ""


@login_manager.user_loader
def load_user(sign_in_secret: str) -> User | None:
    """Flask-Login's lookup of the secret in the session or remember cookie: a live sign-in."""
    user = accounts.user_for_sign_in(
        db.session, sign_in_secret, sign_in_policy(current_app.config), dt.datetime.now(dt.UTC)
    )
    # Records last_seen_at; this runs before the view (load_signed_in_user), so nothing of
    # the view's is committed with it.
    db.session.commit()
    return user


@bp.before_app_request
def load_signed_in_user() -> None:
    """Resolve the signed-in user at the start of each request (see load_user).

    Cookies of a sign-in that has ended are dropped, so the browser stops sending them (and
    we stop looking them up).
    """
    if request.endpoint in ASSET_ENDPOINTS:
        return
    # The cookie first: without one there is no user to load (most API calls).
    if "_user_id" in session and not current_user.is_authenticated:
        session.pop("_user_id")
        session["_remember"] = "clear"  # Flask-Login deletes the remember cookie


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


def authenticate_request(minimum_role: Role) -> User:
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
    """CSRF-check unsafe requests that a session cookie authenticates.

    Browsers attach session cookies to cross-site requests, so cookie-authenticated writes
    (forms and API calls from our pages) need a CSRF token. An Authorization header cannot be
    set cross-site without a CORS preflight, so bearer-token clients need none; and a request
    with neither is anonymous: the write guard answers it with 401 (the sign-in form checks
    its own token, through Flask-WTF).
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if (
        request.method not in SAFE_METHODS
        and "Authorization" not in request.headers
        and not getattr(view, "read_only", False)
        and current_app.config["WTF_CSRF_ENABLED"]
        and current_user.is_authenticated
    ):
        csrf.protect()


def read_only(view: View) -> View:
    """Mark a POST view that only reads (a query too large for a URL): no guard, no CSRF."""
    view.read_only = True  # type: ignore[attr-defined]
    return view


def require_role(minimum_role: Role) -> Callable[[View], View]:
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


def secure_cookies_lost() -> bool:
    """Whether cookies are marked Secure but this page came over plain HTTP (they get dropped)."""
    return bool(current_app.config["SESSION_COOKIE_SECURE"]) and not request.is_secure


def sign_in(user: User, remember: bool) -> None:
    """Start a server-side sign-in for this browser and put its secret in the cookies."""
    accounts.start_sign_in(
        db.session,
        user,
        remember=remember,
        client_address=client_address(),
        user_agent=request.headers.get("User-Agent", ""),
    )
    accounts.prune_sign_ins(
        db.session, user, sign_in_policy(current_app.config), dt.datetime.now(dt.UTC)
    )
    db.session.commit()
    login_user(user, remember=remember)


def retry_later(page: ResponseReturnValue, locked: TooManySignInAttempts) -> Response:
    """A page answering a locked-out attempt, telling clients when to come back."""
    response = make_response(page)
    response.headers["Retry-After"] = str(locked.retry_after)
    return response


def render_login(form: LoginForm, error: str | None, status: int) -> ResponseReturnValue:
    """The sign-in page with an optional message."""
    page = render_template(
        "auth/login.html", form=form, error=error, insecure_transport=secure_cookies_lost()
    )
    return page, status


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign-in page (throttled per account and per client address)."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_login(form, None, 400 if form.errors else 200)
    try:
        user = accounts.attempt_sign_in(
            db.session,
            form.email.data or "",
            form.password.data or "",
            client_address(),
            throttle_policy(current_app.config),
            dt.datetime.now(dt.UTC),
        )
    except TooManySignInAttempts as locked:
        return retry_later(render_login(form, locked.message, locked.status), locked)
    db.session.commit()  # the failure count, or the cleared one
    if user is None:
        return render_login(form, "Unknown email or wrong password.", 400)
    sign_in(user, remember=bool(form.remember.data))
    return redirect(safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
@require_role(Role.VIEWER)
def logout() -> ResponseReturnValue:
    """Sign out (POST with CSRF token, so a link on another site cannot sign you out).

    Ends this sign-in on the server, so copies of its session or remember cookie stop working.
    """
    if g.auth_method == "session":
        accounts.end_sign_in(db.session, current_user.get_id())
        db.session.commit()
    logout_user()
    return redirect(url_for("maps.index"))


class PasswordForm(FlaskForm):
    """Current and new password, with Flask-WTF's CSRF token."""

    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=1024)]
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD_LENGTH, max=1024)],
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords differ.")],
    )


@bp.route("/account/password", methods=["GET", "POST"])
@require_role(Role.VIEWER)
def change_password() -> ResponseReturnValue:
    """Change your password: every sign-in of yours ends, this browser gets a new one."""
    form = PasswordForm()
    if form.validate_on_submit():
        user: User = g.user
        try:
            accounts.change_password(
                db.session,
                user,
                form.current_password.data or "",
                form.new_password.data or "",
                client_address(),
                throttle_policy(current_app.config),
                dt.datetime.now(dt.UTC),
            )
        except TooManySignInAttempts as locked:
            return retry_later(render_password_page(form, locked.message, locked.status), locked)
        except AppError as refused:
            db.session.commit()  # a wrong current password counts as a failed sign-in
            return render_password_page(form, refused.message, refused.status)
        db.session.commit()
        if g.auth_method == "session":
            # This browser stays signed in, with a new secret (and remembered if it was).
            remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            sign_in(user, remember=remember_cookie in request.cookies)
        flash("Your password was changed; you were signed out everywhere else.")
        return redirect(url_for("maps.index"))
    return render_password_page(form, None, 400 if form.errors else 200)


def render_password_page(
    form: PasswordForm, error: str | None, status: int
) -> ResponseReturnValue:
    """The password-change page with an optional message."""
    return render_template("auth/password.html", form=form, error=error), status
