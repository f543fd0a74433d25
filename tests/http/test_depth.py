"""How deep: ground elevation, depth and LOMA candidacy from rasters, over HTTP.

The DEM is a plane in UTM 18N (tests/raster_files.py): a cell's value is known in advance, so
every answer is computed here by hand. The AE zone covering it has a static BFE of 9 ft
NAVD88; the 1% depth is BFE - ground where the ground is lower, 0 where it stands above.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import Polygon, box, mapping
from sqlalchemy import func, select

from geoapp.db.models import Dataset, RasterLayer
from tests.raster_files import NAVD88, NGVD29_FTUS, Grid, plane_dem, plane_value, step_depth

GRID = Grid()  # 200 x 200 cells of 10 m
BFE_FT = 9.0
M_PER_FT = 0.3048
US_FT_PER_M = 3937 / 1200
TILE = 256


def ground_ft(col: int) -> float:
    """The plane DEM's value in a column, in feet as the API rounds it."""
    return round(plane_value(GRID, col) / M_PER_FT, 2)


def lookup(client, col: float, row: float, **params):
    lon, lat = GRID.lonlat(col, row)
    query = "&".join(f"{key}={value}" for key, value in params.items())
    response = client.get(f"/api/lookup?lon={lon}&lat={lat}&{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["determination"]["depth"]


def base_event(depth: dict) -> dict:
    [event] = [e for e in depth["events"] if e["annual_chance_percent"] == 1.0]
    return event


@pytest.fixture()
def zone(make_zone):
    """An AE zone over the whole grid and 20 cells around it: static BFE 9 ft NAVD88."""
    return make_zone(box(*GRID.bounds_lonlat(margin_cells=20)), fld_zone="AE", sfha_tf=True,
                     static_bfe=BFE_FT, v_datum="NAVD88", len_unit="Feet")


@pytest.fixture()
def dem(make_raster, tmp_path):
    """The plane DEM, NAVD88 metres (compound CRS); cells of rows 0-19, cols 0-19 are nodata."""
    return make_raster(plane_dem(tmp_path, vertical=NAVD88, nodata=-9999.0,
                                 nodata_cells=(slice(0, 20), slice(0, 20))), name="Plane DEM")


@pytest.fixture()
def depth_grid(make_raster, tmp_path):
    """1% depth grid: western half dry (0), eastern half 2.0 ft."""
    return make_raster(step_depth(tmp_path, depth=2.0, dry=0.0), kind="depth", event="1",
                       unit="ft", name="1% depth")


def raster_id(session, dataset) -> int:
    return session.scalar(select(RasterLayer.id).where(RasterLayer.dataset_id == dataset.id))


# ---------------------------------------------------------------- point lookups

@pytest.mark.parametrize("col", [25, 50, 85, 87, 88, 100, 150, 199])
def test_ground_and_depth_are_the_plane_against_the_bfe(client, zone, dem, col) -> None:
    depth = lookup(client, col, 100)
    ground = depth["ground_elevation"]
    expected_ground = ground_ft(col)
    assert depth["unit"] == "ft"
    assert ground["value"] == expected_ground
    assert (ground["unit"], ground["vertical_datum"], ground["source"]) == ("ft", "NAVD88",
                                                                           "dem")
    assert ground["dataset_id"] == dem.id and ground["reason"] is None
    event = base_event(depth)
    surface = event["water_surface_elevation"]
    assert (surface["value"], surface["vertical_datum"], surface["source"]) == (
        BFE_FT, "NAVD88", "bfe_static")
    expected_depth = round(max(0.0, BFE_FT - expected_ground), 2)
    assert event["depth"]["value"] == pytest.approx(expected_depth, abs=1e-9)
    assert event["depth"]["source"] == "wse_minus_ground"
    loma = depth["loma_candidate"]
    assert loma["candidate"] is (expected_ground >= BFE_FT)
    assert loma["ground"]["value"] == expected_ground
    assert loma["water_surface"]["value"] == BFE_FT


def test_known_values_by_hand(client, zone, dem) -> None:
    # Column 50: 1 m + 0.002 * 500 m = 2.0 m = 6.56 ft, under 2.44 ft of water.
    low = lookup(client, 50, 100)
    assert low["ground_elevation"]["value"] == 6.56
    assert base_event(low)["depth"]["value"] == 2.44
    assert low["loma_candidate"]["candidate"] is False
    # Column 100: 3.0 m = 9.84 ft, above the BFE: dry, and a LOMA candidate in the SFHA.
    high = lookup(client, 100, 100)
    assert high["ground_elevation"]["value"] == 9.84
    assert base_event(high)["depth"]["value"] == 0.0
    assert high["loma_candidate"]["candidate"] is True
    assert "Letter of Map Amendment" in high["loma_candidate"]["note"]
    assert [r["dataset_name"] for r in high["rasters"]] == ["Plane DEM"]


def test_heights_in_metres(client, zone, dem) -> None:
    depth = lookup(client, 50, 100, unit="m")
    assert depth["unit"] == "m"
    assert depth["ground_elevation"] == {**depth["ground_elevation"], "value": 2.0, "unit": "m"}
    event = base_event(depth)
    assert event["water_surface_elevation"]["value"] == round(BFE_FT * M_PER_FT, 2) == 2.74
    assert event["depth"]["value"] == pytest.approx(0.74) and event["depth"]["unit"] == "m"


@pytest.mark.parametrize(("floor", "above"), [(7.0, 2.0), (10.5, -1.5), (9.0, 0.0)])
def test_first_floor_elevation_gives_the_water_above_it(client, zone, dem, floor,
                                                        above) -> None:
    depth = lookup(client, 50, 100, first_floor_elevation=floor)
    given = depth["first_floor_elevation"]
    assert (given["value"], given["vertical_datum"], given["source"]) == (floor, "NAVD88",
                                                                          "given")
    water = base_event(depth)["water_above_first_floor"]
    assert water["value"] == pytest.approx(above) and water["unit"] == "ft"


def test_first_floor_height_stands_on_the_ground(client, zone, dem) -> None:
    depth = lookup(client, 50, 100, first_floor_height=1.5)
    floor = depth["first_floor_elevation"]
    assert floor["value"] == pytest.approx(6.56 + 1.5)
    assert (floor["source"], floor["vertical_datum"]) == ("ground_plus_height", "NAVD88")
    assert base_event(depth)["water_above_first_floor"]["value"] == pytest.approx(
        BFE_FT - 8.06)
    # On higher ground the floor is above the water: negative.
    high = lookup(client, 190, 100, first_floor_height=1, unit="m")
    assert high["first_floor_elevation"]["value"] == pytest.approx(4.8 + 1.0)
    assert base_event(high)["water_above_first_floor"]["value"] == pytest.approx(2.74 - 5.8)


def test_a_floor_on_another_datum_is_not_compared(client, zone, dem) -> None:
    depth = lookup(client, 50, 100, first_floor_elevation=7, first_floor_datum="NGVD 29")
    assert depth["first_floor_elevation"]["vertical_datum"] == "NGVD29"
    water = base_event(depth)["water_above_first_floor"]
    assert water["value"] is None
    assert "NGVD29" in water["reason"] and "NAVD88" in water["reason"]


def test_both_floors_given_is_refused_naming_them(client, zone, dem) -> None:
    lon, lat = GRID.lonlat(50, 100)
    response = client.get(f"/api/lookup?lon={lon}&lat={lat}&first_floor_elevation=7"
                          "&first_floor_height=1")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_parameter"
    assert "first_floor_elevation" in body["message"] and "first_floor_height" in body["message"]


def test_nodata_at_the_point_is_null_with_its_reason(client, zone, dem) -> None:
    depth = lookup(client, 5, 5)
    ground = depth["ground_elevation"]
    assert ground["value"] is None and "nodata" in ground["reason"]
    assert ground["dataset_id"] == dem.id  # which raster had no value
    event = base_event(depth)
    assert event["depth"]["value"] is None and "nodata" in event["depth"]["reason"]
    assert event["water_surface_elevation"]["value"] == BFE_FT
    assert depth["loma_candidate"]["candidate"] is None
    assert "nodata" in depth["loma_candidate"]["reason"]


def test_a_point_off_the_raster_has_no_ground(client, zone, dem) -> None:
    depth = lookup(client, -10, 100)  # in the zone, 100 m west of the grid
    ground = depth["ground_elevation"]
    assert ground["value"] is None and "no DEM covers" in ground["reason"]
    assert ground["raster_id"] is None
    assert base_event(depth)["depth"]["value"] is None
    assert depth["loma_candidate"]["candidate"] is None
    assert depth["rasters"] == []


def test_outside_the_sfha_no_loma_is_needed(client, make_zone, dem) -> None:
    make_zone(box(*GRID.bounds_lonlat(margin_cells=20)), fld_zone="X", sfha_tf=False,
              zone_subty="AREA OF MINIMAL FLOOD HAZARD")
    depth = lookup(client, 50, 100)
    assert depth["ground_elevation"]["value"] == 6.56
    assert depth["events"] == []  # no BFE and no grid: no event to answer
    assert depth["loma_candidate"]["candidate"] is False
    assert "outside the SFHA" in depth["loma_candidate"]["reason"]


def test_a_dem_on_ngvd29_is_never_subtracted_from_a_navd88_bfe(client, zone, make_raster,
                                                               tmp_path) -> None:
    make_raster(plane_dem(tmp_path, vertical=NGVD29_FTUS), name="Old DEM")  # values in ftUS
    depth = lookup(client, 50, 100)
    ground = depth["ground_elevation"]
    # 2.0 US survey feet in international feet, on NGVD 29.
    assert ground["value"] == round(2.0 / US_FT_PER_M / M_PER_FT, 2)
    assert ground["vertical_datum"] == "NGVD29"
    event = base_event(depth)
    assert event["depth"]["value"] is None
    assert "NGVD29" in event["depth"]["reason"] and "NAVD88" in event["depth"]["reason"]
    loma = depth["loma_candidate"]
    assert loma["candidate"] is None and "NGVD29" in loma["reason"]


def test_a_depth_grid_answers_the_depth_where_it_has_one(client, zone, dem, depth_grid,
                                                         session) -> None:
    wet = base_event(lookup(client, 150, 100))
    assert wet["depth"]["value"] == 2.0 and wet["depth"]["source"] == "depth_grid"
    assert wet["depth"]["raster_id"] == raster_id(session, depth_grid)
    in_metres = base_event(lookup(client, 150, 100, unit="m"))
    assert in_metres["depth"]["value"] == round(2.0 * M_PER_FT, 2)


def test_no_raster_in_scope_answers_no_ground(client, zone) -> None:
    depth = lookup(client, 50, 100)
    assert depth["ground_elevation"]["value"] is None
    assert depth["rasters"] == []


# ---------------------------------------------------------------- parcels

def parcel(col0: float, row0: float, col1: float, row1: float) -> Polygon:
    """A parcel whose corners are grid positions (in cells from the north-west corner): its
    edges run along the grid in UTM."""
    corners = [(col0, row0), (col1, row0), (col1, row1), (col0, row1), (col0, row0)]
    return Polygon([GRID.corner_lonlat(GRID.west + c * GRID.cell, GRID.north - r * GRID.cell)
                    for c, r in corners])


@pytest.mark.parametrize(
    ("cols", "wet_share"),
    [((90.5, 109.5), 0.5),  # 9.5 cells dry, 9.5 wet
     ((96.5, 109.5), 9.5 / 13),  # 3.5 dry, 9.5 wet
     ((100.5, 109.5), 1.0),  # all on the wet side
     ((80.5, 95.5), 0.0)],  # all on the dry side
)
@pytest.mark.parametrize("dry", [0.0, None], ids=["dry-zero", "dry-nodata"])
def test_parcel_wet_share_and_depths(client, zone, dem, make_raster, tmp_path, session, cols,
                                     wet_share, dry) -> None:
    grid_dataset = make_raster(step_depth(tmp_path, depth=2.0, dry=dry), kind="depth",
                               event="1", unit="ft", name="1% depth")
    shape = parcel(cols[0], 50.5, cols[1], 59.5)
    response = client.post("/api/lookup/area", json=mapping(shape))
    assert response.status_code == 200, response.get_data(as_text=True)
    depth = response.get_json()["depth"]
    assert depth["unit"] == "ft"
    [event] = depth["events"]
    assert event["annual_chance_percent"] == 1.0
    assert event["raster_id"] == raster_id(session, grid_dataset)
    assert event["wet_area_share"] == pytest.approx(wet_share, abs=1e-3)
    assert event["grid_area_share"] == pytest.approx(1.0, abs=1e-6)
    if wet_share:
        assert event["depth_min"] == event["depth_mean"] == event["depth_max"] == 2.0
    else:
        assert event["depth_min"] is event["depth_mean"] is event["depth_max"] is None
    # The lowest ground is the westernmost column the parcel touches.
    lowest = depth["lowest_ground_elevation"]
    assert lowest["value"] == ground_ft(math.floor(cols[0]))
    assert lowest["vertical_datum"] == "NAVD88"
    loma = depth["loma_candidate"]
    assert loma["candidate"] is (lowest["value"] >= BFE_FT)


def test_parcel_in_metres_and_half_off_the_grid(client, zone, dem, depth_grid) -> None:
    # Columns 190.5 to 209.5: half of it beyond the grid's eastern edge (200).
    body = client.post("/api/lookup/area?unit=m",
                       json=mapping(parcel(190.5, 50.5, 209.5, 59.5))).get_json()["depth"]
    [event] = body["events"]
    assert body["unit"] == "m"
    assert event["grid_area_share"] == pytest.approx(0.5, abs=1e-3)
    assert event["wet_area_share"] == pytest.approx(0.5, abs=1e-3)
    assert event["depth_max"] == round(2.0 * M_PER_FT, 2)
    assert body["lowest_ground_elevation"]["value"] == round(plane_value(GRID, 190), 2)


def test_parcel_without_a_depth_grid_takes_the_bfe_minus_the_dem(client, zone, dem) -> None:
    # Columns 80.5 to 95.5: the ground rises through the BFE between columns 87 and 88.
    body = client.post("/api/lookup/area",
                       json=mapping(parcel(80.5, 50.5, 95.5, 59.5))).get_json()["depth"]
    [event] = body["events"]
    assert (event["annual_chance_percent"], event["source"]) == (1.0, "wse_minus_ground")
    wet_cols = {col: (0.5 if col == 80 else 1.0) for col in range(80, 88)}
    depths_ft = {col: BFE_FT - plane_value(GRID, col) / M_PER_FT for col in wet_cols}
    assert all(depth > 0 for depth in depths_ft.values())
    assert BFE_FT - plane_value(GRID, 88) / M_PER_FT <= 0
    assert event["wet_area_share"] == pytest.approx(sum(wet_cols.values()) / 15, abs=1e-3)
    assert event["depth_min"] == pytest.approx(depths_ft[87], abs=0.006)
    assert event["depth_max"] == pytest.approx(depths_ft[80], abs=0.006)
    mean = sum(depths_ft[c] * w for c, w in wet_cols.items()) / sum(wet_cols.values())
    assert event["depth_mean"] == pytest.approx(mean, abs=0.006)


def test_parcel_depth_from_the_dem_needs_one_datum(client, make_zone, dem) -> None:
    make_zone(box(*GRID.bounds_lonlat(margin_cells=20)), fld_zone="AE", sfha_tf=True,
              static_bfe=BFE_FT, v_datum="NGVD29", len_unit="Feet")
    body = client.post("/api/lookup/area",
                       json=mapping(parcel(80.5, 50.5, 95.5, 59.5))).get_json()["depth"]
    [event] = body["events"]
    assert event["wet_area_share"] is None and event["depth_mean"] is None
    assert "NAVD88" in event["reason"]


def test_parcel_without_rasters_has_no_depth(client, zone) -> None:
    body = client.post("/api/lookup/area", json=mapping(parcel(10, 10, 20, 20))).get_json()
    assert body["depth"] is None


# ---------------------------------------------------------------- batches

@pytest.fixture()
def viewer(make_user, make_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(make_user('viewer')).secret}"}


BATCH_POINTS = {  # id: (col, row)
    "low": (50, 100),
    "high": (100, 100),
    "off": (-10, 100),
    "nodata": (5, 5),
}


def expected_rows() -> dict[str, dict]:
    return {
        "low": {"ground_elevation": 6.56, "flood_depth_1pct": 2.44, "loma_candidate": False},
        "high": {"ground_elevation": 9.84, "flood_depth_1pct": 0.0, "loma_candidate": True},
        "off": {"ground_elevation": None, "flood_depth_1pct": None, "loma_candidate": None},
        "nodata": {"ground_elevation": None, "flood_depth_1pct": None, "loma_candidate": None},
    }


def test_batch_rows_carry_ground_depth_and_loma_in_json(client, viewer, zone, dem) -> None:
    features = []
    for ident, (col, row) in BATCH_POINTS.items():
        lon, lat = GRID.lonlat(col, row)
        features.append({"type": "Feature", "id": ident, "properties": {},
                         "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    features.append({"type": "Feature", "id": "far", "properties": {},
                     "geometry": {"type": "Point", "coordinates": [10.0, 10.0]}})
    response = client.post("/api/lookup/batch",
                           json={"type": "FeatureCollection", "features": features},
                           headers=viewer)
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.get_json()["results"]}
    for ident, expected in expected_rows().items():
        row = rows[ident]
        assert {key: row[key] for key in expected} == expected, ident
        assert row["elevation_unit"] == "ft"
    # Unmapped and off every raster: outside the SFHA, no LOMA needed.
    assert rows["far"]["status"] == "unmapped"
    assert rows["far"]["ground_elevation"] is None and rows["far"]["loma_candidate"] is False


def test_batch_rows_in_csv_and_in_metres(client, viewer, zone, dem) -> None:
    lines = ["id,lon,lat"]
    for ident, (col, row) in BATCH_POINTS.items():
        lon, lat = GRID.lonlat(col, row)
        lines.append(f"{ident},{lon!r},{lat!r}")
    response = client.post("/api/lookup/batch?unit=m", data="\n".join(lines).encode(),
                           headers={**viewer, "Content-Type": "text/csv",
                                    "Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = {row["id"]: row for row in csv.DictReader(io.StringIO(response.get_data(
        as_text=True)))}
    assert {"ground_elevation", "flood_depth_1pct", "elevation_unit",
            "loma_candidate"} <= set(next(iter(table.values())))
    assert float(table["low"]["ground_elevation"]) == 2.0
    assert float(table["low"]["flood_depth_1pct"]) == pytest.approx(BFE_FT * M_PER_FT - 2.0,
                                                                    abs=0.006)
    assert table["low"]["elevation_unit"] == "m"
    assert table["low"]["loma_candidate"].lower() == "false"
    assert float(table["high"]["ground_elevation"]) == 3.0
    assert float(table["high"]["flood_depth_1pct"]) == 0.0
    assert table["high"]["loma_candidate"].lower() == "true"
    assert table["off"]["ground_elevation"] == "" and table["off"]["loma_candidate"] == ""


def test_batch_without_rasters_leaves_the_columns_empty(client, viewer, zone) -> None:
    lon, lat = GRID.lonlat(50, 100)
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "properties": {},
         "geometry": {"type": "Point", "coordinates": [lon, lat]}}]}
    [row] = client.post("/api/lookup/batch", json=body, headers=viewer).get_json()["results"]
    assert row["status"] == "high_risk"
    assert row["ground_elevation"] is row["flood_depth_1pct"] is row["elevation_unit"] is None


# ---------------------------------------------------------------- raster list and tiles

def tile_pixel(lon: float, lat: float, z: int) -> tuple[int, int, int, int]:
    """Web Mercator tile (x, y) holding a point at zoom z, and the point's pixel in it."""
    scale = TILE * 2 ** z
    px = (lon + 180) / 360 * scale
    lat_r = math.radians(lat)
    py = (1 - math.log(math.tan(lat_r) + 1 / math.cos(lat_r)) / math.pi) / 2 * scale
    return int(px // TILE), int(py // TILE), int(px % TILE), int(py % TILE)


def test_rasters_are_listed_with_tiles_only_for_depth_grids(client, dem, depth_grid,
                                                            session) -> None:
    body = client.get("/api/rasters").get_json()
    listed = {item["id"]: item for item in body["rasters"]}
    dem_id, grid_id = raster_id(session, dem), raster_id(session, depth_grid)
    assert set(listed) == {dem_id, grid_id}
    assert listed[dem_id]["kind"] == "dem" and listed[dem_id]["tiles"] is None
    assert listed[grid_id]["kind"] == "depth" and listed[grid_id]["event_percent"] == 1
    assert listed[grid_id]["tiles"].endswith(f"/api/rasters/{grid_id}/tiles/{{z}}/{{x}}/{{y}}.png")
    assert listed[dem_id]["bbox"] == pytest.approx(GRID.bounds_lonlat(), abs=1e-6)
    assert body["depth_legend"] and body["tiles"]["minzoom"] <= 16 <= body["tiles"]["maxzoom"]


def test_depth_tiles_are_pngs_wet_where_the_grid_is(client, depth_grid, session) -> None:
    grid_id = raster_id(session, depth_grid)
    z = 16
    wet = tile_pixel(*GRID.lonlat(103, 100), z)
    dry = tile_pixel(*GRID.lonlat(96, 100), z)
    assert wet[:2] == dry[:2], "both points must fall in one tile"
    x, y = wet[:2]
    response = client.get(f"/api/rasters/{grid_id}/tiles/{z}/{x}/{y}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert "max-age" in response.headers["Cache-Control"] and response.headers["ETag"]
    image = np.asarray(Image.open(io.BytesIO(response.data)).convert("RGBA"))
    assert image.shape == (TILE, TILE, 4)
    assert image[wet[3], wet[2], 3] > 0  # water drawn
    assert tuple(image[wet[3], wet[2], :3]) == (107, 174, 214)  # the 2-4 ft class
    assert image[dry[3], dry[2], 3] == 0  # dry: transparent
    again = client.get(f"/api/rasters/{grid_id}/tiles/{z}/{x}/{y}.png",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_tiles_without_water_are_204(client, depth_grid, session) -> None:
    grid_id = raster_id(session, depth_grid)
    x, y = tile_pixel(10.0, 10.0, 16)[:2]  # far from the grid
    assert client.get(f"/api/rasters/{grid_id}/tiles/16/{x}/{y}.png").status_code == 204
    x, y = tile_pixel(*GRID.lonlat(10, 100), 17)[:2]  # over the dry half only
    assert client.get(f"/api/rasters/{grid_id}/tiles/17/{x}/{y}.png").status_code == 204


def test_tiles_of_a_dem_or_of_no_raster_are_404(client, dem, session) -> None:
    dem_id = raster_id(session, dem)
    x, y = tile_pixel(*GRID.lonlat(100, 100), 16)[:2]
    response = client.get(f"/api/rasters/{dem_id}/tiles/16/{x}/{y}.png")
    assert response.status_code == 404 and "depth grids" in response.get_json()["message"]
    assert client.get(f"/api/rasters/{dem_id + 1000}/tiles/16/{x}/{y}.png").status_code == 404


# ---------------------------------------------------------------- the report page

def test_report_shows_ground_and_depth(client, zone, dem) -> None:
    lon, lat = GRID.lonlat(100, 100)
    page = client.get(f"/report?lon={lon}&lat={lat}").get_data(as_text=True)
    assert 'id="flood-depth"' in page and "Ground and flood depth" in page
    ground = page.split('id="ground-elevation">', 1)[1].split("</td>", 1)[0]
    assert "9.84 ft NAVD88" in ground
    assert 'id="loma-candidate"' in page and "Possible LOMA candidate" in page


def test_report_without_loma_candidacy_has_no_loma_row(client, zone, dem) -> None:
    lon, lat = GRID.lonlat(50, 100)
    page = client.get(f"/report?lon={lon}&lat={lat}").get_data(as_text=True)
    assert "6.56 ft NAVD88" in page and 'id="loma-candidate"' not in page


# ---------------------------------------------------------------- uploads

@pytest.fixture()
def analyst(make_user, make_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(make_user('analyst')).secret}"}


def upload(client, headers, path, **fields):
    data = {**fields, "file": (io.BytesIO(path.read_bytes()), path.name)}
    return client.post("/api/datasets", data=data, headers=headers,
                       content_type="multipart/form-data")


def test_uploading_a_tiff_creates_a_raster_dataset(client, analyst, session, app,
                                                   tmp_path) -> None:
    path = step_depth(tmp_path, units="ft")
    response = upload(client, analyst, path, name="Uploaded depth", kind="depth", event="1")
    # Small uploads are imported within the request (202, as for zones, already ready).
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "ready" and body["feature_count"] == 0
    assert body["report"]["raster"]["kind"] == "depth"
    assert response.headers["Location"].endswith(f"/api/datasets/{body['id']}")
    dataset = session.get(Dataset, body["id"])
    layer = session.scalars(select(RasterLayer).where(RasterLayer.dataset_id == dataset.id)
                            ).one()
    assert (layer.kind, layer.event_percent, layer.unit) == ("depth", 1.0, "ft")
    assert (Path(app.config["GEOAPP_RASTER_DIR"]) / layer.file_name).is_file()
    listed = client.get("/api/rasters").get_json()["rasters"]
    assert [item["id"] for item in listed] == [layer.id]


def test_uploading_a_dem_with_its_datum_and_unit_fields(client, analyst, session,
                                                        tmp_path) -> None:
    response = upload(client, analyst, plane_dem(tmp_path), name="Uploaded DEM", kind="dem",
                      vertical_datum="NAVD 88", unit="m")
    assert response.status_code == 202, response.get_data(as_text=True)
    layer = session.scalars(select(RasterLayer).where(
        RasterLayer.dataset_id == response.get_json()["id"])).one()
    assert (layer.unit, layer.vertical_datum) == ("m", "NAVD88")


def test_a_refused_raster_upload_is_a_json_error_and_leaves_nothing(client, analyst, session,
                                                                    app, tmp_path) -> None:
    before = session.scalar(select(func.count()).select_from(Dataset))
    root = Path(app.config["GEOAPP_RASTER_DIR"])
    files_before = {path for path in root.rglob("*") if path.is_file()}
    response = upload(client, analyst, plane_dem(tmp_path, units="metre"), name="No datum",
                      kind="dem")
    assert response.status_code == 400
    assert response.get_json()["error"] == "unknown_datum"
    assert session.scalar(select(func.count()).select_from(Dataset)) == before
    assert {path for path in root.rglob("*") if path.is_file()} == files_before


def test_raster_upload_needs_an_analyst(client, make_user, make_token, tmp_path) -> None:
    path = plane_dem(tmp_path, vertical=NAVD88)
    assert upload(client, {}, path, name="Anon DEM", kind="dem").status_code == 401
    viewer = {"Authorization": f"Bearer {make_token(make_user('viewer')).secret}"}
    assert upload(client, viewer, path, name="Viewer DEM", kind="dem").status_code == 403


def test_a_scaled_integer_dem_answers_its_heights(client, zone, make_raster, tmp_path) -> None:
    """An int16 DEM in centimetres with an offset (scale 0.01, offset 1.5 m), as some agencies
    store lidar: the answer is the stored value times the scale plus the offset."""
    import rasterio

    # A horizontal CRS with the datum given (GDAL keeps no scale in a GeoTIFF 1.1 file with a
    # compound CRS).
    source = plane_dem(tmp_path)
    with rasterio.open(source) as plane:
        metres, profile = plane.read(1), plane.profile
    profile.update(dtype="int16", nodata=-32768)
    scaled = tmp_path / "dem_cm.tif"
    with rasterio.open(scaled, "w", **profile) as target:
        target.write(np.round((metres - 1.5) * 100).astype("int16"), 1)
        target.scales, target.offsets = (0.01,), (1.5,)
    make_raster(scaled, name="Scaled DEM", vertical_datum="NAVD88", unit="m")
    depth = lookup(client, 50.5, 100.5)
    expected_m = round(float(metres[100, 50]) - 1.5, 2) + 1.5
    assert depth["ground_elevation"]["value"] == pytest.approx(expected_m / M_PER_FT, abs=0.011)


def test_the_permalink_asks_for_the_same_depths(client, zone, dem) -> None:
    lon, lat = GRID.lonlat(50.5, 100.5)
    body = client.get("/api/lookup", query_string={
        "lon": lon, "lat": lat, "unit": "m", "first_floor_height": "0.5"}).get_json()
    permalink = body["determination"]["permalink"]
    assert "unit=m" in permalink and "first_floor_height=0.5" in permalink
    again = client.get(permalink.replace("http://localhost", "")).get_json()
    assert again["determination"]["depth"] == body["determination"]["depth"]


# ---------------------------------------------------------------- from the review

def test_batch_rows_take_the_water_surface_grid_as_the_lookup_does(client, viewer, zone, dem,
                                                                   make_raster,
                                                                   tmp_path) -> None:
    # A 1% water-surface grid at 5 m NAVD88 everywhere: it, not the 9 ft BFE, is the water.
    from tests.raster_files import write_tiff

    surface = write_tiff(tmp_path / "wse.tif", np.full((GRID.height, GRID.width), 5.0,
                                                       dtype="float32"), GRID, units="metre")
    make_raster(surface, kind="wse", event="1", vertical_datum="NAVD88", name="1% WSE")
    col, row = 120, 100  # ground above the BFE (no LOMA by the BFE), 5 m water above it
    lon, lat = GRID.lonlat(col, row)
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "p", "properties": {},
         "geometry": {"type": "Point", "coordinates": [lon, lat]}}]}
    [row_] = client.post("/api/lookup/batch?detail=full", json=body,
                         headers=viewer).get_json()["results"]
    full = row_["report"]["determination"]["depth"]
    event = base_event(full)
    assert event["water_surface_elevation"]["source"] == "wse_grid"
    assert row_["flood_depth_1pct"] == event["depth"]["value"]
    assert row_["flood_depth_1pct"] == pytest.approx(5.0 / M_PER_FT - ground_ft(col), abs=0.011)
    assert row_["loma_candidate"] is full["loma_candidate"]["candidate"] is False


@pytest.mark.parametrize("unit", ["ft", "m"])
def test_loma_is_decided_on_exact_heights_whatever_the_unit(client, make_zone, make_raster,
                                                            tmp_path, unit) -> None:
    # Ground 3.0452 m against a BFE of 10 ft (3.048 m): 3.5 mm below it. Rounded to a
    # hundredth of a metre both would read 3.05, and the land would pass for a candidate.
    make_zone(box(*GRID.bounds_lonlat(margin_cells=20)), fld_zone="AE", sfha_tf=True,
              static_bfe=10.0, v_datum="NAVD88", len_unit="Feet")
    make_raster(plane_dem(tmp_path, vertical=NAVD88, base=3.0452), name="Just below")
    depth = lookup(client, 0.5, 100.5, unit=unit)
    assert depth["loma_candidate"]["candidate"] is False
    assert base_event(depth)["depth"]["value"] == pytest.approx(
        (3.048 - 3.0452) / (1 if unit == "m" else M_PER_FT), abs=0.006)


def test_a_nan_nodata_dem_is_imported_and_its_nan_cells_are_nodata(client, zone, make_raster,
                                                                   tmp_path, session) -> None:
    import rasterio

    source = plane_dem(tmp_path, vertical=NAVD88)
    with rasterio.open(source) as plane:
        cells, profile = plane.read(1), plane.profile
    cells[:20, :20] = np.nan
    profile.update(nodata=float("nan"))
    nan_dem = tmp_path / "nan.tif"
    with rasterio.open(nan_dem, "w", **profile) as target:
        target.write(cells, 1)
    dataset = make_raster(nan_dem, name="NaN nodata")
    assert session.scalar(select(RasterLayer.nodata)
                          .where(RasterLayer.dataset_id == dataset.id)) is None
    assert lookup(client, 5, 5)["ground_elevation"]["reason"].endswith("(nodata)")
    assert lookup(client, 50.5, 100.5)["ground_elevation"]["value"] == ground_ft(50)


def test_a_missing_raster_file_gives_reasons_not_errors(client, viewer, zone, dem,
                                                        depth_grid, session, app) -> None:
    from geoapp.ingest import jobs

    grid_id = raster_id(session, depth_grid)  # before the batch gives the connection back
    names = list(session.scalars(select(RasterLayer.file_name)))
    for name in names:
        (jobs.raster_dir(app) / name).rename(jobs.raster_dir(app) / f"{name}.away")
    try:
        depth = lookup(client, 50.5, 100.5)
        assert "cannot be read" in depth["ground_elevation"]["reason"]
        lon, lat = GRID.lonlat(50.5, 100.5)
        body = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": 1, "properties": {},
             "geometry": {"type": "Point", "coordinates": [lon, lat]}}]}
        batch = client.post("/api/lookup/batch", json=body, headers=viewer)
        assert batch.status_code == 200
        assert batch.get_json()["results"][0]["ground_elevation"] is None
        area = client.post("/api/lookup/area", json=mapping(parcel(80.5, 50.5, 95.5, 59.5)))
        assert area.status_code == 200
        x, y, _, _ = tile_pixel(*GRID.lonlat(150, 100), 15)
        tile = client.get(f"/api/rasters/{grid_id}/tiles/15/{x}/{y}.png")
        assert tile.status_code == 404
        assert tile.get_json()["error"] == "raster_file_missing"
    finally:
        for name in names:
            (jobs.raster_dir(app) / f"{name}.away").rename(jobs.raster_dir(app) / name)


def test_a_blank_v_datum_takes_the_studys_in_batches_too(client, viewer, make_zone, dem,
                                                         session) -> None:
    zone = make_zone(box(*GRID.bounds_lonlat(margin_cells=20)), fld_zone="AE", sfha_tf=True,
                     static_bfe=BFE_FT, v_datum=None, len_unit="Feet")
    session.get(Dataset, zone.dataset_id).study_info = {"V_DATUM": "NAVD88"}
    session.flush()
    col = 50
    single = base_event(lookup(client, col + 0.5, 100.5))
    lon, lat = GRID.lonlat(col + 0.5, 100.5)
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "properties": {},
         "geometry": {"type": "Point", "coordinates": [lon, lat]}}]}
    [row] = client.post("/api/lookup/batch", json=body, headers=viewer).get_json()["results"]
    assert single["depth"]["value"] == pytest.approx(BFE_FT - ground_ft(col), abs=0.011)
    assert row["flood_depth_1pct"] == single["depth"]["value"]


def test_a_lookup_pinned_to_its_flood_map_still_stands_on_the_dem(client, zone, dem) -> None:
    depth = lookup(client, 50.5, 100.5, dataset=zone.dataset_id)
    assert depth["ground_elevation"]["value"] == ground_ft(50)
    assert base_event(depth)["depth"]["value"] == pytest.approx(BFE_FT - ground_ft(50),
                                                               abs=0.011)
