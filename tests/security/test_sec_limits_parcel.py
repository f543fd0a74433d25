"""Parcels are refused beyond a vertex and an area limit, naming the limit, before any SQL."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa
from flask import Flask


def circle(lon: float, lat: float, radius_deg: float, vertices: int) -> dict:
    """A GeoJSON Polygon approximating a circle with `vertices` corners."""
    ring = [
        [lon + radius_deg * math.cos(2 * math.pi * i / vertices),
         lat + radius_deg * math.sin(2 * math.pi * i / vertices)]
        for i in range(vertices)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


WORLD = {"type": "Polygon",
         "coordinates": [[[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]]}


def statements_run(app: Flask, client, path: str, body: dict) -> tuple[int, dict, int]:
    """Status, JSON body and how many SQL statements the request ran."""
    from geoapp.extensions import db

    count = 0

    def counter(*_args) -> None:
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.post(path, json=body)
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    return response.status_code, response.get_json(), count


def test_a_million_vertices_are_refused_naming_the_limit_before_any_sql(app, client,
                                                                        monkeypatch):
    # The count runs on the parsed JSON; no geometry of a million points is built. (Checked
    # by refusing to build one rather than by a time bound, which a busy machine breaks.)
    def no_geometry(*_args):
        raise AssertionError("a geometry was built before the vertex count")

    monkeypatch.setattr("geoapp.risk.exposure.shape", no_geometry)
    status, body, statements = statements_run(app, client, "/api/lookup/area",
                                              circle(0.0, 0.0, 0.001, 1_000_000))
    assert status == 413
    assert body["error"] == "too_many_vertices"
    assert "10000" in body["message"] and "GEOAPP_PARCEL_MAX_VERTICES" in body["message"]
    assert statements == 0


@pytest.mark.parametrize("body", [WORLD, {"type": "MultiPolygon",
                                          "coordinates": [WORLD["coordinates"]]},
                                  {"type": "Feature", "properties": {},
                                   "geometry": circle(-75.0, 40.0, 0.5, 64)}])
def test_a_parcel_over_the_area_limit_is_refused_before_any_sql(app, client, body):
    status, answer, statements = statements_run(app, client, "/api/lookup/area", body)
    assert status == 413
    assert answer["error"] == "area_too_large"
    assert "100 km²" in answer["message"] and "GEOAPP_PARCEL_MAX_AREA_KM2" in answer["message"]
    assert statements == 0


def test_a_parcel_within_the_limits_is_measured(client):
    # About 1.2 km across: well inside both limits.
    response = client.post("/api/lookup/area", json=circle(-75.0, 40.0, 0.005, 500))
    assert response.status_code == 200
    assert response.get_json()["area_m2"] == pytest.approx(
        math.pi * (0.005 * 111_000) ** 2 * math.cos(math.radians(40)), rel=0.02)


def test_limits_follow_the_configuration(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "GEOAPP_PARCEL_MAX_VERTICES", 100)
    assert client.post("/api/lookup/area", json=circle(0, 0, 0.001, 99)).status_code == 200
    refused = client.post("/api/lookup/area", json=circle(0, 0, 0.001, 200))
    assert refused.status_code == 413 and "at most 100 " in refused.get_json()["message"]
    monkeypatch.setitem(app.config, "GEOAPP_PARCEL_MAX_AREA_KM2", 0.5)
    refused = client.post("/api/lookup/area", json=circle(0, 0, 0.01, 50))
    assert refused.status_code == 413 and refused.get_json()["error"] == "area_too_large"


def test_a_repaired_parcel_is_checked_too():
    from geoapp.risk.exposure import ParcelLimits, parcel_geometry

    # A bow tie over half the globe: invalid, repaired into two large triangles.
    bow_tie = {"type": "Polygon",
               "coordinates": [[[-90, -45], [90, 45], [90, -45], [-90, 45], [-90, -45]]]}
    with pytest.raises(Exception) as raised:
        parcel_geometry(bow_tie, True, ParcelLimits())
    assert getattr(raised.value, "code", None) == "area_too_large"


def test_equal_area_is_right_for_the_globe_and_a_small_square():
    from shapely.geometry import box

    from geoapp.risk.exposure import equal_area_km2

    assert equal_area_km2(box(-180, -90, 180, 90)) == pytest.approx(510_065_622, rel=1e-3)
    # One degree at the equator: about 111.3 km by 110.6 km (the sphere is 0.5% off).
    assert equal_area_km2(box(0, 0, 1, 1)) == pytest.approx(12_308, rel=1e-2)
