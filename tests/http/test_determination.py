"""GET /api/lookup's determination (and the batch's panel and community) on the sample package.

The expected answers at the named points of data/sample/package_points.json were worked out by
data/generate_sample.py with shapely from the shapes it drew; other points are checked against
shapely's point-in-polygon on the geometries read back from the database.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer
from shapely.geometry import Point, shape
from sqlalchemy import func, select

from geoapp.cli import SAMPLE_FILE
from geoapp.db.models import FirmPanel, FloodZone, PoliticalArea
from geoapp.ingest import files, runs
from geoapp.ingest.request import ImportRequest

SAMPLE_DIR = SAMPLE_FILE.parent
PACKAGE_ZIP = SAMPLE_DIR / "manasquan_nfhl_package.zip"
PACKAGE_GDB_ZIP = SAMPLE_DIR / "manasquan_nfhl_package.gdb.zip"
POINTS = json.loads((SAMPLE_DIR / "package_points.json").read_text(encoding="utf-8"))
BY_NAME = {point["name"]: point for point in POINTS}
LIMITS = files.UnpackLimits(max_uncompressed_bytes=50 << 20, max_ratio=100)
TOLERANCE_M = 11.6  # GEOAPP_BOUNDARY_TOLERANCE_M
# Random points this close to a panel or community edge are left out of the shapely check.
EDGE_TOLERANCE_DEG = 1e-8


def import_package(session, path, name: str):
    request = ImportRequest.parse({"name": name})
    dataset = runs.create_pending(session, request, path.name, None)
    runs.run_import(session, dataset, path, request, LIMITS)
    return dataset


@pytest.fixture()
def package(session):
    """The sample package of shapefiles, imported in the test's transaction."""
    return import_package(session, PACKAGE_ZIP, "Manasquan package")


@pytest.fixture()
def auth(make_user, make_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(make_user('viewer')).secret}"}


def lookup(client, dataset, lon: float, lat: float, **params: Any) -> dict[str, Any]:
    """GET /api/lookup on one dataset (a Dataset, or its id once a batch closed the session)."""
    dataset_id = dataset if isinstance(dataset, int) else dataset.id
    response = client.get("/api/lookup", query_string={"lon": lon, "lat": lat,
                                                       "dataset": dataset_id, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def shapes_of(session, model, dataset) -> list[tuple[Any, Any]]:
    """(row, shapely geometry in WGS84) of a layer's rows, as stored."""
    rows = session.execute(select(model, func.ST_AsGeoJSON(model.geom))
                           .where(model.dataset_id == dataset.id).order_by(model.id)).all()
    return [(row, shape(json.loads(geojson))) for row, geojson in rows]


# --- the named points -------------------------------------------------------------------------

@pytest.mark.parametrize("path", [PACKAGE_ZIP, PACKAGE_GDB_ZIP], ids=["shapefiles", "gdb"])
@pytest.mark.parametrize("name", list(BY_NAME))
def test_determination_at_the_package_points(client, session, path, name) -> None:
    dataset = import_package(session, path, "Manasquan package")
    point, expected = BY_NAME[name], BY_NAME[name]["expected"]
    body = lookup(client, dataset, point["lon"], point["lat"])
    found = body["determination"]

    if expected["fld_zone"] is None:
        assert body["status"] == "unmapped" and body["zones"] == []
    else:
        [zone] = body["zones"]
        assert (zone["zone"], zone["fld_ar_id"]) == (expected["fld_zone"], expected["fld_ar_id"])
        assert (zone["subtype"] or "") == expected["zone_subty"]

    panel = found["firm_panel"]
    if expected["firm_pan"] is None:
        assert panel is None
    else:
        assert panel["firm_pan"] == expected["firm_pan"]
        assert panel["panel_type"] == expected["panel_typ"]
        assert panel["printed"] is (not expected["panel_typ"].endswith("Not Printed"))
        assert panel["suffix"] == expected["firm_pan"][-1]
        assert panel["dataset_id"] == dataset.id
    assert found["community"]["cid"] == expected["cid"]

    assert [lomr["case_no"] for lomr in found["lomrs"]] == (
        [expected["lomr_case_no"]] if expected["lomr_case_no"] else [])
    assert found["cbrs"]["in_cbrs"] is (expected["cbrs_id"] is not None)
    assert found["cbrs"]["unit"] == expected["cbrs_id"]

    bfe = found["bfe"]
    if expected["static_bfe"] is not None:
        assert (bfe["value"], bfe["estimated"], bfe["method"]) == (
            expected["static_bfe"], False, "static")
        assert bfe["vertical_datum"] == "NAVD88" and bfe["length_unit"] == "Feet"
    elif expected["bfe_estimate"] is not None:
        assert bfe["value"] == pytest.approx(expected["bfe_estimate"], abs=0.01)
        assert bfe["estimated"] is True
        assert bfe["method"] in ("on_bfe_line", "interpolated_between_bfe_lines")
        assert bfe["vertical_datum"] == "NAVD88" and bfe["length_unit"] == "Feet"
        used = {line["bfe_ln_id"]: line for line in expected["bfe_lines"]}
        assert bfe["sources"], bfe
        for source in bfe["sources"]:
            assert source["kind"] == "bfe_line"
            assert source["label"] in used
            assert source["elevation"] == used[source["label"]]["elev"]
            assert source["distance_m"] == pytest.approx(used[source["label"]]["distance_m"],
                                                         abs=0.5)
    else:
        assert bfe["value"] is None and bfe["estimated"] is False and bfe["reason"]
    # Named points keep 30 m and more from every edge: none is within map accuracy.
    assert found["near_sfha_boundary"] is False and found["review"] is None


def test_on_a_bfe_line_and_between_two(client, package) -> None:
    on_line = BY_NAME["bfe_line_-5000"]
    bfe = lookup(client, package, on_line["lon"], on_line["lat"])["determination"]["bfe"]
    assert (bfe["value"], bfe["estimated"], bfe["method"]) == (12.0, True, "on_bfe_line")
    between = BY_NAME["between_-4000_-5000"]
    bfe = lookup(client, package, between["lon"], between["lat"])["determination"]["bfe"]
    assert (bfe["value"], bfe["estimated"]) == (11.5, True)
    assert bfe["method"] == "interpolated_between_bfe_lines"
    assert sorted(source["label"] for source in bfe["sources"]) == ["34025C_3", "34025C_4"]


def test_a_bfe_line_on_the_zone_edge_brackets_the_point(client, package) -> None:
    # known_points.json's "ae_without_bfe": zone 34025C_9, ~80 m west of the 12 ft line.
    bfe = lookup(client, package, -74.094108, 40.098892)["determination"]["bfe"]
    assert bfe["method"] == "interpolated_between_bfe_lines"
    assert sorted(source["label"] for source in bfe["sources"]) == ["34025C_4", "34025C_5"]
    assert 12.0 < bfe["value"] < 12.5


def test_lomrs_are_those_in_force_on_the_day_asked(client, package) -> None:
    point = BY_NAME["lomr"]  # LOMR 19-02-1234P, effective 2020-06-15
    before = lookup(client, package, point["lon"], point["lat"], as_of="2019-06-01")
    assert before["determination"]["lomrs"] == []
    assert before["determination"]["as_of"] == "2019-06-01"
    assert "as_of=2019-06-01" in before["determination"]["permalink"]
    after = lookup(client, package, point["lon"], point["lat"], as_of="2020-06-15")
    assert [lomr["case_no"] for lomr in after["determination"]["lomrs"]] == ["19-02-1234P"]
    assert after["determination"]["lomrs"][0]["effective_date"] == "2020-06-15"


def test_where_no_panel_is_the_reason_says_so(client, package) -> None:
    point = BY_NAME["no_panel"]
    body = lookup(client, package, point["lon"], point["lat"])
    assert body["status"] == "unmapped"
    found = body["determination"]
    assert found["firm_panel"] is None
    assert "firm_panel" in found["reasons"] and "panel" in found["reasons"]["firm_panel"]
    assert found["community"]["cid"] == "340289"  # the community is there all the same
    assert "community" not in found["reasons"]


def test_community_dates_are_null_where_fema_wrote_a_sentinel(client, package) -> None:
    west = BY_NAME["community_west"]  # Brielle: never identified (8888-08-08)
    community = lookup(client, package, west["lon"], west["lat"])["determination"]["community"]
    assert community["name"] == "BOROUGH OF BRIELLE"
    assert community["identified"] is None
    assert community["entered_nfip"] == "1974-07-19"
    east = BY_NAME["community_east"]  # Manasquan: NFIP entry date not known (9999-09-09)
    community = lookup(client, package, east["lon"], east["lat"])["determination"]["community"]
    assert community["name"] == "BOROUGH OF MANASQUAN"
    assert community["entered_nfip"] is None and community["identified"] == "1974-05-31"


def test_zones_only_has_no_determination(client, package) -> None:
    point = BY_NAME["lomr"]
    body = lookup(client, package, point["lon"], point["lat"], detail="zones")
    assert "determination" not in body
    assert [zone["fld_ar_id"] for zone in body["zones"]] == ["34025C_7"]
    full = lookup(client, package, point["lon"], point["lat"])
    assert {k: v for k, v in full.items() if k != "determination"} == body


@pytest.mark.parametrize("name", list(BY_NAME))
def test_the_permalink_gives_the_same_determination(client, package, name) -> None:
    point = BY_NAME[name]
    first = lookup(client, package, point["lon"], point["lat"])
    link = first["determination"]["permalink"]
    assert f"dataset={package.id}" in link and "as_of=" in link
    response = client.get(link)
    assert response.status_code == 200
    again = response.get_json()
    assert again["determination"] == first["determination"]
    assert again["zones"] == first["zones"]


def test_citation_names_the_file_by_its_checksum(client, package) -> None:
    point = BY_NAME["cbrs"]
    found = lookup(client, package, point["lon"], point["lat"])["determination"]
    [citation] = found["citations"]
    assert citation["source_sha256"] == hashlib.sha256(PACKAGE_ZIP.read_bytes()).hexdigest()
    assert citation["dataset_id"] == package.id
    assert citation["version"] == 1
    assert citation["source_filename"] == PACKAGE_ZIP.name
    assert citation["study_name"] == "MONMOUTH COUNTY, NEW JERSEY (ALL JURISDICTIONS)"
    assert "Not an official FEMA" in found["disclaimer"]


def test_a_second_version_is_cited_as_such(client, session, package) -> None:
    newer = import_package(session, PACKAGE_GDB_ZIP, "Manasquan package")
    point = BY_NAME["cbrs"]
    [citation] = lookup(client, newer, point["lon"], point["lat"])["determination"]["citations"]
    assert citation["version"] == 2
    assert citation["source_sha256"] == hashlib.sha256(PACKAGE_GDB_ZIP.read_bytes()).hexdigest()


# --- the SFHA boundary, within map accuracy or not --------------------------------------------

def local_frame(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """WGS84 <-> metres around a point (azimuthal equidistant)."""
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    wgs84 = CRS.from_epsg(4326)
    return (Transformer.from_crs(wgs84, local, always_xy=True),
            Transformer.from_crs(local, wgs84, always_xy=True))


def to(transformer: Transformer, geometry):
    return shapely.transform(geometry, transformer.transform, interleaved=False)


@pytest.fixture()
def sfha_edge(session, package):
    """A point on the edge between an AE zone and the 0.2% annual chance X zone, the direction
    into the AE zone there, and the land in and out of the SFHA (all in metres around it)."""
    zones = [(zone.risk_status, zone.fld_zone, zone.zone_subty, geometry)
             for zone, geometry in shapes_of(session, FloodZone, package)]
    moderate = next(g for _, fld, subtype, g in zones
                    if fld == "X" and subtype and subtype.startswith("0.2 PCT"))
    shared = [(fld, g.boundary.intersection(moderate.buffer(1e-7)))
              for status, fld, _, g in zones if fld == "AE"]
    _, edge = max(shared, key=lambda item: item[1].length)
    parts = [part for part in getattr(edge, "geoms", [edge]) if part.geom_type == "LineString"]
    longest = max(parts, key=lambda part: part.length)
    on_edge = longest.interpolate(0.5, normalized=True)
    forward, back = local_frame(on_edge.x, on_edge.y)
    sfha = to(forward, shapely.union_all([g for s, _, _, g in zones if s == "high_risk"]))
    other = to(forward, shapely.union_all([g for s, _, _, g in zones
                                           if s not in ("high_risk", "unmapped")]))
    line = to(forward, longest)
    here = line.project(Point(0, 0))
    a, b = line.interpolate(here - 2.0), line.interpolate(here + 2.0)
    tangent = ((b.x - a.x), (b.y - a.y))
    length = math.hypot(*tangent)
    normal = (-tangent[1] / length, tangent[0] / length)
    if not sfha.contains(Point(3 * normal[0], 3 * normal[1])):
        normal = (-normal[0], -normal[1])
    return {"normal": normal, "back": back, "sfha": sfha, "other": other}


def stepped(edge: dict[str, Any], metres: float) -> tuple[float, float, Point]:
    """The point `metres` into the SFHA (negative: out of it) across the edge: lon, lat, local."""
    local = Point(metres * edge["normal"][0], metres * edge["normal"][1])
    lon, lat = edge["back"].transform(local.x, local.y)
    return round(lon, 8), round(lat, 8), local


def test_a_few_metres_inside_the_sfha_is_within_map_accuracy(client, package, sfha_edge) -> None:
    lon, lat, local = stepped(sfha_edge, 5.0)
    assert sfha_edge["sfha"].contains(local)
    expected = local.distance(sfha_edge["other"])
    assert 4.0 < expected < 6.0
    body = lookup(client, package, lon, lat)
    assert body["in_sfha"] is True
    found = body["determination"]
    assert found["near_sfha_boundary"] is True
    assert found["sfha_boundary"]["distance_m"] == pytest.approx(expected, abs=0.5)
    assert found["sfha_boundary"]["tolerance_m"] == TOLERANCE_M
    assert found["review"] and "11.6 m" in found["review"]


def test_a_few_metres_outside_the_sfha_is_within_map_accuracy(client, package, sfha_edge) -> None:
    lon, lat, local = stepped(sfha_edge, -5.0)
    assert not sfha_edge["sfha"].intersects(local)
    body = lookup(client, package, lon, lat)
    assert body["in_sfha"] is False
    found = body["determination"]
    assert found["near_sfha_boundary"] is True
    assert found["sfha_boundary"]["distance_m"] == pytest.approx(
        local.distance(sfha_edge["sfha"]), abs=0.5)


def test_well_inside_the_sfha_is_not_near_its_boundary(client, package, sfha_edge) -> None:
    lon, lat, local = stepped(sfha_edge, 100.0)
    assert sfha_edge["sfha"].contains(local)
    expected = local.distance(sfha_edge["other"])
    assert expected > 50.0
    found = lookup(client, package, lon, lat)["determination"]
    assert found["near_sfha_boundary"] is False and found["review"] is None
    boundary = found["sfha_boundary"]
    if expected < 250.0:
        assert boundary["distance_m"] == pytest.approx(expected, abs=1.0)
    else:
        assert boundary["distance_m"] is None and boundary["farther_than_m"] >= 250.0


def test_the_tolerance_is_a_strict_threshold(client, package, sfha_edge) -> None:
    for metres, near in ((TOLERANCE_M - 1.5, True), (TOLERANCE_M + 1.5, False)):
        lon, lat, local = stepped(sfha_edge, metres)
        found = lookup(client, package, lon, lat)["determination"]
        assert found["near_sfha_boundary"] is near, (metres, found["sfha_boundary"])


# --- panels and communities agree with shapely anywhere ---------------------------------------

@pytest.fixture()
def layer_shapes(session, package) -> dict[str, Any]:
    panels = [(row.firm_pan, geometry) for row, geometry in shapes_of(session, FirmPanel, package)]
    areas = [(row.cid, geometry) for row, geometry in shapes_of(session, PoliticalArea, package)]
    extent = shapely.union_all([g for _, g in areas]).bounds
    edges = shapely.union_all([g.boundary for _, g in panels + areas])
    return {"panels": panels, "areas": areas, "extent": extent, "edges": edges}


def covering(shapes: list[tuple[str, Any]], point: Point) -> str | None:
    hits = [key for key, geometry in shapes if geometry.covers(point)]
    assert len(hits) <= 1, hits
    return hits[0] if hits else None


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(u=st.floats(min_value=0.0, max_value=1.0), v=st.floats(min_value=0.0, max_value=1.0))
def test_panel_and_community_agree_with_shapely(client, package, layer_shapes, u, v) -> None:
    xmin, ymin, xmax, ymax = layer_shapes["extent"]
    lon, lat = xmin + u * (xmax - xmin), ymin + v * (ymax - ymin)
    point = Point(lon, lat)
    assume(point.distance(layer_shapes["edges"]) > EDGE_TOLERANCE_DEG)
    found = lookup(client, package, lon, lat)["determination"]
    expected_panel = covering(layer_shapes["panels"], point)
    expected_cid = covering(layer_shapes["areas"], point)
    assert (found["firm_panel"] or {}).get("firm_pan") == expected_panel
    assert (found["community"] or {}).get("cid") == expected_cid
    assert ("firm_panel" in found["reasons"]) is (expected_panel is None)


# --- no sentinel ever reaches a user ----------------------------------------------------------

SENTINEL_TEXT = ("8888-08-08", "9999-09-09", '"NP"')
# -9999 and 8888 as numbers or words of their own (not digits of a coordinate or a checksum).
SENTINEL_NUMBERS = re.compile(r"(?<![\w.])(?:-9999(?:\.0*)?|8888)(?![\w])")


def assert_no_sentinel(body: str) -> None:
    for sentinel in SENTINEL_TEXT:
        assert sentinel not in body, sentinel
    assert SENTINEL_NUMBERS.search(body) is None, SENTINEL_NUMBERS.search(body)
    walk_values(json.loads(body))


def walk_values(value: Any) -> None:
    """Every value of a JSON document: no sentinel number, date or text."""
    if isinstance(value, dict):
        for item in value.values():
            walk_values(item)
    elif isinstance(value, list):
        for item in value:
            walk_values(item)
    elif isinstance(value, str):
        assert value.strip().upper() != "NP", value
        assert "8888-08-08" not in value and "9999-09-09" not in value, value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        assert value not in (-9999, 8888), value


def grid_points(extent: tuple[float, float, float, float], columns: int = 8,
                rows: int = 5) -> list[tuple[float, float]]:
    """Points over the extent whose own digits hold no 8888 or 9999."""
    xmin, ymin, xmax, ymax = extent
    points = []
    for i in range(columns):
        for j in range(rows):
            lon = round(xmin + (i + 0.5) * (xmax - xmin) / columns, 6)
            lat = round(ymin + (j + 0.5) * (ymax - ymin) / rows, 6)
            if not any(s in f"{lon}{lat}" for s in ("8888", "9999")):
                points.append((lon, lat))
    return points


def test_no_sentinel_in_any_answer(client, package, layer_shapes, auth) -> None:
    package_id = package.id  # a batch closes the session, detaching the dataset
    points = grid_points(layer_shapes["extent"]) + [(p["lon"], p["lat"]) for p in POINTS]
    assert len(points) >= 40
    for lon, lat in points:
        for detail in (None, "zones"):
            params = {"detail": detail} if detail else {}
            response = client.get("/api/lookup", query_string={
                "lon": lon, "lat": lat, "dataset": package_id, **params})
            assert response.status_code == 200
            assert_no_sentinel(response.get_data(as_text=True))
    features = [{"type": "Feature", "id": f"p{index}", "properties": {},
                 "geometry": {"type": "Point", "coordinates": [lon, lat]}}
                for index, (lon, lat) in enumerate(points)]
    for detail, output in (("full", "json"), ("full", "geojson"), (None, "json")):
        query = {"dataset": package_id, "f": output, **({"detail": detail} if detail else {})}
        response = client.post("/api/lookup/batch", query_string=query, headers=auth,
                               json={"type": "FeatureCollection", "features": features})
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert_no_sentinel(body)
        answered = json.loads(body)
        assert len(answered.get("results") or answered.get("features")) == len(points)


def test_sentinel_check_catches_sentinels() -> None:
    for leaked in ('{"a": "NP"}', '{"a": -9999}', '{"a": -9999.0}', '{"d": "8888-08-08"}',
                   '{"d": "9999-09-09T00:00:00"}', '{"a": [1, {"b": " np "}]}'):
        with pytest.raises(AssertionError):
            assert_no_sentinel(leaked)
    assert_no_sentinel('{"lon": -74.088881, "sha": "ab8888cd", "t": "18:48:51.888812"}')


# --- the batch --------------------------------------------------------------------------------

def batch(client, auth, package_id: int, detail: str | None = None) -> list[dict[str, Any]]:
    features = [{"type": "Feature", "id": point["name"], "properties": {},
                 "geometry": {"type": "Point", "coordinates": [point["lon"], point["lat"]]}}
                for point in POINTS]
    query = {"dataset": package_id, **({"detail": detail} if detail else {})}
    response = client.post("/api/lookup/batch", query_string=query, headers=auth,
                           json={"type": "FeatureCollection", "features": features})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


def test_batch_rows_carry_panel_and_community(client, auth, package) -> None:
    rows = batch(client, auth, package.id)
    assert [row["id"] for row in rows] == list(BY_NAME)
    for row in rows:
        expected = BY_NAME[row["id"]]["expected"]
        assert (row["firm_pan"], row["cid"]) == (expected["firm_pan"], expected["cid"]), row["id"]
        assert "report" not in row


def test_batch_csv_has_panel_and_community_columns(client, auth, package) -> None:
    features = [{"type": "Feature", "id": point["name"], "properties": {},
                 "geometry": {"type": "Point", "coordinates": [point["lon"], point["lat"]]}}
                for point in POINTS]
    response = client.post("/api/lookup/batch", query_string={"dataset": package.id, "f": "csv"},
                           headers=auth, json={"type": "FeatureCollection", "features": features})
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    header = lines[0].split(",")
    for line in lines[1:]:
        values = dict(zip(header, line.split(","), strict=False))
        expected = BY_NAME[values["id"]]["expected"]
        assert values["firm_pan"] == (expected["firm_pan"] or "")
        assert values["cid"] == expected["cid"]


def test_full_batch_rows_carry_the_whole_determination(client, auth, package) -> None:
    package_id = package.id
    rows = batch(client, auth, package_id, detail="full")
    for row in rows:
        point = BY_NAME[row["id"]]
        single = lookup(client, package_id, point["lon"], point["lat"])
        found = row["report"]["determination"]
        assert (found["firm_panel"] or {}).get("firm_pan") == point["expected"]["firm_pan"]
        assert found["community"]["cid"] == point["expected"]["cid"]
        assert found["bfe"] == single["determination"]["bfe"]
        assert found["cbrs"] == single["determination"]["cbrs"]
        assert found["citations"] == single["determination"]["citations"]
        # Its permalink is a single lookup answering the same.
        again = client.get(found["permalink"]).get_json()["determination"]
        assert {k: v for k, v in again.items() if k != "permalink"} == {
            k: v for k, v in found.items() if k != "permalink"}
