"""The sample's DEM and 1% depth grid, loaded as `make run` loads them, answer what
data/sample/depth_points.json says at its named points: ground, depth, BFE and LOMA."""

from __future__ import annotations

import json

import pytest
import rasterio
from pyproj import CRS

from geoapp.cli import SAMPLE_FILE, SAMPLE_RASTERS
from geoapp.geo.vertical import METRES_PER_UNIT, VerticalUnit
from geoapp.ingest import files, jobs, runs
from geoapp.ingest.request import ImportRequest

SAMPLE_DIR = SAMPLE_FILE.parent
POINTS = json.loads((SAMPLE_DIR / "depth_points.json").read_text(encoding="utf-8"))
FEET_PER_METRE = 1 / METRES_PER_UNIT[VerticalUnit.FOOT]


def load(session, app, path, **fields):
    request = ImportRequest.parse(fields)
    dataset = runs.create_pending(session, request, path.name, None)
    runs.run_import(session, dataset, path, request, files.UnpackLimits(),
                    raster_target=jobs.raster_target(app))
    return dataset


@pytest.fixture()
def sample_map(session, app):
    """The sample package and its two rasters, each its own dataset, as load-sample makes."""
    load(session, app, SAMPLE_DIR / "manasquan_nfhl_package.zip", name="Manasquan package")
    for file_name, kind, event, name in SAMPLE_RASTERS:
        load(session, app, SAMPLE_DIR / file_name, name=name, kind=kind, event=event)


def test_the_dem_says_its_datum_and_unit_in_its_crs() -> None:
    with rasterio.open(SAMPLE_DIR / "manasquan_dem.tif") as dem:
        vertical = CRS.from_wkt(dem.crs.to_wkt()).sub_crs_list[1]
    assert vertical.to_epsg() == 5703  # NAVD88 height, metres
    assert vertical.axis_info[0].unit_name == "metre"


@pytest.mark.parametrize("point", POINTS, ids=[p["name"] for p in POINTS])
def test_depth_at_the_sample_points(client, sample_map, point) -> None:
    body = client.get("/api/lookup", query_string={"lon": point["lon"],
                                                   "lat": point["lat"]}).get_json()
    depth = body["determination"]["depth"]
    ground = depth["ground_elevation"]
    if point["ground_m"] is None:
        assert ground["value"] is None and "no DEM covers" in ground["reason"]
        return
    assert ground["value"] == pytest.approx(point["ground_m"] * FEET_PER_METRE, abs=0.006)
    assert (ground["unit"], ground["vertical_datum"], ground["source"]) == ("ft", "NAVD88",
                                                                          "dem")
    events = {event["annual_chance_percent"]: event for event in depth["events"]}
    if point["bfe_ft"] is not None:
        base = events[1.0]
        assert base["water_surface_elevation"]["value"] == pytest.approx(point["bfe_ft"],
                                                                         abs=0.006)
        expected = (point["depth_1pct_ft"] if point["depth_1pct_ft"] is not None
                    else max(0.0, point["bfe_ft"] - point["ground_m"] * FEET_PER_METRE))
        assert base["depth"]["value"] == pytest.approx(expected, abs=0.011)
    elif 1.0 in events:
        assert events[1.0]["depth"]["value"] is None
        assert events[1.0]["depth"]["reason"]
    assert depth["loma_candidate"]["candidate"] is (
        True if point["loma_candidate"] else
        None if point["zone"] == "A" else False)


@pytest.mark.parametrize("name", ["ae_estimated_bfe", "loma_candidate", "a_unstudied"])
def test_the_pdf_report_with_depths_keeps_to_one_page(client, sample_map, name) -> None:
    import io

    from pypdf import PdfReader

    point = next(p for p in POINTS if p["name"] == name)
    response = client.get("/report", query_string={"lon": point["lon"], "lat": point["lat"],
                                                   "format": "pdf"})
    assert response.status_code == 200
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert len(pages) == 1
    text = pages[0].extract_text()
    assert "Ground elevation" in text and "SHA-256" in text
    assert ("Possible LOMA candidate" in text) is point["loma_candidate"]
