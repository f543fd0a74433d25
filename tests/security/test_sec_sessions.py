"""Sessions that cannot be forged and can be revoked: secret keys, cookie flags, revocation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from geoapp import create_app
from geoapp.config import MIN_SECRET_KEY_LENGTH, build_config
from geoapp.db.models import User, UserSession
from geoapp.users import accounts
from geoapp.web.auth import sign_in_policy
from tests.conftest import SERVER_SECRET_KEY, TEST_PASSWORD
from tests.security.sessions_support import (
    REMEMBER_COOKIE,
    SESSION_COOKIE,
    cookie_attributes,
    cookie_value,
    is_signed_in,
    make_app,
    replay,
    set_cookie_header,
    sign_in,
)


@pytest.fixture(autouse=True)
def no_debug_from_the_environment(monkeypatch) -> None:
    """FLASK_DEBUG=1 in the caller's shell would exempt every app from the checks."""
    monkeypatch.delenv("FLASK_DEBUG", raising=False)


WEAK_KEYS = [
    "change-me-in-production",
    "change-me",
    "changeme",
    "secret",
    "dev",
    "x" * 64,  # long, but one character repeated
    "short-but-random-Zq81",
    "please-CHANGE-ME-before-going-live-0123456789",  # long, but a placeholder
]


# --- SECRET_KEY -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_a_weak_key_from_the_settings_is_refused_outside_testing(database_url, key) -> None:
    with pytest.raises(RuntimeError, match="SECRET_KEY is unsafe"):
        create_app({"DATABASE_URL": database_url, "SECRET_KEY": key})


@pytest.mark.parametrize("key", ["change-me-in-production", "dev"])
def test_a_weak_key_from_the_environment_is_refused(database_url, monkeypatch, key) -> None:
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY is unsafe"):
        create_app({"DATABASE_URL": database_url})


def test_an_empty_key_file_is_refused(tmp_path: Path, monkeypatch) -> None:
    """No usable key at all (the generated key file was emptied): no app."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="secret_key is empty"):
        build_config(str(tmp_path))


def test_without_a_key_one_is_generated_once_and_accepted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = build_config(str(tmp_path))["SECRET_KEY"]
    assert len(first) >= MIN_SECRET_KEY_LENGTH
    assert build_config(str(tmp_path))["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # owner-only


def test_a_strong_key_starts_and_testing_or_debug_may_use_any(database_url) -> None:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": SERVER_SECRET_KEY})
    assert app.config["SECRET_KEY"] == SERVER_SECRET_KEY
    assert create_app({"DATABASE_URL": database_url, "SECRET_KEY": "dev", "TESTING": True})
    assert create_app({"DATABASE_URL": database_url, "SECRET_KEY": "dev", "DEBUG": True})


# --- cookie flags ---------------------------------------------------------------------------


def test_cookies_are_secure_httponly_and_samesite_when_secure_cookies_are_on(
    database_url, session, make_user
) -> None:
    app = make_app(database_url, GEOAPP_SECURE_COOKIES="true")
    user = make_user()
    response = sign_in(app.test_client(), user.email)
    assert response.status_code == 302
    session_flags = cookie_attributes(set_cookie_header(response, SESSION_COOKIE))
    remember_flags = cookie_attributes(set_cookie_header(response, REMEMBER_COOKIE))
    for flags in (session_flags, remember_flags):
        assert {"secure", "httponly", "samesite=lax"} <= flags, flags
    # The remember cookie lasts the configured days, not the default year.
    expires = next(f for f in remember_flags if f.startswith("expires="))
    left = dt.datetime.strptime(expires[len("expires="):], "%a, %d %b %Y %H:%M:%S gmt")
    days = (left - dt.datetime.now(dt.UTC).replace(tzinfo=None)).total_seconds() / 86400
    assert 13.9 < days <= 14.01


def test_plain_http_setting_drops_secure_but_keeps_httponly_and_samesite(
    database_url, session, make_user
) -> None:
    app = make_app(database_url, GEOAPP_SECURE_COOKIES="false")
    response = sign_in(app.test_client(), make_user().email)
    for name in (SESSION_COOKIE, REMEMBER_COOKIE):
        flags = cookie_attributes(set_cookie_header(response, name))
        assert "secure" not in flags
        assert {"httponly", "samesite=lax"} <= flags


def test_secure_cookies_are_the_default_outside_debug_and_testing(database_url) -> None:
    production = create_app({"DATABASE_URL": database_url, "SECRET_KEY": SERVER_SECRET_KEY})
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    plain_http = create_app({"DATABASE_URL": database_url, "SECRET_KEY": SERVER_SECRET_KEY,
                             "GEOAPP_SECURE_COOKIES": "false"})
    assert plain_http.config["SESSION_COOKIE_SECURE"] is False


def test_the_sign_in_page_warns_when_secure_cookies_meet_plain_http(database_url) -> None:
    warning = "sends its sign-in cookies over HTTPS"
    secure = make_app(database_url, GEOAPP_SECURE_COOKIES="true").test_client()
    assert warning in secure.get("/login").get_data(as_text=True)
    assert warning not in secure.get("/login", base_url="https://localhost").get_data(as_text=True)
    plain = make_app(database_url, GEOAPP_SECURE_COOKIES="false").test_client()
    assert warning not in plain.get("/login").get_data(as_text=True)


# --- revocation -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web(database_url):
    """An app of its own: each request gets a fresh app context (and ``g``), as in a server.

    (Requests to the session-wide ``app`` share the app context the ``session`` fixture
    pushed, so Flask-Login's per-request user would leak from one request into the next.)
    """
    return make_app(database_url)


def signed_in_cookies(web, email: str) -> tuple[object, str, str]:
    """Sign in with "keep me signed in"; the client and copies of both cookies."""
    client = web.test_client()
    assert sign_in(client, email).status_code == 302
    session_cookie = cookie_value(client, SESSION_COOKIE)
    remember_cookie = cookie_value(client, REMEMBER_COOKIE)
    assert session_cookie and remember_cookie
    return client, session_cookie, remember_cookie


def assert_cookies_work(web, session_cookie: str, remember_cookie: str) -> None:
    assert is_signed_in(replay(web, **{SESSION_COOKIE: session_cookie}))
    assert is_signed_in(replay(web, **{REMEMBER_COOKIE: remember_cookie}))


def assert_cookies_dead(web, session_cookie: str, remember_cookie: str) -> None:
    assert not is_signed_in(replay(web, **{SESSION_COOKIE: session_cookie}))
    assert not is_signed_in(replay(web, **{REMEMBER_COOKIE: remember_cookie}))
    assert not is_signed_in(
        replay(web, **{SESSION_COOKIE: session_cookie, REMEMBER_COOKIE: remember_cookie})
    )


def test_logout_ends_the_session_and_remember_cookies_everywhere(web, session, make_user) -> None:
    user = make_user()
    client, session_cookie, remember_cookie = signed_in_cookies(web, user.email)
    assert_cookies_work(web, session_cookie, remember_cookie)
    assert client.post("/logout").status_code == 302
    assert not is_signed_in(client)
    assert_cookies_dead(web, session_cookie, remember_cookie)


def test_a_browser_drops_the_cookies_of_an_ended_sign_in(web, session, make_user) -> None:
    email = make_user().email
    client, *_ = signed_in_cookies(web, email)
    web.test_cli_runner().invoke(args=["users", "sign-out-everywhere", email])
    response = client.get("/")
    assert cookie_value(client, REMEMBER_COOKIE) is None
    assert "expires=thu, 01 jan 1970" in set_cookie_header(response, REMEMBER_COOKIE).lower()
    assert "Sign in" in response.get_data(as_text=True)


def test_logout_ends_only_that_sign_in(web, session, make_user) -> None:
    user = make_user()
    laptop, *_ = signed_in_cookies(web, user.email)
    phone, phone_session, phone_remember = signed_in_cookies(web, user.email)
    laptop.post("/logout")
    assert_cookies_work(web, phone_session, phone_remember)


def test_remember_cookies_differ_between_sign_ins_and_do_not_carry_the_user_id(
    web, session, make_user
) -> None:
    user = make_user()
    _, _, first = signed_in_cookies(web, user.email)
    _, _, second = signed_in_cookies(web, user.email)
    assert first != second
    assert str(user.id) not in {first.split("|")[0], second.split("|")[0]}
    stored = session.scalars(select(UserSession.secret_hash).where(UserSession.user_id == user.id))
    secrets_in_cookies = {first.split("|")[0], second.split("|")[0]}
    assert not secrets_in_cookies & set(stored)  # only hashes are stored


def test_password_change_ends_every_other_sign_in(web, session, make_user) -> None:
    user = make_user()
    laptop, laptop_session, laptop_remember = signed_in_cookies(web, user.email)
    _, phone_session, phone_remember = signed_in_cookies(web, user.email)
    new_password = "a brand new passphrase"
    changed = laptop.post("/account/password", data={
        "current_password": TEST_PASSWORD, "new_password": new_password,
        "confirm_password": new_password,
    })
    assert changed.status_code == 302, changed.get_data(as_text=True)[-800:]
    assert is_signed_in(laptop)  # this browser got a new sign-in
    assert cookie_value(laptop, REMEMBER_COOKIE) != laptop_remember
    assert_cookies_dead(web, phone_session, phone_remember)
    assert_cookies_dead(web, laptop_session, laptop_remember)
    assert sign_in(web.test_client(), user.email).status_code == 400
    assert sign_in(web.test_client(), user.email, new_password).status_code == 302


def test_password_change_needs_the_current_password(web, session, make_user) -> None:
    user = make_user()
    client, session_cookie, remember_cookie = signed_in_cookies(web, user.email)
    refused = client.post("/account/password", data={
        "current_password": "not my password", "new_password": "whatever passphrase",
        "confirm_password": "whatever passphrase",
    })
    assert refused.status_code == 400
    assert "current password is wrong" in refused.get_data(as_text=True)
    assert_cookies_work(web, session_cookie, remember_cookie)
    assert sign_in(web.test_client(), user.email).status_code == 302


def test_password_page_sends_anonymous_visitors_to_sign_in(client) -> None:
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_cli_set_password_ends_every_sign_in(web, session, make_user) -> None:
    email = make_user().email
    _, session_cookie, remember_cookie = signed_in_cookies(web, email)
    result = web.test_cli_runner().invoke(
        args=["users", "set-password", email, "--password", "another passphrase"]
    )
    assert result.exit_code == 0, result.output
    assert "1 sign-in(s) ended" in result.output
    assert_cookies_dead(web, session_cookie, remember_cookie)
    assert sign_in(web.test_client(), email, "another passphrase").status_code == 302


def test_cli_sign_out_everywhere(web, session, make_user) -> None:
    email, other_email = make_user().email, make_user().email
    _, session_cookie, remember_cookie = signed_in_cookies(web, email)
    _, other_session, other_remember = signed_in_cookies(web, other_email)
    result = web.test_cli_runner().invoke(args=["users", "sign-out-everywhere", email])
    assert result.exit_code == 0, result.output
    assert_cookies_dead(web, session_cookie, remember_cookie)
    assert_cookies_work(web, other_session, other_remember)
    unknown = web.test_cli_runner().invoke(args=["users", "sign-out-everywhere", "no@example.org"])
    assert unknown.exit_code == 1 and "no user" in unknown.output


def test_admin_api_sign_out_everywhere(web, session, make_user, make_token) -> None:
    user = make_user("analyst")
    _, session_cookie, remember_cookie = signed_in_cookies(web, user.email)
    admin = make_token(make_user("admin")).secret
    viewer = make_token(make_user("viewer")).secret
    client = web.test_client()
    url = f"/api/users/{user.id}/sign-out-everywhere"
    denied = client.post(url, headers={"Authorization": f"Bearer {viewer}"})
    assert denied.status_code == 403
    assert_cookies_work(web, session_cookie, remember_cookie)
    done = client.post(url, headers={"Authorization": f"Bearer {admin}"})
    assert done.status_code == 200
    assert done.get_json() == {"user_id": user.id, "email": user.email, "revoked_sign_ins": 1}
    assert_cookies_dead(web, session_cookie, remember_cookie)
    missing = client.post("/api/users/999999/sign-out-everywhere",
                          headers={"Authorization": f"Bearer {admin}"})
    assert missing.status_code == 404 and missing.get_json()["error"] == "user_not_found"


def test_deactivated_users_cookies_stop_working(web, session, make_user) -> None:
    user = make_user()
    _, session_cookie, remember_cookie = signed_in_cookies(web, user.email)
    # The requests' teardown closed the session that loaded `user`: fetch it again.
    session.get(User, user.id).active = False
    session.commit()
    assert_cookies_dead(web, session_cookie, remember_cookie)


def test_sign_ins_expire_idle_or_after_the_remember_period(web, session, make_user) -> None:
    user = make_user()
    policy = sign_in_policy(web.config)
    now = dt.datetime.now(dt.UTC)
    brief = accounts.start_sign_in(session, user, remember=False, client_address="", user_agent="")
    kept = accounts.start_sign_in(session, user, remember=True, client_address="", user_agent="")
    session.commit()
    soon = now + policy.idle - dt.timedelta(minutes=1)
    assert accounts.user_for_sign_in(session, brief, policy, soon) is not None
    # Being seen just now keeps it alive; idle for longer than the limit ends it.
    assert accounts.user_for_sign_in(session, brief, policy, soon + policy.idle) is None
    later = now + policy.remember_for - dt.timedelta(minutes=1)
    assert accounts.user_for_sign_in(session, kept, policy, later) is not None
    assert accounts.user_for_sign_in(session, kept, policy, later + dt.timedelta(minutes=2)) is None
