"""Pooled connections: single reads spend no statement on transactions, budgets or pings, and a
connection the server dropped is replaced before a request sees it (geoapp/db/connections.py).

The app here has an engine of its own and no test transaction: the round trips counted are
those a server makes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import psycopg2.extensions
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event

from geoapp import create_app
from geoapp.extensions import db
from geoapp.ogc import features
from geoapp.ogc.features import FETCH_ROWS


@pytest.fixture()
def own_app(app: Flask, database_url: str) -> Iterator[Flask]:
    """An app on the test database with its own engine (the shared app fixture migrated it)."""
    application = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "GEOAPP_TILE_CACHE_MB": 0,
        "GEOAPP_RATELIMIT_ENABLED": False,
    })
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture()
def statements(own_app: Flask) -> Iterator[list[tuple[str, bool]]]:
    """Every statement the app's connections send, with whether the connection was in
    autocommit: recorded by the driver's cursors, so statements that bypass SQLAlchemy's
    execution layer (geoapp/db/compiled.py) are seen too."""
    seen: list[tuple[str, bool]] = []
    prepared: dict[str, str] = {}

    class RecordingCursor(psycopg2.extensions.cursor):
        def execute(self, query, vars=None):  # noqa: A002 (psycopg2's own name)
            text = query if isinstance(query, str) else query.decode()
            if text.startswith("PREPARE "):
                name, _, body = text.removeprefix("PREPARE ").partition(" AS ")
                prepared[name.split("(")[0]] = body
            # An EXECUTE is recorded with the statement it runs (prepared before, maybe in an
            # earlier request), so that tests read what the server runs.
            match = re.search(r"EXECUTE (\w+)", text)
            if match and match.group(1) in prepared:
                text = f"{text} -- {prepared[match.group(1)]}"
            # A named cursor's statement goes to the server as DECLARE ... CURSOR FOR it.
            seen.append((f"DECLARE {self.name} CURSOR FOR {text}" if self.name else text,
                         self.connection.autocommit))
            return super().execute(query, vars)

    def record(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.cursor_factory = RecordingCursor

    def stop(dbapi_connection, _record) -> None:
        if dbapi_connection is not None:
            dbapi_connection.cursor_factory = None

    with own_app.app_context():
        engine = db.engine
    event.listen(engine, "checkout", record)
    event.listen(engine, "checkin", stop)
    yield seen
    event.remove(engine, "checkout", record)
    event.remove(engine, "checkin", stop)


def test_a_lookup_sends_only_its_queries_outside_a_transaction(own_app, statements):
    client = own_app.test_client()
    # Warm the pool (and prepare the statement on its connection).
    assert client.get("/api/lookup?lon=0&lat=0&detail=zones").status_code == 200
    statements.clear()
    response = client.get("/api/lookup?lon=0&lat=0&detail=zones")
    assert response.status_code == 200
    assert response.get_json()["status"] == "unmapped"
    # The zones covering the point and the nearest high-risk zone, in one statement: nothing
    # else (no ping, no statement budget), and in autocommit (psycopg2 sends no BEGIN, the
    # end no ROLLBACK).
    assert len(statements) == 1, [text for text, _ in statements]
    assert "flood_zone_pieces" in statements[0][0]
    assert all(autocommit for _, autocommit in statements)
    # With the whole determination (panels, communities, LOMRs, ...): still one statement.
    assert client.get("/api/lookup?lon=0&lat=0").status_code == 200
    statements.clear()
    assert client.get("/api/lookup?lon=0&lat=0").status_code == 200
    assert len(statements) == 1, [text[:60] + text[-80:] for text, _ in statements]
    assert "flood_zone_pieces" in statements[0][0] and "firm_panels" in statements[0][0]
    assert all(autocommit for _, autocommit in statements)
    with own_app.app_context(), db.engine.connect() as connection:
        # Back in the pool, the connection is transactional again for whoever borrows it.
        assert connection.connection.dbapi_connection.autocommit is False


def test_a_single_feature_is_one_statement(own_app, statements):
    client = own_app.test_client()
    assert client.get("/api/collections/flood_zones/items/1").status_code in (200, 404)
    statements.clear()
    response = client.get("/api/collections/flood_zones/items/1")
    assert response.status_code in (200, 404)
    # The feature and the data version of its ETag: one statement, in autocommit.
    assert len(statements) == 1, [text for text, _ in statements]
    assert "data_versions" in statements[0][0] and statements[0][1]


def test_small_items_pages_read_without_a_transaction_or_cursor(own_app, statements):
    client = own_app.test_client()
    response = client.get("/api/collections/flood_zones/items?limit=100")
    assert response.status_code == 200
    response.get_data()
    sent = [text.split()[0].upper() for text, _ in statements]
    # The data version, the planner's estimate, the page: no BEGIN, DECLARE, FETCH or CLOSE.
    assert sent and not {"BEGIN", "DECLARE", "FETCH", "CLOSE"} & set(sent), sent
    assert all(autocommit for _, autocommit in statements)


def test_a_default_page_larger_than_one_fetch_streams_in_a_transaction(database_url, app):
    # No `limit=`: the configured default decides, for the page and for its transaction.
    application = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
        "GEOAPP_TILE_CACHE_MB": 0, "GEOAPP_RATELIMIT_ENABLED": False,
        "GEOAPP_ITEMS_DEFAULT_LIMIT": FETCH_ROWS + 50,
    })
    try:
        response = application.test_client().get("/api/collections/flood_zones/items")
        assert response.status_code == 200
        assert response.get_json()["type"] == "FeatureCollection"
    finally:
        with application.app_context():
            db.engine.dispose()


def test_other_requests_keep_their_transaction_and_budget(own_app, statements):
    client = own_app.test_client()
    # A page larger than one FETCH streams through a server-side cursor, in a transaction.
    response = client.get("/api/collections/flood_zones/items?limit=101")
    assert response.status_code == 200
    response.get_data()
    assert any(text.startswith("DECLARE") for text, _ in statements)
    assert statements and not any(autocommit for _, autocommit in statements)
    statements.clear()
    with own_app.app_context():
        # Outside requests (CLI, worker) each transaction sets the default budget.
        assert db.session.execute(sa.text("SHOW statement_timeout")).scalar() == "30s"
        db.session.rollback()
    assert "set_config" in statements[0][0]


def test_a_pooled_connection_the_server_dropped_is_replaced_unseen(own_app, database_url):
    opened: list[int] = []
    with own_app.app_context():
        engine = db.engine

    def remember_backend(dbapi_connection, _record) -> None:
        opened.append(dbapi_connection.get_backend_pid())

    event.listen(engine, "connect", remember_backend)
    client = own_app.test_client()
    assert client.get("/api/lookup?lon=0&lat=0").status_code == 200
    assert opened, "the request opened a connection"
    killed = list(opened)
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM unnest(:pids) AS pid"),
                           {"pids": killed})
        for _ in range(100):
            alive = connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                {"pids": killed}).scalar()
            if not alive:
                break
            time.sleep(0.05)
    admin.dispose()
    # The pool still holds the dead connection; the checkout sees it was closed and opens
    # another, without a ping and without the request noticing.
    response = client.get("/api/lookup?lon=0&lat=0")
    assert response.status_code == 200
    assert len(opened) > len(killed)
    assert not set(opened[len(killed):]) & set(killed)
    event.remove(engine, "connect", remember_backend)


@pytest.mark.parametrize("path", ["/api/lookup?lon=0&lat=0", "/api/collections/flood_zones/items/1",
                                  "/api/collections/flood_zones/items/2147483647",
                                  "/api/lookup?lon=0&lat=0&dataset=nosuch"])
def test_single_reads_give_their_connection_back(own_app, statements, path):
    client = own_app.test_client()
    with own_app.app_context():
        pool = db.engine.pool
    response = client.get(path)
    assert response.status_code in (200, 400, 404)
    # Lent for the request outside the ORM session (request_db.single_reads), and given back
    # at its end, answered or refused: nothing stays checked out.
    assert pool.checkedout() == 0
    assert statements and all(autocommit for _, autocommit in statements)


def test_unfiltered_pages_reuse_their_estimate_until_the_data_changes(own_app, statements):
    features.SCOPE_ESTIMATES.clear()
    client = own_app.test_client()

    def explains(path: str) -> int:
        statements.clear()
        assert client.get(path).status_code == 200
        return sum(text.lstrip().upper().startswith("EXPLAIN") for text, _ in statements)

    # The first unfiltered page asks the planner; the next ones, at the same data version,
    # reuse its answer. A filtered page asks every time.
    assert explains("/api/collections/flood_zones/items?limit=5") == 1
    assert explains("/api/collections/flood_zones/items?limit=7&offset=3") == 0
    assert explains("/api/collections/flood_zones/items?limit=5&fld_zone=AE") == 1
    assert explains("/api/collections/flood_zones/items?limit=5&fld_zone=AE") == 1
    # Another data version (the key holds its change time too) asks again.
    [key] = features.SCOPE_ESTIMATES
    features.SCOPE_ESTIMATES[(key[0] + 1, key[1])] = features.SCOPE_ESTIMATES.pop(key)
    assert explains("/api/collections/flood_zones/items?limit=5") == 1


def test_a_streamed_page_still_asks_the_planner_before_its_answer_starts(own_app, statements):
    features.SCOPE_ESTIMATES.clear()
    client = own_app.test_client()
    assert client.get("/api/collections/flood_zones/items?limit=5").status_code == 200
    statements.clear()
    response = client.get(f"/api/collections/flood_zones/items?limit={FETCH_ROWS + 1}")
    response.get_data()
    assert any(text.lstrip().upper().startswith("EXPLAIN") for text, _ in statements)
