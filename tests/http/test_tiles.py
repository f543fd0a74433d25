"""Vector tiles: content decoded with mapbox-vector-tile, caching headers, errors."""

from __future__ import annotations

import datetime as dt
import math

import mapbox_vector_tile
import pytest
from shapely.geometry import box

from geoapp.ogc import tiles

TILES = "/api/collections/flood_zones/tiles/WebMercatorQuad"


@pytest.fixture()
def zones(make_dataset, make_zone):
    dataset = make_dataset(name="Tile <FIRM>")
    ae = make_zone(box(-74.06, 40.09, -74.04, 40.11), dataset=dataset, fld_zone="AE",
                   static_bfe=9.0, len_unit="Feet", zone_subty="FLOODWAY")
    x = make_zone(box(-74.04, 40.09, -74.02, 40.11), dataset=dataset, fld_zone="X",
                  sfha_tf=False, zone_subty="AREA OF MINIMAL FLOOD HAZARD")
    return ae, x


def decode(data: bytes) -> list[dict]:
    return mapbox_vector_tile.decode(data)["flood_zones"]["features"]


def test_tile_holds_the_zones_with_their_attributes(client, zones) -> None:
    x, y = tiles.tile_containing(-74.05, 40.10, 12)
    response = client.get(f"{TILES}/12/{y}/{x}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    features = {f["properties"]["zone"]: f for f in decode(response.data)}
    assert set(features) == {"AE", "X"}
    ae = features["AE"]["properties"]
    assert (ae["status"], ae["bfe"], ae["subtype"], ae["dataset"]) == (
        "high_risk", 9.0, "FLOODWAY", "Tile <FIRM>")
    assert features["AE"]["id"] == zones[0].id
    # Geometry in tile units: the AE square lies left of the X square, inside the extent.
    (ax0, _), (xx0, _) = (min(features[k]["geometry"]["coordinates"][0]) for k in ("AE", "X"))
    assert 0 <= ax0 < xx0 <= 4096


def test_empty_tile_is_204_and_tiles_are_cacheable(client, zones) -> None:
    assert client.get(f"{TILES}/12/0/0").status_code == 204
    x, y = tiles.tile_containing(-74.05, 40.10, 12)
    first = client.get(f"{TILES}/12/{y}/{x}")
    assert "max-age" in first.headers["Cache-Control"] and first.headers["ETag"]
    again = client.get(f"{TILES}/12/{y}/{x}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_etag_changes_when_the_data_changes(client, zones, make_zone) -> None:
    x, y = tiles.tile_containing(-74.05, 40.10, 12)
    before = client.get(f"{TILES}/12/{y}/{x}")
    make_zone(box(-74.03, 40.095, -74.025, 40.1), fld_zone="AO", depth=2.0)
    after = client.get(f"{TILES}/12/{y}/{x}")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "AO" in {f["properties"]["zone"] for f in decode(after.data)}


def test_low_zoom_drops_specks_and_simplifies(client, make_zone) -> None:
    make_zone(box(-74.05, 40.10, -74.0499, 40.1001), fld_zone="AE")  # ~10 m across
    detailed = [(-74.0 + 0.1 * math.cos(a), 40.0 + 0.1 * math.sin(a))
                for a in [i * 2 * math.pi / 20000 for i in range(20000)]]
    from shapely.geometry import Polygon

    make_zone(Polygon(detailed), fld_zone="X", sfha_tf=False)
    x, y = tiles.tile_containing(-74.0, 40.0, 6)
    features = decode(client.get(f"{TILES}/6/{y}/{x}").data)
    assert [f["properties"]["zone"] for f in features] == ["X"]
    assert len(features[0]["geometry"]["coordinates"][0]) < 200


def test_tile_budget_makes_coarser_tiles(session, make_zone) -> None:
    from shapely.geometry import Polygon

    ring = [(-74.0 + 0.1 * math.cos(a) * (1 + 0.05 * math.sin(40 * a)),
             40.0 + 0.1 * math.sin(a)) for a in [i * 2 * math.pi / 5000 for i in range(5000)]]
    make_zone(Polygon(ring), fld_zone="AE")
    x, y = tiles.tile_containing(-74.0, 40.0, 10)
    full = tiles.render_tile(session, 10, x, y, 10_000_000)
    small = tiles.render_tile(session, 10, x, y, len(full) // 3)
    assert len(small) < len(full)


def test_tilejson_and_bad_coordinates(client, zones) -> None:
    doc = client.get(TILES).get_json()
    assert doc["tilejson"] == "3.0.0" and doc["tiles"][0].endswith("/{z}/{y}/{x}")
    assert doc["bounds"][0] == pytest.approx(-74.06)
    assert doc["vector_layers"][0]["id"] == "flood_zones"
    assert client.get("/api/collections/flood_zones/tiles").status_code == 200
    assert client.get(f"{TILES}/3/8/0").status_code == 400
    assert client.get(f"{TILES}/40/0/0").get_json()["error"] == "invalid_parameter"
    assert client.get("/api/collections/flood_zones/tiles/Other/0/0/0").status_code == 404
    assert client.get("/api/collections/datasets/tiles").status_code == 404


def test_tile_cache_keeps_recent_tiles_within_its_budget() -> None:
    cache = tiles.TileCache(max_bytes=10)
    cache.put(("1", 0, 0, 0), b"aaaa")
    cache.put(("1", 1, 0, 0), b"bbbb")
    assert cache.get(("1", 0, 0, 0)) == b"aaaa"  # now the most recent
    cache.put(("1", 2, 0, 0), b"cccc")  # over budget: the least recent (1/0/0) goes
    assert cache.get(("1", 1, 0, 0)) is None
    assert cache.get(("1", 0, 0, 0)) == b"aaaa" and cache.size == 8
    cache.put(("1", 3, 0, 0), b"x" * 11)  # larger than the whole budget: not kept
    assert cache.get(("1", 3, 0, 0)) is None


def test_a_tile_cache_of_no_bytes_keeps_not_even_empty_tiles() -> None:
    cache = tiles.TileCache(max_bytes=0)
    cache.put(("1", 6, 15, 26), b"")  # an empty tile (answered 204) is 0 bytes
    assert cache.get(("1", 6, 15, 26)) is None


# --- the package layers in the tiles: panel outlines (z >= 10) and BFE lines (z >= 13) ---------


@pytest.fixture()
def package_rows(session, zones):
    """A FIRM panel over the zones and two BFE lines across the AE zone, in their dataset; a
    line of a retired dataset that tiles must not draw."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import LineString, MultiLineString, MultiPolygon

    from geoapp.db.models import BfeLine, Dataset, FirmPanel

    dataset_id = zones[0].dataset_id
    retired = Dataset(name="Old FIRM", status="retired")
    session.add(retired)
    session.flush()
    panel = FirmPanel(dataset_id=dataset_id, firm_pan="34025C0453F", eff_date=dt.date(2018, 1, 3),
                      geom=from_shape(MultiPolygon([box(-74.07, 40.08, -74.01, 40.12)]), 4326))
    lines = [BfeLine(dataset_id=dataset_id, elev=elev, len_unit="Feet", v_datum="NAVD88",
                     geom=from_shape(MultiLineString([LineString(
                         [(lon, 40.095), (lon, 40.105)])]), 4326))
             for lon, elev in ((-74.058, 9.0), (-74.052, 10.0))]
    old = BfeLine(dataset_id=retired.id, elev=99.0, len_unit="Feet",
                  geom=from_shape(MultiLineString([LineString([(-74.055, 40.095),
                                                               (-74.055, 40.105)])]), 4326))
    session.add_all([panel, *lines, old])
    session.commit()
    return panel, lines


def tile_layers(client, z: int, lon: float = -74.05, lat: float = 40.10) -> dict:
    x, y = tiles.tile_containing(lon, lat, z)
    response = client.get(f"{TILES}/{z}/{y}/{x}")
    assert response.status_code == 200
    return mapbox_vector_tile.decode(response.data, default_options={"y_coord_down": True})


def lon_lat(z: int, x: int, y: int, gx: float, gy: float) -> tuple[float, float]:
    """A point of a tile's grid (y down) in degrees."""
    n = 2**z
    lon = (x + gx / 4096) / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + gy / 4096) / n))))
    return lon, lat


def test_street_tiles_hold_the_bfe_lines_with_their_elevation(client, package_rows) -> None:
    _, lines = package_rows
    z = 14
    layers = tile_layers(client, z)
    assert list(layers) == ["flood_zones", "panels", "bfe_lines"]  # drawn in that order
    drawn = {f["id"]: f for f in layers["bfe_lines"]["features"]}
    assert set(drawn) == {line.id for line in lines}  # not the retired dataset's line
    first = drawn[lines[0].id]
    assert first["properties"] == {"elev": 9.0, "unit": "Feet", "datum": "NAVD88",
                                   "dataset_id": lines[0].dataset_id}
    assert first["geometry"]["type"] == "LineString"
    x, y = tiles.tile_containing(-74.05, 40.10, z)
    ends = [lon_lat(z, x, y, gx, gy) for gx, gy in first["geometry"]["coordinates"]]
    assert sorted(round(lat, 3) for _, lat in ends) == [40.095, 40.105]
    assert all(lon == pytest.approx(-74.058, abs=1e-4) for lon, _ in ends)


def test_panels_from_zoom_10_and_bfe_lines_from_zoom_13(client, package_rows) -> None:
    panel, _ = package_rows
    assert "panels" not in tile_layers(client, 9)
    at_10 = tile_layers(client, 10)
    assert "bfe_lines" not in at_10
    [drawn] = at_10["panels"]["features"]
    assert drawn["id"] == panel.id
    assert drawn["properties"] == {"firm_pan": "34025C0453F", "eff_date": "2018-01-03",
                                   "dataset_id": panel.dataset_id}
    assert drawn["geometry"]["type"] == "Polygon"
    assert "bfe_lines" not in tile_layers(client, 12)
    assert len(tile_layers(client, 13)["bfe_lines"]["features"]) == 2


def test_a_tile_with_only_a_panel_is_not_empty(client, package_rows) -> None:
    # Beyond the zones (east of -74.02) but within the panel (to -74.01), at zoom 16.
    layers = tile_layers(client, 16, lon=-74.012, lat=40.10)
    assert set(layers) == {"panels"}


def test_tilejson_lists_every_layer_with_its_zooms(client, zones) -> None:
    layers = {layer["id"]: layer for layer in client.get(TILES).get_json()["vector_layers"]}
    assert list(layers) == ["flood_zones", "panels", "bfe_lines"]
    assert (layers["panels"]["minzoom"], layers["bfe_lines"]["minzoom"]) == (
        tiles.PANEL_MIN_ZOOM, tiles.BFE_MIN_ZOOM) == (10, 13)
    assert set(layers["bfe_lines"]["fields"]) == {"elev", "unit", "datum", "dataset_id"}
    assert "firm_pan" in layers["panels"]["fields"]
