"""Sign-in throttling (per account, per address, shared by every app) and equal-time checks."""

from __future__ import annotations

import statistics
import time

import pytest
from sqlalchemy import select

from geoapp.db.models import LoginFailure
from tests.conftest import TEST_PASSWORD
from tests.security.sessions_support import make_app, sign_in

LOCKOUT_S = 2


@pytest.fixture(scope="module")
def strict(database_url):
    """An app that locks an account after 3 failures, an address after 6, for 2 s."""
    return make_app(
        database_url,
        GEOAPP_LOGIN_MAX_FAILURES_PER_ACCOUNT=3,
        GEOAPP_LOGIN_MAX_FAILURES_PER_ADDRESS=6,
        GEOAPP_LOGIN_FAILURE_WINDOW_S=60,
        GEOAPP_LOGIN_LOCKOUT_S=LOCKOUT_S,
    )


def client_from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def assert_locked(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= LOCKOUT_S
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)


def test_an_account_is_locked_after_its_failures_even_for_the_right_password(
    strict, session, make_user
) -> None:
    email = make_user().email
    client = client_from(strict, "192.0.2.10")
    for _ in range(3):
        assert sign_in(client, email, "wrong password!").status_code == 400
    assert_locked(sign_in(client, email))
    # From another address too: the account is what is locked.
    assert_locked(sign_in(client_from(strict, "192.0.2.11"), email))
    # Another account from the same address is not.
    assert sign_in(client, make_user().email).status_code == 302
    time.sleep(LOCKOUT_S + 0.2)
    assert sign_in(client, email).status_code == 302


def test_an_address_is_locked_after_failures_on_many_accounts(strict, session, make_user) -> None:
    email = make_user().email
    attacker = client_from(strict, "198.51.100.7")
    for number in range(6):
        response = sign_in(attacker, f"guess{number}@example.org", "wrong password!")
        assert response.status_code == 400
    assert_locked(sign_in(attacker, email))
    assert sign_in(client_from(strict, "198.51.100.8"), email).status_code == 302


def test_a_successful_sign_in_clears_the_accounts_failures(strict, session, make_user) -> None:
    email = make_user().email
    client = client_from(strict, "203.0.113.5")
    for _ in range(2):
        assert sign_in(client, email, "wrong password!").status_code == 400
    assert sign_in(client, email).status_code == 302
    for _ in range(2):
        assert sign_in(client, email, "wrong password!").status_code == 400
    assert sign_in(client, email).status_code == 302
    assert session.scalar(
        select(LoginFailure.failures).where(LoginFailure.kind == "account",
                                            LoginFailure.subject == email)
    ) is None


def test_counters_are_shared_between_app_instances(database_url, session, make_user) -> None:
    """Two apps (as two server processes) see the same counters: they live in PostgreSQL."""
    settings = {"GEOAPP_LOGIN_MAX_FAILURES_PER_ACCOUNT": 2, "GEOAPP_LOGIN_LOCKOUT_S": 60}
    first, second = make_app(database_url, **settings), make_app(database_url, **settings)
    email = make_user().email
    assert sign_in(client_from(first, "192.0.2.20"), email, "wrong password!").status_code == 400
    assert sign_in(client_from(second, "192.0.2.21"), email, "wrong password!").status_code == 400
    locked = sign_in(client_from(first, "192.0.2.22"), email)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 50


def test_wrong_current_passwords_count_as_failures(strict, session, make_user) -> None:
    email = make_user().email
    client = client_from(strict, "192.0.2.30")
    assert sign_in(client, email).status_code == 302
    form = {"current_password": "guess guess", "new_password": "new passphrase",
            "confirm_password": "new passphrase"}
    for _ in range(3):
        assert client.post("/account/password", data=form).status_code == 400
    form["current_password"] = TEST_PASSWORD
    assert client.post("/account/password", data=form).status_code == 429


def median_login_seconds(client, email: str, password: str, tries: int) -> float:
    durations = []
    for _ in range(tries):
        started = time.perf_counter()
        response = sign_in(client, email, password, remember=False)
        durations.append(time.perf_counter() - started)
        assert response.status_code == 400
    return statistics.median(durations)


def test_unknown_and_inactive_accounts_take_as_long_as_known_ones(
    database_url, session, make_user
) -> None:
    # Limits out of the way: this measures the password check, not the lockout.
    app = make_app(database_url, GEOAPP_LOGIN_MAX_FAILURES_PER_ACCOUNT=1000,
                   GEOAPP_LOGIN_MAX_FAILURES_PER_ADDRESS=1000)
    known = make_user()
    inactive = make_user()
    inactive.active = False
    session.commit()
    known_email, inactive_email = known.email, inactive.email
    client = app.test_client()
    median_login_seconds(client, known_email, "warm up please", 1)
    known_s = median_login_seconds(client, known_email, "wrong password!", 5)
    unknown_s = median_login_seconds(client, "nobody-here@example.org", "wrong password!", 5)
    inactive_s = median_login_seconds(client, inactive_email, TEST_PASSWORD, 5)
    # Loose bounds for a loaded machine; without the dummy check unknown is ~25x faster.
    assert unknown_s >= 0.5 * known_s, (unknown_s, known_s)
    assert inactive_s >= 0.5 * known_s, (inactive_s, known_s)
