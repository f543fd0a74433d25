"""Accounts, sign-in, bearer tokens and the write guard."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint

from geoapp import create_app
from geoapp.users import accounts
from geoapp.web.auth import require_role
from tests.conftest import TEST_PASSWORD

SAFE = {"GET", "HEAD", "OPTIONS"}
# Sign-in itself must accept anonymous POSTs; nothing else that writes may.
PUBLIC_WRITE_ENDPOINTS = {"auth.login"}
# POSTs that only read (a parcel geometry is too large for a URL), reviewed one by one.
READ_ONLY_POSTS = {"api.lookup_area"}


def test_no_write_route_is_reachable_anonymously(app, client) -> None:
    adapter = app.url_map.bind("localhost")
    checked = 0
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) - SAFE
        if not methods or rule.endpoint in PUBLIC_WRITE_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "read_only", False):
            assert rule.endpoint in READ_ONLY_POSTS, f"{rule.rule} claims to be read-only"
            continue
        assert getattr(view, "required_role", None), f"{rule.rule} has no write guard"
        url = adapter.build(rule.endpoint, {arg: 1 for arg in rule.arguments})
        for method in methods:
            response = client.open(url, method=method, json={})
            if url.startswith("/api"):
                assert response.status_code == 401, f"{method} {url}"
                assert response.get_json()["error"] == "unauthorized"
            else:
                assert response.status_code == 302, f"{method} {url}"
                assert "/login" in response.headers["Location"]
            checked += 1
    assert checked >= 3


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_bearer_token_authorises_a_write_and_records_its_use(
    client, session, make_token, make_user
) -> None:
    user = make_user("viewer")
    issued = make_token(user, "ci")
    assert issued.token.token_hash != issued.secret  # only the hash is stored
    response = client.post("/api/tokens", json={"name": "second"}, headers=bearer(issued.secret))
    assert response.status_code == 201
    body = response.get_json()
    assert body["token"].startswith("fm_") and body["name"] == "second"
    session.refresh(issued.token)
    assert issued.token.last_used_at is not None


@pytest.mark.parametrize("header", ["Bearer fm_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_bad_credentials_are_401(client, header: str) -> None:
    response = client.post("/api/tokens", json={}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"] in {"invalid_token", "unauthorized"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_no_longer_works(client, session, make_token, make_user) -> None:
    issued = make_token(make_user(), "old")
    response = client.delete(f"/api/tokens/{issued.token.id}", headers=bearer(issued.secret))
    assert response.status_code == 200 and response.get_json()["revoked"] is True
    again = client.post("/api/tokens", json={}, headers=bearer(issued.secret))
    assert again.status_code == 401


def test_cannot_revoke_someone_elses_token(client, session, make_token, make_user) -> None:
    mine = make_token(make_user(), "mine")
    theirs = make_token(make_user(), "theirs")
    response = client.delete(f"/api/tokens/{theirs.token.id}", headers=bearer(mine.secret))
    assert response.status_code == 404


def test_inactive_users_tokens_are_refused(client, session, make_token, make_user) -> None:
    user = make_user()
    issued = make_token(user)
    user.active = False
    session.commit()
    assert client.post("/api/tokens", json={}, headers=bearer(issued.secret)).status_code == 401


def test_role_below_the_minimum_is_403(database_url, session, make_token, make_user) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x"})
    probe = Blueprint("probe", __name__)

    @probe.post("/api/probe")
    @require_role("analyst")
    def analyst_only():
        return {"ok": True}

    app.register_blueprint(probe)
    viewer = make_token(make_user("viewer")).secret
    analyst = make_token(make_user("analyst")).secret
    admin = make_token(make_user("admin")).secret
    client = app.test_client()
    denied = client.post("/api/probe", headers=bearer(viewer))
    assert denied.status_code == 403 and denied.get_json()["error"] == "forbidden"
    assert client.post("/api/probe", headers=bearer(analyst)).status_code == 200
    assert client.post("/api/probe", headers=bearer(admin)).status_code == 200


def test_login_with_wrong_password_shows_a_message(client, make_user) -> None:
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "nope-nope"})
    assert response.status_code == 400
    assert "wrong password" in response.get_data(as_text=True)


def test_login_then_logout(client, make_user) -> None:
    user = make_user("analyst")
    response = client.post(
        "/login?next=/api/lookup?lon=0%26lat=0",
        data={"email": user.email.upper(), "password": TEST_PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/api/lookup")
    page = client.get("/").get_data(as_text=True)
    assert user.email in page and "Sign out" in page
    assert client.post("/logout").status_code == 302
    assert "Sign in" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_login_never_redirects_off_site(client, make_user, target: str) -> None:
    user = make_user()
    response = client.post(
        f"/login?next={target}", data={"email": user.email, "password": TEST_PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_csrf_is_enforced_for_forms_and_session_api_writes(
    database_url, session, make_token, make_user
):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x"})
    client = app.test_client()
    user = make_user()
    # No token: the sign-in form is refused.
    refused = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert refused.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    signed_in = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[-1500:]
    # A cookie-authenticated API write needs the CSRF header; a bearer token does not.
    assert client.post("/api/tokens", json={}).status_code == 400
    assert client.post("/api/tokens", json={}, headers={"X-CSRFToken": token}).status_code == 201
    secret = make_token(user).secret
    assert app.test_client().post("/api/tokens", json={}, headers=bearer(secret)).status_code == 201


def test_private_reads_need_a_viewer(database_url, session, make_token, make_user) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "x",
            "GEOAPP_PUBLIC_READ": False,
        }
    )
    client = app.test_client()
    assert client.get("/api/lookup?lon=0&lat=0").status_code == 401
    assert client.get("/").status_code == 302
    assert client.get("/healthz").status_code == 200
    secret = make_token(make_user("viewer")).secret
    assert client.get("/api/lookup?lon=0&lat=0", headers=bearer(secret)).status_code == 200


def test_create_user_rejects_duplicates_and_weak_passwords(session, make_user) -> None:
    user = make_user()
    with pytest.raises(accounts.Conflict):
        accounts.create_user(session, user.email.upper(), TEST_PASSWORD)
    with pytest.raises(accounts.InvalidInput, match="at least"):
        accounts.create_user(session, "new@example.org", "short")
    with pytest.raises(accounts.InvalidInput, match="role"):
        accounts.create_user(session, "new@example.org", TEST_PASSWORD, "root")
