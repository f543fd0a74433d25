"""Sign-in under a real gunicorn with two workers, configured as `make run` serves it.

Plain HTTP on loopback, no SECRET_KEY in the environment (the key generated once in the
instance folder), CSRF on; a cookie-jar client that honours Secure like a browser would.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from geoapp import accounts
from geoapp.models import LoginFailure, User
from tests.conftest import TEST_PASSWORD

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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {key: value for key, value in os.environ.items()
           if key not in {"SECRET_KEY", "FLASK_DEBUG"}}
    env.update({"DATABASE_URL": database_url, "GEOAPP_SECURE_COOKIES": "false",
                "GEOAPP_LOGIN_MAX_FAILURES_PER_ACCOUNT": str(ACCOUNT_LIMIT),
                "GEOAPP_LOGIN_LOCKOUT_S": "600"})
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "2", "--log-level", "warning", "geoapp:create_app()"],
        cwd=PROJECT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the app did not start under gunicorn")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


class Browser:
    """urllib with a cookie jar: sends cookies back as a browser would (Secure only on https)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path: str, form: dict[str, str] | None = None) -> tuple[int, dict, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def sign_in(self, email: str, password: str) -> tuple[int, dict, str]:
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
