"""Hot statements prepared on the server (geoapp/db/compiled.py): prepared once per connection,
the same rows as their text, planned once only where they ask for it, never prepared inside a
transaction, and run as text again when the server no longer has them.

The connections here are autocommit connections of an engine of their own, as the app's single
reads are: the shared test session runs in a transaction, where nothing is prepared.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import Integer, String, bindparam, func, select
from sqlalchemy.orm import Session

from geoapp.db import compiled, connections
from geoapp.db.models import Dataset, FloodZone
from geoapp.db.queries import lookup as lookup_sql
from geoapp.db.queries.datasets import refresh_dataset_summary

# Built once, as run() requires.
DOUBLED = select((bindparam("n", type_=Integer) * 2).label("doubled"),
                 func.upper(bindparam("s", type_=String)).label("upper"))
GENERIC = compiled.generic_plan(select((bindparam("n", type_=Integer) + 1).label("next")))
# A parameter PostgreSQL cannot type: refused by PREPARE, so run as text.
UNTYPED = select(sa.literal_column("1").label("one")).where(bindparam("x").is_(None))


@pytest.fixture()
def prepared_engine(app, database_url: str) -> Iterator[sa.Engine]:
    """An engine that prepares, on the test database (migrated by the app fixture)."""
    engine = sa.create_engine(database_url)
    connections.install(engine, prepare=True)
    yield engine
    engine.dispose()


@pytest.fixture()
def autocommit(prepared_engine: sa.Engine) -> Iterator[sa.Connection]:
    """A pooled connection in autocommit, as a single read's."""
    with prepared_engine.connect() as connection:
        connection.connection.dbapi_connection.autocommit = True
        yield connection


def prepared_on(connection: sa.Connection) -> dict[str, tuple[int, int]]:
    """name -> (generic plans, custom plans) of what the server holds for this session."""
    with connection.connection.dbapi_connection.cursor() as cursor:
        cursor.execute("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements")
        return {name: (generic, custom) for name, generic, custom in cursor.fetchall()}


def name_of(statement: sa.Select, connection: sa.Connection) -> str:
    plain = compiled.plain_form(statement, connection.dialect)
    assert plain is not None and plain.prepared is not None
    return plain.prepared.name


def test_a_statement_is_prepared_once_and_gives_its_rows(autocommit):
    for n, s in [(1, "a"), (21, "flood"), (-4, "zone")]:
        assert [tuple(row) for row in compiled.run(autocommit, DOUBLED, {"n": n, "s": s})] \
            == [(2 * n, s.upper())]
    held = prepared_on(autocommit)
    name = name_of(DOUBLED, autocommit)
    assert name in held and sum(held[name]) == 3  # one PREPARE, three executions
    assert [n for n in held if n.startswith("geoapp_")] == [name]


def test_only_statements_that_ask_are_planned_once(autocommit):
    for n in range(8):
        assert compiled.run(autocommit, GENERIC, {"n": n})[0].next == n + 1
        compiled.run(autocommit, DOUBLED, {"n": n, "s": "x"})
    held = prepared_on(autocommit)
    assert held[name_of(GENERIC, autocommit)] == (8, 0)
    # PostgreSQL's own rule for the others: custom plans for (at least) the first five.
    assert held[name_of(DOUBLED, autocommit)][1] >= 5
    # The setting lasted as long as each statement: the session's own is untouched.
    assert autocommit.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"


def test_nothing_is_prepared_inside_a_transaction(prepared_engine):
    with prepared_engine.connect() as connection, connection.begin():
        connection.execute(sa.text("SELECT 1"))  # the transaction is open on the server
        assert compiled.run(connection, DOUBLED, {"n": 2, "s": "t"})[0].doubled == 4
        assert prepared_on(connection) == {}


def test_without_the_engine_option_nothing_is_prepared(database_url):
    engine = sa.create_engine(database_url)
    connections.install(engine, prepare=False)
    try:
        with engine.connect() as connection:
            connection.connection.dbapi_connection.autocommit = True
            assert compiled.run(connection, DOUBLED, {"n": 3, "s": "u"})[0].doubled == 6
            assert prepared_on(connection) == {}
    finally:
        engine.dispose()


def test_a_statement_the_server_refuses_to_prepare_runs_as_text(autocommit):
    assert [row.one for row in compiled.run(autocommit, UNTYPED, {"x": None})] == [1]
    assert compiled.run(autocommit, UNTYPED, {"x": 5}) == []
    assert name_of(UNTYPED, autocommit) in compiled.REFUSED
    assert prepared_on(autocommit) == {}


def test_statements_gone_from_the_server_are_prepared_again(autocommit):
    compiled.run(autocommit, DOUBLED, {"n": 1, "s": "a"})
    compiled.run(autocommit, GENERIC, {"n": 1})
    with autocommit.connection.dbapi_connection.cursor() as cursor:
        cursor.execute("DISCARD ALL")  # what a pooler's reset or another client may do
    # The EXECUTE fails for want of its statement; the text answers, the names are forgotten.
    assert compiled.run(autocommit, DOUBLED, {"n": 5, "s": "b"})[0].doubled == 10
    assert compiled.run(autocommit, DOUBLED, {"n": 6, "s": "c"})[0].doubled == 12
    assert compiled.run(autocommit, GENERIC, {"n": 2})[0].next == 3
    held = prepared_on(autocommit)
    assert set(held) == {name_of(DOUBLED, autocommit), name_of(GENERIC, autocommit)}
    assert held[name_of(GENERIC, autocommit)] == (1, 0)  # with its one plan again


@pytest.fixture()
def committed_zones(prepared_engine) -> Iterator[None]:
    """Zones committed far from every other test's (the lookups below need them on another
    connection than the test session's), deleted afterwards."""
    with Session(prepared_engine) as session:
        dataset = Dataset(name="prepared statements FIRM", status="ready")
        session.add(dataset)
        for shape, zone, sfha in [(box(150.0, -60.0, 150.01, -59.99), "AE", True),
                                  (box(150.01, -60.0, 150.03, -59.99), "X", False)]:
            session.add(FloodZone(dataset=dataset, geom=from_shape(MultiPolygon([shape]), 4326),
                                  fld_zone=zone, sfha_tf=sfha, attributes={}))
        session.flush()
        refresh_dataset_summary(session, dataset)
        session.commit()
        dataset_id = dataset.id
    try:
        yield
    finally:
        with Session(prepared_engine) as session:
            session.execute(sa.delete(FloodZone).where(FloodZone.dataset_id == dataset_id))
            session.execute(sa.delete(Dataset).where(Dataset.id == dataset_id))
            session.commit()


@pytest.mark.parametrize("lon, lat", [(150.005, -59.995), (150.025, -59.995), (150.5, -59.5)])
def test_the_prepared_lookup_gives_the_rows_of_its_text(committed_zones, autocommit, lon, lat):
    statement = lookup_sql.point_report()
    [search] = lookup_sql.search_boxes(lon, lat, 5000)
    parameters = lookup_sql.nearest_high_risk_params(lon, lat, 5000, search)
    expected = autocommit.execute(statement, parameters).all()
    for _ in range(7):  # past PostgreSQL's five custom plans: the generic plan answers
        rows = compiled.run(autocommit, statement, parameters)
        assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    assert prepared_on(autocommit)[name_of(statement, autocommit)] == (7, 0)
    if (lon, lat) == (150.025, -59.995):
        assert [row.fld_zone for row in rows] == ["X", "AE"]  # covering X, nearest AE


def test_a_prepare_that_waits_past_the_budget_is_the_requests_error(autocommit, database_url):
    statement = lookup_sql.point_report()
    [search] = lookup_sql.search_boxes(1.0, 1.0, 5000)
    parameters = lookup_sql.nearest_high_risk_params(1.0, 1.0, 5000, search)
    locker = sa.create_engine(database_url)
    try:
        with locker.connect() as holder:
            holder.exec_driver_sql("LOCK TABLE flood_zones IN ACCESS EXCLUSIVE MODE")
            autocommit.exec_driver_sql("SET statement_timeout = 200")
            with pytest.raises(sa.exc.DBAPIError) as raised:
                compiled.run(autocommit, statement, parameters)
            holder.rollback()
    finally:
        locker.dispose()
    autocommit.exec_driver_sql("RESET statement_timeout")
    # Cancelled (57014) while it waited for the lock: the request's error, not a refusal that
    # would leave the statement unprepared for the life of the process.
    assert raised.value.orig.pgcode == "57014"
    assert name_of(statement, autocommit) not in compiled.REFUSED
    assert compiled.run(autocommit, statement, parameters) == []
    assert name_of(statement, autocommit) in prepared_on(autocommit)
