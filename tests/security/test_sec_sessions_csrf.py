"""With CSRF protection on: anonymous API writes get 401, cookie writes need the CSRF token."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_PASSWORD
from tests.security.sessions_support import csrf_token, make_app, sign_in

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def guarded(database_url):
    """The app as deployed: CSRF checks on."""
    return make_app(database_url, WTF_CSRF_ENABLED=True)


def api_write_requests(app) -> list[tuple[str, str]]:
    """(method, url) of every unsafe method on every /api rule, except read-only POSTs."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api"):
            continue
        if getattr(app.view_functions[rule.endpoint], "read_only", False):
            continue
        url = adapter.build(rule.endpoint, {arg: 1 for arg in rule.arguments})
        found += [(method, url) for method in sorted((rule.methods or set()) & UNSAFE)]
    return found


def test_anonymous_api_writes_get_401_with_a_bearer_challenge(guarded, session) -> None:
    requests = api_write_requests(guarded)
    assert len(requests) >= 8
    client = guarded.test_client()
    for method, url in requests:
        response = client.open(url, method=method, json={})
        assert response.status_code == 401, f"{method} {url}: {response.get_data(as_text=True)}"
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="')
        assert response.get_json()["error"] == "unauthorized", f"{method} {url}"


def test_anonymous_page_writes_still_go_to_the_sign_in_page(guarded, session) -> None:
    response = guarded.test_client().post("/logout")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_sign_in_form_still_needs_its_csrf_token(guarded, session, make_user) -> None:
    client = guarded.test_client()
    email = make_user().email
    refused = client.post("/login", data={"email": email, "password": TEST_PASSWORD})
    assert refused.status_code == 400
    assert client.post("/api/tokens", json={}).status_code == 401  # not signed in
    assert sign_in(client, email, csrf=True).status_code == 302


def test_cookie_writes_need_the_csrf_token_and_bearer_writes_do_not(
    guarded, session, make_user, make_token
) -> None:
    user = make_user()
    email, secret = user.email, make_token(user).secret
    client = guarded.test_client()
    assert sign_in(client, email, csrf=True).status_code == 302
    token = csrf_token(client, "/account/password")
    missing = client.post("/api/tokens", json={})
    assert missing.status_code == 400 and "CSRF" in missing.get_json()["message"]
    assert client.post("/logout").status_code == 400  # a page form without its token
    assert client.post("/api/tokens", json={}, headers={"X-CSRFToken": token}).status_code == 201
    bearer = guarded.test_client().post(
        "/api/tokens", json={}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert bearer.status_code == 201
