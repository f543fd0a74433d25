"""The committed sample data: what it contains, its two encodings agree, and lookups on it
agree with shapely's own point-in-polygon."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import CRS

from geoapp.cli import SAMPLE_FILE
from geoapp.ingest import pipeline, runs
from geoapp.ingest.request import ImportRequest
from geoapp.ingest.sources import read_layer
from geoapp.risk import lookup

SAMPLE_DIR = SAMPLE_FILE.parent
SHAPEFILE_ZIP = SAMPLE_DIR / "manasquan_nfhl_nj_stateplane.zip"
KNOWN_POINTS = json.loads((SAMPLE_DIR / "known_points.json").read_text(encoding="utf-8"))
# Points closer than this to a zone edge are left out of the comparison with shapely: the
# subdivided pieces' cut vertices may sit a few ulps off the original edge.
EDGE_TOLERANCE_DEG = 1e-9


@pytest.fixture(scope="module")
def geojson_layer():
    return read_layer(SAMPLE_FILE)


@pytest.fixture(scope="module")
def shapefile_layer():
    return read_layer(f"/vsizip/{SHAPEFILE_ZIP}")


def test_sample_covers_the_flood_zone_vocabulary(geojson_layer) -> None:
    records = list(geojson_layer.features())
    zones = {p["FLD_ZONE"] for _, p in records}
    assert {"A", "AE", "AO", "AH", "VE", "X", "D", "OPEN WATER"} <= zones
    subtypes = {p["ZONE_SUBTY"] for _, p in records}
    assert {"FLOODWAY", "0.2 PCT ANNUAL CHANCE FLOOD HAZARD",
            "AREA OF MINIMAL FLOOD HAZARD"} <= subtypes
    assert any(p["FLD_ZONE"] == "AE" and p["STATIC_BFE"] == -9999 for _, p in records)
    assert any(p["FLD_ZONE"] == "AE" and p["STATIC_BFE"] > 0 for _, p in records)
    assert any(p["FLD_ZONE"] == "AO" and p["DEPTH"] > 0 for _, p in records)
    assert any(len(g.geoms) > 1 for g, _ in records)
    assert any(poly.interiors for g, _ in records for poly in g.geoms)
    assert any(not p["NOTE"].isascii() for _, p in records)


def test_shapefile_is_projected_with_esri_prj_and_cp1252(shapefile_layer) -> None:
    with zipfile.ZipFile(SHAPEFILE_ZIP) as archive:
        names = {Path(n).suffix for n in archive.namelist()}
        prj = archive.read(next(n for n in archive.namelist() if n.endswith(".prj"))).decode()
        cpg = archive.read(next(n for n in archive.namelist() if n.endswith(".cpg"))).decode()
    assert {".shp", ".shx", ".dbf", ".prj", ".cpg"} <= names
    assert prj.startswith("PROJCS[") and "StatePlane_New_Jersey" in prj
    assert cpg.strip().upper() == "CP1252"
    assert CRS.from_wkt(prj).to_epsg(min_confidence=70) == 3424
    assert shapefile_layer.source_crs == "EPSG:3424"


def test_shapefile_reprojects_onto_the_geojson(geojson_layer, shapefile_layer) -> None:
    assert len(shapefile_layer.geometries) == len(geojson_layer.geometries)
    for (from_shp, shp_props), (from_json, json_props) in zip(
        shapefile_layer.features(), geojson_layer.features(), strict=True
    ):
        assert shp_props["FLD_AR_ID"] == json_props["FLD_AR_ID"]
        assert shp_props["NOTE"] == json_props["NOTE"]
        # GeoJSON keeps 7 decimals (~1 cm); both come from the same drawing.
        assert shapely.hausdorff_distance(from_shp, from_json) < 2e-7


@pytest.fixture()
def sample(session, geojson_layer):
    options = ImportRequest(name="Sample under test")
    dataset = runs.create_pending(session, options, SAMPLE_FILE.name, None)
    pipeline.import_layer(session, dataset, SAMPLE_FILE, options)
    session.commit()
    return dataset


@pytest.mark.parametrize("known", KNOWN_POINTS, ids=[p["name"] for p in KNOWN_POINTS])
def test_known_points_are_in_their_zone(session, sample, known) -> None:
    report = lookup.lookup_point(session, known["lon"], known["lat"])
    found = {z.fld_ar_id for z in report.zones}
    assert found == ({known["fld_ar_id"]} if known["fld_ar_id"] else set())
    assert known.get("not_in") not in found


@given(data=st.data())
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_lookup_agrees_with_shapely(session, sample, geojson_layer, data) -> None:
    minx, miny, maxx, maxy = shapely.total_bounds(geojson_layer.geometries)
    margin = 0.01  # also try points beyond the mapped area
    lon = data.draw(st.floats(minx - margin, maxx + margin), label="lon")
    lat = data.draw(st.floats(miny - margin, maxy + margin), label="lat")
    point = shapely.Point(lon, lat)
    geometries = np.array(geojson_layer.geometries, dtype=object)
    assume(shapely.distance(shapely.boundary(geometries), point).min() > EDGE_TOLERANCE_DEG)
    expected = {
        props["FLD_AR_ID"] for geom, props in geojson_layer.features() if geom.covers(point)
    }
    report = lookup.lookup_point(session, lon, lat, nearest_radius_m=0)
    assert {z.fld_ar_id for z in report.zones} == expected
