"""Test fixtures: a throw-away PostGIS database per session, a rolled-back transaction per test.

Factories commit, as production code would before a request sees the data; with
join_transaction_mode="create_savepoint" a commit only releases a savepoint of the test's
outer transaction, which is rolled back at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from geoalchemy2.shape import from_shape
from shapely import wkt
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from geoapp import create_app
from geoapp.db.models import Dataset, FloodZone, User
from geoapp.db.queries.datasets import refresh_dataset_summary
from geoapp.extensions import db
from geoapp.users import accounts

TEST_PASSWORD = "correct horse battery"
# For apps and servers run without TESTING, which refuse short or placeholder keys.
SERVER_SECRET_KEY = "tests-only-key-5d0b3f8a9e6c4721b0a9f3e2c1"


def server_url() -> sa.URL:
    """Where test databases are created: GEOAPP_TEST_DATABASE_URL, else the private cluster."""
    raw = os.environ.get("GEOAPP_TEST_DATABASE_URL") or (
        f"postgresql+psycopg2://postgres@127.0.0.1:{os.environ.get('GEOAPP_PG_PORT', '54329')}"
        "/postgres"
    )
    return make_url(raw.replace("postgresql://", "postgresql+psycopg2://", 1))


@pytest.fixture()
def empty_database() -> Iterator[str]:
    """A brand-new empty database (no PostGIS yet), dropped afterwards."""
    admin = sa.create_engine(server_url(), isolation_level="AUTOCOMMIT")
    name = f"floodmanager_empty_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server_url().set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database for this test session, dropped at the end."""
    admin_url = server_url()
    name = f"floodmanager_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.exit(
            f"cannot reach PostgreSQL at {admin_url.render_as_string()}: {exc.orig}\n"
            "Run the tests with `make test` (it starts the project's cluster) or set "
            "GEOAPP_TEST_DATABASE_URL.",
            returncode=2,
        )
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (Debian's, not a downloaded one)."""
    from playwright.sync_api import sync_playwright

    from tests.live_server import CHROMIUM_FLAGS, chromium_path

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(),
                                              args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture()
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine of its own on the test database, for what other processes must see committed."""
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The application on the test database, schema created by the real migrations."""
    application = create_app(
        {
            "TESTING": True,
            # Rolled-back tests would leave their rasters' files behind in instance/.
            "GEOAPP_RASTER_DIR": str(tmp_path_factory.mktemp("rasters")),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            # Rolled-back tests reuse data versions, so cached tiles could outlive their data.
            "GEOAPP_TILE_CACHE_MB": 0,
            # Every test calls from 127.0.0.1; the limits are tested with apps of their own.
            "GEOAPP_RATELIMIT_ENABLED": False,
        }
    )
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture()
def session(app: Flask) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    The app's own commits become savepoints, so routes and CLI commands behave as in
    production while nothing outlives the test.
    """
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture()
def client(app: Flask, session: Session) -> FlaskClient:
    """Test client whose requests run inside the test's transaction."""
    return app.test_client()


def as_multipolygon(shape: BaseGeometry | str) -> MultiPolygon:
    """Shapely geometry (or WKT) as a MultiPolygon."""
    geometry = wkt.loads(shape) if isinstance(shape, str) else shape
    return MultiPolygon([geometry]) if isinstance(geometry, Polygon) else geometry


@pytest.fixture()
def make_dataset(session: Session) -> Callable[..., Dataset]:
    """Factory: a ready dataset with overridable attributes."""

    def factory(**overrides: Any) -> Dataset:
        values: dict[str, Any] = {"name": f"dataset {uuid.uuid4().hex[:6]}", "status": "ready"}
        values.update(overrides)
        dataset = Dataset(**values)
        session.add(dataset)
        session.commit()
        return dataset

    return factory


@pytest.fixture()
def make_zone(session: Session, make_dataset: Callable[..., Dataset]) -> Callable[..., FloodZone]:
    """Factory: a flood zone from a shapely geometry or WKT (default: a unit-ish square AE)."""

    def factory(
        shape: BaseGeometry | str = "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))",
        dataset: Dataset | None = None,
        **overrides: Any,
    ) -> FloodZone:
        values: dict[str, Any] = {"fld_zone": "AE", "sfha_tf": True, "attributes": {}}
        values.update(overrides)
        zone = FloodZone(
            dataset=dataset or make_dataset(),
            geom=from_shape(as_multipolygon(shape), srid=4326),
            **values,
        )
        session.add(zone)
        session.flush()
        refresh_dataset_summary(session, zone.dataset)
        session.commit()
        return zone

    return factory


@pytest.fixture()
def analyzed(session: Session) -> Callable[[], None]:
    """Refresh the planner's statistics of the zone table within the test's transaction.

    Whether a page counts its rows (numberMatched) follows the planner's estimate, and
    ANALYZE writes a table's row count in place, outside transactions: a test that analyzed
    thousands of zones leaves that estimate behind its rollback. Tests asserting the count
    analyze their own rows first.
    """

    def refresh() -> None:
        session.execute(sa.text("ANALYZE flood_zones"))

    return refresh


@pytest.fixture()
def make_user(session: Session) -> Callable[..., User]:
    """Factory: a user with a role (password TEST_PASSWORD)."""

    def factory(role: str = "viewer", email: str | None = None) -> User:
        user = accounts.create_user(
            session, email or f"{role}-{uuid.uuid4().hex[:6]}@example.org", TEST_PASSWORD, role
        )
        session.commit()
        return user

    return factory


@pytest.fixture()
def make_token(session: Session) -> Callable[..., accounts.IssuedToken]:
    """Factory: a committed API token for a user."""

    def factory(user: User, name: str = "") -> accounts.IssuedToken:
        issued = accounts.create_token(session, user, name)
        session.commit()
        return issued

    return factory


@pytest.fixture()
def make_raster(app: Flask, session: Session) -> Callable[..., Dataset]:
    """Factory: a raster GeoTIFF imported as a dataset version (runs.run_import, in the test's
    transaction; its COG stored under the test app's GEOAPP_RASTER_DIR). Fields are those of
    an upload: kind (dem, depth or wse), name, event, vertical_datum, unit, effective_date."""
    from geoapp.ingest import files, jobs, runs
    from geoapp.ingest.request import ImportRequest

    def factory(path: Any, kind: str = "dem", name: str | None = None,
                **fields: Any) -> Dataset:
        request = ImportRequest.parse({"name": name or f"raster {uuid.uuid4().hex[:6]}",
                                       "kind": kind, **fields})
        dataset = runs.create_pending(session, request, path.name, None)
        runs.run_import(session, dataset, path, request, files.UnpackLimits(),
                        raster_target=jobs.raster_target(app))
        return dataset

    return factory
