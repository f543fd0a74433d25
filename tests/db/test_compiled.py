"""Statements run straight on the driver's cursor (geoapp/db/compiled.py): the same rows as
SQLAlchemy's execution, SQLAlchemy's processing kept where a statement needs it, and driver
errors seen as SQLAlchemy's."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, func, select

from geoapp.db import compiled
from geoapp.db.models import FloodZone
from geoapp.db.queries import lookup as lookup_sql

SQUARE = "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"


def point_parameters(lon: float, lat: float) -> dict:
    [box] = lookup_sql.search_boxes(lon, lat, 5000)
    return lookup_sql.nearest_high_risk_params(lon, lat, 5000, box)


@pytest.mark.parametrize("lon, lat", [(0.5, 0.5), (0.99, 0.5), (30.0, 30.0)])
def test_rows_are_those_sqlalchemy_returns(session, make_zone, lon, lat):
    make_zone(SQUARE, fld_zone="X", sfha_tf=False, static_bfe=None)
    make_zone("POLYGON((1.02 0, 2 0, 2 1, 1.02 1, 1.02 0))", fld_zone="AE", static_bfe=7.5)
    statement = lookup_sql.point_report()
    assert compiled.plain_form(statement, session.connection().dialect) is not None
    parameters = point_parameters(lon, lat)
    expected = session.connection().execute(statement, parameters).all()
    rows = compiled.run(session.connection(), statement, parameters)
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    assert [row.is_nearest for row in rows] == [row.is_nearest for row in expected]
    if (lon, lat) == (0.99, 0.5):
        # Covering X, nearest AE 3.3 km east: both kinds of row, named.
        assert [row.fld_zone for row in rows] == ["X", "AE"]
        assert rows[1].distance_m == pytest.approx(3340, rel=0.01)


def test_statements_that_need_sqlalchemy_run_through_it(session, make_zone):
    zone = make_zone(SQUARE)
    expanding = select(FloodZone.id).where(FloodZone.id.in_(bindparam("ids", expanding=True)))
    assert compiled.plain_form(expanding, session.connection().dialect) is None
    assert [row.id for row in compiled.run(session.connection(), expanding,
                                           {"ids": [zone.id, -1]})] == [zone.id]


def test_a_driver_error_is_raised_as_sqlalchemys(session):
    statement = select(func.ST_GeomFromText(bindparam("wkt", type_=sa.String)).label("g"))
    with pytest.raises(sa.exc.DBAPIError) as raised:
        compiled.run(session.connection(), statement, {"wkt": "POLYGON((not wkt"})
    assert "parse error" in str(raised.value.orig)
    assert not raised.value.connection_invalidated


def test_a_lost_connection_is_invalidated(engine, database_url):
    statement = select(func.pg_backend_pid().label("pid"), bindparam("n", type_=sa.Integer))
    with engine.connect() as connection:
        [(pid, _)] = compiled.run(connection, statement, {"n": 1})
        admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        with pytest.raises(sa.exc.DBAPIError) as raised:
            compiled.run(connection, statement, {"n": 2})
        assert raised.value.connection_invalidated
        assert connection.invalidated
