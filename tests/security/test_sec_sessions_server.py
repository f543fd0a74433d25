"""Sign-in under the real `flask serve` with two workers, configured as `make run` serves it.

Plain HTTP on loopback, no SECRET_KEY in the environment (the key generated once in the
instance folder), CSRF on; a cookie-jar client that honours Secure like a browser would.
"""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from geoapp.db.models import LoginFailure, User
from geoapp.users import accounts
from tests.conftest import TEST_PASSWORD
from tests.live_server import live_server

PROJECT = Path(__file__).resolve().parents[2]
ACCOUNT_LIMIT = 3


@pytest.fixture(scope="module")
def committed_email(app, database_url) -> Iterator[str]:
    """A user committed for real (the server runs outside the tests' transactions)."""
    engine = sa.create_engine(database_url)
    email = f"served-{uuid.uuid4().hex[:8]}@example.org"
    with Session(engine) as session:
        accounts.create_user(session, email, TEST_PASSWORD)
        session.commit()
    yield email
    with engine.begin() as conn:
        conn.execute(sa.delete(User).where(User.email == email))
        conn.execute(sa.delete(LoginFailure).where(LoginFailure.subject.in_([email, "127.0.0.1"])))
    engine.dispose()


@pytest.fixture(scope="module")
def server(database_url, committed_email) -> Iterator[str]:
    # No SECRET_KEY: the key generated once into the instance folder, as `make run` uses.
    env = {"DATABASE_URL": database_url, "GEOAPP_SECURE_COOKIES": "false",
           "GEOAPP_LOGIN_MAX_FAILURES_PER_ACCOUNT": str(ACCOUNT_LIMIT),
           "GEOAPP_LOGIN_LOCKOUT_S": "600"}
    with live_server(env, workers=2, threads=2, without=("SECRET_KEY", "FLASK_DEBUG")) as base:
        yield base


class Browser:
    """urllib with a cookie jar: sends cookies back as a browser would (Secure only on https)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path: str, form: dict[str, str] | None = None
             ) -> tuple[int, Message, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def sign_in(self, email: str, password: str) -> tuple[int, Message, str]:
        _, _, page = self.open("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        return self.open("/login", {"email": email, "password": password, "csrf_token": token})


def test_signing_in_works_over_plain_http_on_loopback(server, committed_email) -> None:
    browser = Browser(server)
    status, _, page = browser.sign_in(committed_email, TEST_PASSWORD)
    assert status == 200 and committed_email in page  # redirected to the map, signed in
    # Every worker accepts the cookie: they share the instance folder's key and the database.
    for _ in range(4):
        assert committed_email in browser.open("/")[2]


def test_lockout_holds_across_workers(server, committed_email) -> None:
    for _ in range(ACCOUNT_LIMIT):
        assert Browser(server).sign_in(committed_email, "wrong password!")[0] == 400
    status, headers, page = Browser(server).sign_in(committed_email, TEST_PASSWORD)
    assert status == 429
    assert 590 <= int(headers["Retry-After"]) <= 600
    assert "Too many failed sign-in attempts" in page
