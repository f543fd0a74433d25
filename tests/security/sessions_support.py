"""Helpers for the sign-in security tests: apps with chosen settings, sign-in, cookie checks."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from geoapp import create_app
from tests.conftest import SERVER_SECRET_KEY, TEST_PASSWORD

SESSION_COOKIE = "session"
REMEMBER_COOKIE = "remember_token"


def make_app(database_url: str, **settings: Any) -> Flask:
    """An app on the test database (testing mode unless overridden) with these settings."""
    config: dict[str, Any] = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SERVER_SECRET_KEY,
        "WTF_CSRF_ENABLED": False,
        "GEOAPP_TILE_CACHE_MB": 0,
    }
    config.update(settings)
    return create_app(config)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on a page."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(
    client: FlaskClient,
    email: str,
    password: str = TEST_PASSWORD,
    *,
    remember: bool = True,
    csrf: bool = False,
) -> TestResponse:
    """Post the sign-in form (with its CSRF token when the app checks them)."""
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    if csrf:
        data["csrf_token"] = csrf_token(client)
    return client.post("/login", data=data)


def cookie_value(client: FlaskClient, name: str) -> str | None:
    """The value of a cookie the client holds, or None."""
    cookie = client.get_cookie(name)
    return cookie.value if cookie is not None else None


def set_cookie_header(response: TestResponse, name: str) -> str:
    """The Set-Cookie header of a response that sets cookie ``name``."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.getlist('Set-Cookie')}")


def cookie_attributes(header: str) -> set[str]:
    """The attributes of a Set-Cookie header, lower-cased (``secure``, ``samesite=lax``...)."""
    return {part.strip().lower() for part in header.split(";")[1:]}


def replay(app: Flask, **cookies: str) -> FlaskClient:
    """A fresh client that holds only these cookies (a copy taken from another browser)."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def is_signed_in(client: FlaskClient) -> bool:
    """Whether the client's cookies authenticate a write (CSRF off in these apps)."""
    status = client.post("/api/tokens", json={"name": "probe"}).status_code
    assert status in {201, 401}, status
    return status == 201
