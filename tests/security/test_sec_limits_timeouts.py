"""Statement budgets per kind of request, query_timeout answers, and a connection lost at the
end of a request: all against real PostgreSQL backends (locks, pg_terminate_backend)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask, Response
from sqlalchemy.exc import OperationalError

from geoapp import create_app
from geoapp.extensions import db
from geoapp.ogc.features import FETCH_ROWS

READ_BUDGET_MS = 300
HEAVY_BUDGET_MS = 1500
DEFAULT_BUDGET_MS = 4000


@pytest.fixture()
def budget_app(app: Flask, database_url: str) -> Iterator[Flask]:
    """An app of its own (own engine, no test transaction) with short budgets per kind."""
    application = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "GEOAPP_STATEMENT_TIMEOUT_READ_MS": READ_BUDGET_MS,
        "GEOAPP_STATEMENT_TIMEOUT_HEAVY_MS": HEAVY_BUDGET_MS,
        "GEOAPP_STATEMENT_TIMEOUT_MS": DEFAULT_BUDGET_MS,
        "GEOAPP_TILE_CACHE_MB": 0,
        "RATELIMIT_ENABLED": False,
    })
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture()
def admin_engine(database_url: str) -> Iterator[sa.Engine]:
    """A second, independent way into the test database."""
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@contextmanager
def zones_locked(engine: sa.Engine) -> Iterator[None]:
    """Hold an exclusive lock on flood_zones: every query reading it waits."""
    with engine.connect() as connection:
        connection.exec_driver_sql("BEGIN")
        connection.exec_driver_sql("LOCK TABLE flood_zones IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            connection.exec_driver_sql("ROLLBACK")


def timed_get(app: Flask, path: str) -> tuple[Response, float]:
    started = time.perf_counter()
    response = app.test_client().get(path)
    return response, time.perf_counter() - started


def test_a_read_past_its_budget_answers_503_query_timeout(budget_app, admin_engine):
    with zones_locked(admin_engine):
        response, elapsed = timed_get(budget_app, "/api/lookup?lon=0&lat=0")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "query_timeout"
    assert "took too long" in body["message"]
    # Cancelled after the read budget, not the connection's default.
    assert READ_BUDGET_MS / 1000 * 0.9 <= elapsed < DEFAULT_BUDGET_MS / 1000 * 0.75


def test_a_large_page_gets_the_heavy_budget(budget_app, admin_engine):
    with zones_locked(admin_engine):
        small, small_elapsed = timed_get(budget_app, "/api/collections/flood_zones/items?limit=10")
        large, large_elapsed = timed_get(budget_app,
                                         "/api/collections/flood_zones/items?limit=5000")
    assert small.status_code == large.status_code == 503
    assert small.get_json()["error"] == large.get_json()["error"] == "query_timeout"
    assert small_elapsed < HEAVY_BUDGET_MS / 1000 * 0.75
    assert HEAVY_BUDGET_MS / 1000 * 0.9 <= large_elapsed < DEFAULT_BUDGET_MS / 1000 * 0.9


def test_the_budget_ends_with_the_request(budget_app, admin_engine):
    def outside_a_request() -> str:
        with budget_app.app_context():
            value = db.session.execute(sa.text("SHOW statement_timeout")).scalar()
            db.session.rollback()
            return value

    # Outside requests (CLI, worker) connections keep their default.
    default = outside_a_request()
    assert default != f"{READ_BUDGET_MS}ms"
    with zones_locked(admin_engine):
        assert timed_get(budget_app, "/api/lookup?lon=0&lat=0")[0].status_code == 503
    assert budget_app.test_client().get("/api/lookup?lon=0&lat=0").status_code == 200
    with budget_app.app_context():
        assert db.engine.pool.checkedout() == 0 and db.engine.pool.size() >= 1
    assert outside_a_request() == default


def test_a_streamed_page_reads_under_its_budget_and_is_cut_visibly(budget_app, admin_engine,
                                                                    caplog):
    # The view answers 200 and returns; the page's rows are read while the body streams,
    # in a session of their own (Flask has ended the view's by then). Pages larger than one
    # FETCH stream; smaller ones are read whole in the view.
    response = budget_app.test_client().get(
        f"/api/collections/flood_zones/items?limit={FETCH_ROWS + 1}")
    assert response.is_streamed
    assert response.status_code == 200
    with caplog.at_level(logging.ERROR, logger="geoapp.web.guards.request_db"):
        with zones_locked(admin_engine):
            started = time.perf_counter()
            with pytest.raises(OperationalError) as raised:
                response.get_data()
            elapsed = time.perf_counter() - started
    # Cancelled after the read budget (not the connection's 30 s), and logged as a cut body:
    # the server aborts the transfer instead of completing it.
    assert raised.value.orig.pgcode == "57014"
    assert READ_BUDGET_MS / 1000 * 0.9 <= elapsed < DEFAULT_BUDGET_MS / 1000 * 0.75
    assert "cut after it started (query_timeout)" in caplog.text


def test_a_stream_cut_mid_way_is_logged_and_not_completed(session, caplog):
    from geoapp.web.guards.request_db import watched_stream

    def body() -> Iterator[str]:
        yield '{"type":"FeatureCollection","features":['
        session.execute(sa.text("SET LOCAL statement_timeout = 10"))
        session.execute(sa.text("SELECT pg_sleep(1)"))
        yield "]}"

    received: list[str] = []
    with caplog.at_level(logging.ERROR, logger="geoapp.web.guards.request_db"):
        with pytest.raises(OperationalError):
            for chunk in watched_stream(body(), "/api/collections/flood_zones/items"):
                received.append(chunk)
    session.rollback()
    assert received == ['{"type":"FeatureCollection","features":[']
    assert "cut after it started (query_timeout)" in caplog.text


def test_a_connection_killed_before_the_session_ends_is_not_a_500(budget_app, admin_engine):
    killed: list[int] = []

    @budget_app.after_request
    def kill_the_backend(response: Response) -> Response:
        # The view ran its queries; its transaction is still open on this backend.
        pid = db.session.connection().connection.dbapi_connection.get_backend_pid()
        with admin_engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(100):
                alive = connection.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                    {"pid": pid}).scalar()
                if not alive:
                    break
                time.sleep(0.05)
        killed.append(pid)
        return response

    response = budget_app.test_client().get("/api/lookup?lon=0&lat=0")
    assert killed, "the backend was killed during the request"
    # The answer was complete before the connection died: it is served, not a 500.
    assert response.status_code == 200
    assert response.get_json()["status"] == "unmapped"
    budget_app.after_request_funcs[None].remove(kill_the_backend)
    again = budget_app.test_client().get("/api/lookup?lon=0&lat=0")
    assert again.status_code == 200


@pytest.fixture()
def viewer_secret(budget_app) -> Iterator[str]:
    """A committed viewer and bearer token (the budget app sees only committed rows)."""
    from geoapp.db.models import User
    from geoapp.users import accounts

    email = f"budget-{uuid.uuid4().hex[:8]}@example.org"
    with budget_app.app_context():
        user = accounts.create_user(db.session, email, "correct horse battery", "viewer")
        secret = accounts.create_token(db.session, user).secret
        db.session.commit()
    yield secret
    with budget_app.app_context():
        db.session.execute(sa.delete(User).where(User.email == email))
        db.session.commit()


def test_a_parallel_batch_keeps_the_budget_on_its_extra_connections(budget_app, admin_engine,
                                                                    viewer_secret):
    # Enough points for two chunks, each run on a connection of its own by a worker thread.
    rows = "\n".join(f"{-75 + i * 1e-5},{40}" for i in range(10_001))
    client = budget_app.test_client()
    with zones_locked(admin_engine):
        started = time.perf_counter()
        response = client.post("/api/lookup/batch", data="lon,lat\n" + rows,
                               content_type="text/csv",
                               headers={"Authorization": f"Bearer {viewer_secret}"})
        elapsed = time.perf_counter() - started
    assert response.status_code == 503
    assert response.get_json()["error"] == "query_timeout"
    assert HEAVY_BUDGET_MS / 1000 * 0.9 <= elapsed < DEFAULT_BUDGET_MS / 1000 * 0.9


@pytest.fixture()
def huge_zone(budget_app, admin_engine) -> Iterator[int]:
    """A committed zone of 2 million vertices (writing its GeoJSON takes seconds), the
    newest of all; removed afterwards. Its pieces are not cut: lookups do not need it."""
    with admin_engine.connect() as connection:
        connection.exec_driver_sql("BEGIN")
        dataset_id = connection.execute(sa.text(
            "INSERT INTO datasets (name, status) VALUES (:name, 'ready') RETURNING id"),
            {"name": f"huge {uuid.uuid4().hex[:6]}"}).scalar()
        connection.exec_driver_sql(
            "ALTER TABLE flood_zones DISABLE TRIGGER flood_zone_pieces_insert")
        zone_id = connection.execute(sa.text(
            "INSERT INTO flood_zones (dataset_id, fld_zone, sfha_tf, geom) SELECT :dataset, "
            "'AE', true, ST_Multi(ST_Segmentize(ST_MakeEnvelope(0, 0, 1, 1, 4326), 0.000002)) "
            "RETURNING id"), {"dataset": dataset_id}).scalar()
        connection.exec_driver_sql(
            "ALTER TABLE flood_zones ENABLE TRIGGER flood_zone_pieces_insert")
        connection.exec_driver_sql("COMMIT")
    yield zone_id
    with admin_engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM datasets WHERE id = :id"), {"id": dataset_id})


def test_a_real_server_cuts_a_stream_that_times_out_instead_of_completing_it(
        budget_app, huge_zone, caplog):
    import http.client
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, budget_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        # The newest zone is the huge one. Counting and planning the page are quick; writing
        # the huge zone is not, and it happens while the body streams, after the 200 (a page
        # larger than one FETCH streams).
        connection.request("GET", f"/api/collections/flood_zones/items?limit={FETCH_ROWS + 1}"
                           "&sortby=-id&crs=http://www.opengis.net/def/crs/EPSG/0/3857")
        with caplog.at_level(logging.ERROR, logger="geoapp.web.guards.request_db"):
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Transfer-Encoding") == "chunked"
            with pytest.raises(http.client.IncompleteRead) as raised:
                response.read()
        assert raised.value.partial.startswith(b'{"type":"FeatureCollection","features":[')
        assert "cut after it started (query_timeout)" in caplog.text
        connection.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_small_page_that_times_out_is_a_503_not_a_cut_body(budget_app, huge_zone):
    # A page of at most one FETCH is read whole before the response starts: the same slow
    # huge zone is then an error the client can read, not a truncated 200.
    response = budget_app.test_client().get(
        "/api/collections/flood_zones/items?limit=1&sortby=-id"
        "&crs=http://www.opengis.net/def/crs/EPSG/0/3857")
    assert response.status_code == 503
    assert response.get_json()["error"] == "query_timeout"
