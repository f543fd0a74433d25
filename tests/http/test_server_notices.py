"""The statements of every read endpoint run without a server NOTICE.

A NOTICE is not harmless on a hot path: PostgreSQL formats it with the statement's text around
the offending position, and libpq scans that text once more on the client. An untyped
``geography`` cast (``geography(GEOMETRY,-1)``) raised three of them per lookup and cost the
lookup a third of its driver time.
"""

from __future__ import annotations

import pytest
from shapely.geometry import box, mapping

from geoapp.extensions import db

AE = box(0.0, 0.0, 0.01, 0.01)
X = box(0.01, 0.0, 0.03, 0.01)
PARCEL = box(0.005, 0.002, 0.015, 0.006)


@pytest.fixture()
def zones(make_dataset, make_zone):
    dataset = make_dataset(name="Notice FIRM")
    make_zone(AE, dataset=dataset, fld_zone="AE", static_bfe=9.0)
    x = make_zone(X, dataset=dataset, fld_zone="X", sfha_tf=False,
                  zone_subty="AREA OF MINIMAL FLOOD HAZARD")
    return x


@pytest.fixture()
def auth(make_user, make_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(make_user('viewer')).secret}"}


def notices_of(session) -> list[str]:
    return session.connection().connection.dbapi_connection.notices


@pytest.mark.parametrize("method, path, body", [
    ("get", "/api/lookup?lon=0.005&lat=0.005", None),           # inside the SFHA
    ("get", "/api/lookup?lon=0.025&lat=0.005", None),           # outside: the nearest SFHA too
    ("post", "/api/lookup/area", mapping(PARCEL)),
    ("post", "/api/lookup/batch", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0.025, 0.005]},
         "properties": {}}]}),
    ("get", "/api/collections/flood_zones/items?limit=5", None),
    ("get", "/api/collections/flood_zones/items?bbox=0,0,0.02,0.01", None),
    ("get", "/api/collections/flood_zones/items/{x}", None),
    ("get", "/api/collections/flood_zones/tiles/WebMercatorQuad/14/8192/8191", None),
])
def test_read_statements_raise_no_notice(client, session, zones, auth, method, path, body):
    notices = notices_of(session)
    notices.clear()
    response = getattr(client, method)(path.format(x=zones.id), json=body, headers=auth)
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    # The request ran on this test's connection (the session fixture binds it).
    assert db.session.connection().connection.dbapi_connection is \
        session.connection().connection.dbapi_connection
    assert notices_of(session) == []
