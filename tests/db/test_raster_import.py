"""Raster imports (geoapp.ingest.rasters through runs.run_import): refusals that leave nothing,
the stored COG and its row, vertical unit and datum, versions, deletion and the orphan sweep."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from sqlalchemy import func, select

from geoapp.db.models import Dataset, RasterLayer
from geoapp.db.queries.scope import ACTIVE, Scope
from geoapp.errors import AppError, InvalidInput, PayloadTooLarge
from geoapp.geo.vertical import VerticalUnit
from geoapp.ingest import files, jobs, runs
from geoapp.ingest.rasters import PARTIAL_DIR, PARTIAL_SUFFIX, delete_dataset, sweep_orphans
from geoapp.ingest.request import ImportRequest
from geoapp.risk.depth import DepthRequest, FloodElevation, depth_at
from geoapp.risk.determination import current_catalog
from tests.raster_files import (
    NAVD88,
    NGVD29_FTUS,
    Grid,
    huge,
    lonlat_grid,
    plane_dem,
    plane_value,
    plane_values,
    step_depth,
    truncated,
)

ELEVATION = {"unit": "m", "vertical_datum": "NAVD88"}
NOT_IN_SFHA = FloodElevation(in_sfha=False, value=None, estimated=False, unit=None, datum=None)


def raster_root(app) -> Path:
    return Path(app.config["GEOAPP_RASTER_DIR"])


def stored_files(app) -> set[Path]:
    """Every file under the raster directory (its .partial/ folder too)."""
    return {path for path in raster_root(app).rglob("*") if path.is_file()}


def layer_of(session, dataset: Dataset) -> RasterLayer:
    return session.scalars(select(RasterLayer).where(RasterLayer.dataset_id == dataset.id)).one()


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def garbage(directory: Path) -> Path:
    path = directory / "garbage.tif"
    path.write_bytes(b"II*\x00" + b"not a tiff at all " * 20)
    return path


REFUSALS: list[tuple[str, Callable[[Path], Path], str, dict[str, Any], type[AppError], str]] = [
    ("no CRS", lambda d: plane_dem(d, crs=None), "dem", ELEVATION, InvalidInput, "missing_crs"),
    ("three bands", lambda d: plane_dem(d, bands=3, vertical=NAVD88), "dem", {}, InvalidInput,
     "too_many_bands"),
    ("no unit anywhere", lambda d: plane_dem(d), "dem", {"vertical_datum": "NAVD88"},
     InvalidInput, "unknown_unit"),
    ("unknown band unit", lambda d: plane_dem(d, units="furlong"), "dem",
     {"vertical_datum": "NAVD88"}, InvalidInput, "unknown_unit"),
    ("depth without unit", lambda d: step_depth(d), "depth", {"event": "1"}, InvalidInput,
     "unknown_unit"),
    ("file m, request ft", lambda d: plane_dem(d, vertical=NAVD88), "dem", {"unit": "ft"},
     InvalidInput, "conflicting_unit"),
    ("band m, request ftUS", lambda d: plane_dem(d, units="metre"), "dem",
     {"unit": "ftUS", "vertical_datum": "NAVD88"}, InvalidInput, "conflicting_unit"),
    ("file NAVD88, request NGVD29", lambda d: plane_dem(d, vertical=NAVD88), "dem",
     {"vertical_datum": "NGVD 29"}, InvalidInput, "conflicting_datum"),
    ("dem without datum", lambda d: plane_dem(d, units="metre"), "dem", {}, InvalidInput,
     "unknown_datum"),
    ("wse without datum", lambda d: plane_dem(d), "wse", {"event": "1", "unit": "ft"},
     InvalidInput, "unknown_datum"),
    ("truncated", truncated, "dem", ELEVATION, InvalidInput, "invalid_raster"),
    ("not a TIFF inside", garbage, "dem", ELEVATION, InvalidInput, "invalid_raster"),
    ("huge", huge, "dem", ELEVATION, PayloadTooLarge, "payload_too_large"),
    ("off the globe", lonlat_grid, "dem", ELEVATION, InvalidInput, "footprint_out_of_range"),
]


@pytest.mark.parametrize(("build", "kind", "fields", "error", "code"),
                         [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS])
def test_refusals_leave_nothing(app, session, make_raster, tmp_path, build, kind, fields,
                                error, code) -> None:
    path = build(tmp_path)
    files_before = stored_files(app)
    datasets_before, layers_before = count(session, Dataset), count(session, RasterLayer)
    with pytest.raises(error) as refused:
        make_raster(path, kind=kind, name="Refused raster", **fields)
    assert refused.value.code == code
    assert path.name in refused.value.message
    assert stored_files(app) == files_before
    assert count(session, Dataset) == datasets_before
    assert count(session, RasterLayer) == layers_before
    assert session.scalar(select(Dataset).where(Dataset.name == "Refused raster")) is None


def test_the_cell_limit_comes_from_the_config(app, session, make_raster, tmp_path,
                                              monkeypatch) -> None:
    monkeypatch.setitem(app.config, "GEOAPP_RASTER_MAX_CELLS", 200 * 200 - 1)
    with pytest.raises(PayloadTooLarge) as refused:
        make_raster(plane_dem(tmp_path, vertical=NAVD88))
    assert "200 x 200 cells" in refused.value.message and "39,999" in refused.value.message
    monkeypatch.setitem(app.config, "GEOAPP_RASTER_MAX_CELLS", 200 * 200)
    assert make_raster(plane_dem(tmp_path, "ok.tif", vertical=NAVD88)).status == "ready"


def test_a_raster_must_be_named_as_a_geotiff(app, make_raster, tmp_path) -> None:
    path = plane_dem(tmp_path, vertical=NAVD88)
    renamed = path.rename(tmp_path / "dem.png")
    files_before = stored_files(app)
    with pytest.raises(InvalidInput) as refused:
        make_raster(renamed)
    assert refused.value.code == "unsupported_format"
    assert stored_files(app) == files_before


def test_a_good_import_stores_a_cog_and_its_row(app, session, make_raster, tmp_path) -> None:
    grid = Grid()
    upload = plane_dem(tmp_path, grid=grid, vertical=NAVD88, nodata=-9999.0,
                       nodata_cells=(slice(0, 5), slice(0, 5)))
    files_before = stored_files(app)
    dataset = make_raster(upload, name="Plane DEM")
    assert dataset.status == "ready" and dataset.progress == 1.0 and dataset.error is None
    assert dataset.feature_count == 0
    assert dataset.source_sha256 == sha256(upload)
    layer = layer_of(session, dataset)
    stored = raster_root(app) / layer.file_name
    assert stored_files(app) - files_before == {stored}  # nothing partial left beside it
    assert layer.kind == "dem" and layer.event_percent is None
    assert (layer.unit, layer.vertical_datum) == ("m", "NAVD88")
    assert (layer.width, layer.height) == (grid.width, grid.height)
    assert (layer.resolution_x, layer.resolution_y) == (grid.cell, grid.cell)
    assert layer.nodata == -9999.0
    assert layer.source_filename == upload.name
    assert layer.sha256 == sha256(stored) and layer.size_bytes == stored.stat().st_size
    assert "UTM zone 18N" in layer.crs_wkt and "VERT" not in layer.crs_wkt.upper()
    with rasterio.open(stored) as cog:
        assert cog.driver == "GTiff"
        assert cog.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert cog.profile["tiled"] and cog.block_shapes == [(256, 256)]
        assert cog.compression == rasterio.enums.Compression.deflate
        assert cog.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "3"  # floating point
        assert cog.overviews(1) == []  # one tile: nothing to overview
        assert cog.nodata == -9999.0 and cog.count == 1 and cog.dtypes == ("float32",)
        assert cog.transform == grid.transform
        cells = cog.read(1)
    expected = plane_values(grid)
    expected[:5, :5] = -9999.0
    np.testing.assert_array_equal(cells, expected)  # lossless
    report = dataset.import_report
    assert report["raster"]["crs"] == "EPSG:26918" and report["raster"]["unit"] == "m"
    assert report["raster"]["size_bytes"] == layer.size_bytes
    assert "file_name" not in json.dumps(report)  # the server's own


def test_footprint_and_bbox_are_the_grid_in_lonlat(session, make_raster, tmp_path) -> None:
    grid = Grid(width=300, height=150)
    dataset = make_raster(plane_dem(tmp_path, grid=grid, vertical=NAVD88))
    layer = layer_of(session, dataset)
    footprint = session.execute(select(
        func.ST_XMin(RasterLayer.footprint), func.ST_YMin(RasterLayer.footprint),
        func.ST_XMax(RasterLayer.footprint), func.ST_YMax(RasterLayer.footprint),
        func.ST_SRID(RasterLayer.footprint)).where(RasterLayer.id == layer.id)).one()
    bbox = session.execute(select(
        func.ST_XMin(Dataset.bbox), func.ST_YMin(Dataset.bbox), func.ST_XMax(Dataset.bbox),
        func.ST_YMax(Dataset.bbox)).where(Dataset.id == dataset.id)).one()
    expected = grid.bounds_lonlat()
    assert footprint[4] == 4326
    assert list(footprint[:4]) == pytest.approx(expected, abs=1e-6)
    assert list(bbox) == pytest.approx(expected, abs=1e-6)
    assert dataset.import_report["bbox"] == pytest.approx(expected, abs=1e-6)


def test_a_large_raster_gets_overviews(session, app, make_raster, tmp_path) -> None:
    grid = Grid(width=1200, height=1100)
    layer = layer_of(session, make_raster(plane_dem(tmp_path, grid=grid, vertical=NAVD88)))
    with rasterio.open(raster_root(app) / layer.file_name) as cog:
        assert cog.block_shapes == [(256, 256)]
        assert cog.overviews(1) == [2, 4, 8]  # until an overview fits in one tile
        assert cog.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert float(cog.read(1, window=((700, 701), (1100, 1101)))[0, 0]) == plane_value(
            grid, 1100)


def test_an_integer_dem_keeps_its_type(session, app, make_raster, tmp_path) -> None:
    layer = layer_of(session, make_raster(plane_dem(tmp_path, dtype="int16", base=100.0),
                                          **ELEVATION))
    with rasterio.open(raster_root(app) / layer.file_name) as cog:
        assert cog.dtypes == ("int16",)
        assert cog.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "2"  # horizontal differencing
        assert int(cog.read(1)[0, 199]) == int(np.float32(100 + 0.002 * 1990))


@pytest.mark.parametrize(
    ("build", "kind", "fields", "unit", "datum"),
    [
        # The compound CRS says both.
        (lambda d: plane_dem(d, vertical=NAVD88), "dem", {}, "m", "NAVD88"),
        (lambda d: plane_dem(d, vertical=NGVD29_FTUS), "dem", {}, "ftUS", "NGVD29"),
        # ... and a request that agrees (in other spellings) is no conflict.
        (lambda d: plane_dem(d, vertical=NAVD88), "dem",
         {"unit": "m", "vertical_datum": "North American Vertical Datum 1988"}, "m", "NAVD88"),
        # The band's unit says the unit, the request the datum.
        (lambda d: plane_dem(d, units="metre"), "dem", {"vertical_datum": "NAVD 88"}, "m",
         "NAVD88"),
        (lambda d: plane_dem(d, units="US survey foot"), "wse",
         {"vertical_datum": "NAVD88", "event": "1"}, "ftUS", "NAVD88"),
        (lambda d: plane_dem(d, units="ft"), "dem", {"unit": "ft", "vertical_datum": "NGVD29"},
         "ft", "NGVD29"),
        # The file says nothing: the request says all.
        (lambda d: plane_dem(d), "dem", {"unit": "ft", "vertical_datum": "navd88"}, "ft",
         "NAVD88"),
        # A depth grid is of heights above the ground: no datum, even if one is given.
        (lambda d: step_depth(d, units="feet"), "depth", {"event": "1"}, "ft", None),
        (lambda d: step_depth(d), "depth", {"event": "0.2", "unit": "m",
                                            "vertical_datum": "NAVD88"}, "m", None),
    ],
    ids=["compound-navd88", "compound-ngvd29-ftus", "compound-and-agreeing-request",
         "band-unit-request-datum", "band-us-survey-foot-wse", "band-ft-request-ngvd29",
         "request-only", "depth-band-unit", "depth-request-unit"],
)
def test_vertical_unit_and_datum(session, make_raster, tmp_path, build, kind, fields, unit,
                                 datum) -> None:
    dataset = make_raster(build(tmp_path), kind=kind, **fields)
    layer = layer_of(session, dataset)
    assert (layer.unit, layer.vertical_datum) == (unit, datum)
    assert layer.kind == kind
    assert layer.event_percent == (float(fields["event"]) if "event" in fields else None)
    raster = dataset.import_report["raster"]
    assert (raster["unit"], raster["vertical_datum"]) == (unit, datum)


def test_a_new_version_retires_the_old_one_and_as_of_still_answers_from_it(
        app, session, make_raster, tmp_path) -> None:
    grid = Grid()
    old = make_raster(plane_dem(tmp_path, "v1.tif", vertical=NAVD88), name="County DEM",
                      effective_date="2020-01-01")
    old_layer = layer_of(session, old)
    new = make_raster(plane_dem(tmp_path, "v2.tif", vertical=NAVD88, base=3.0),
                      name="County DEM", effective_date="2024-01-01")
    new_layer = layer_of(session, new)
    session.refresh(old)
    assert old.status == "retired" and old.superseded_on == dt.date(2024, 1, 1)
    assert new.status == "ready" and new.superseded_on is None
    assert new.import_report["superseded_dataset_ids"] == [old.id]
    assert (raster_root(app) / old_layer.file_name).is_file()  # still cited by old answers

    lon, lat = grid.lonlat(50, 20)
    root = raster_root(app)
    today = current_catalog(session, ACTIVE).rasters
    back_then = current_catalog(session, Scope(as_of=dt.date(2022, 6, 1))).rasters
    before_both = current_catalog(session, Scope(as_of=dt.date(2019, 1, 1))).rasters
    assert [raster.id for raster in today] == [new_layer.id]
    assert [raster.id for raster in back_then] == [old_layer.id]
    assert before_both == []
    in_metres = DepthRequest(root, unit=VerticalUnit.METRE)
    now = depth_at(today, lon, lat, NOT_IN_SFHA, in_metres).ground
    then = depth_at(back_then, lon, lat, NOT_IN_SFHA, in_metres).ground
    assert now.value == round(plane_value(grid, 50, base=3.0), 2) == 4.0
    assert then.value == round(plane_value(grid, 50), 2) == 2.0
    assert (now.dataset_id, then.dataset_id) == (new.id, old.id)


def test_delete_dataset_removes_its_file(app, session, make_raster, tmp_path) -> None:
    dataset = make_raster(plane_dem(tmp_path, vertical=NAVD88))
    layer = layer_of(session, dataset)
    stored = raster_root(app) / layer.file_name
    assert stored.is_file()
    layer_id, dataset_id = layer.id, dataset.id
    delete_dataset(session, dataset, jobs.raster_target(app).store)
    assert not stored.exists()
    assert session.get(RasterLayer, layer_id) is None
    assert session.get(Dataset, dataset_id) is None


def test_sweep_removes_strays_and_dead_partials_but_keeps_referenced_and_running(
        app, session, make_raster, make_dataset, tmp_path) -> None:
    store = jobs.raster_target(app).store
    root = store.root
    dataset = make_raster(plane_dem(tmp_path, vertical=NAVD88))
    referenced = root / layer_of(session, dataset).file_name
    importing = make_dataset(status="importing")
    (root / PARTIAL_DIR).mkdir(exist_ok=True)
    stray = root / "0123456789abcdef0123456789abcdef.tif"
    dead_partial = root / PARTIAL_DIR / f"{dataset.id}-deadbeef{PARTIAL_SUFFIX}"
    live_partial = root / PARTIAL_DIR / f"{importing.id}-cafebabe{PARTIAL_SUFFIX}"
    fresh_stray = root / "fedcba9876543210fedcba9876543210.tif"
    for path in (stray, dead_partial, live_partial, fresh_stray):
        path.write_bytes(b"II*\x00")
    long_ago = time.time() - 7200
    for path in (stray, dead_partial, live_partial, referenced):
        os.utime(path, (long_ago, long_ago))

    removed = sweep_orphans(session, store, older_than=time.time() - 3600)

    assert stray in removed and dead_partial in removed
    assert not stray.exists() and not dead_partial.exists()
    assert referenced.is_file() and referenced not in removed
    assert live_partial.is_file() and live_partial not in removed  # its import still runs
    assert fresh_stray.is_file() and fresh_stray not in removed  # maybe about to commit
    fresh_stray.unlink()
    live_partial.unlink()


def test_a_retried_import_removes_what_a_killed_one_left(app, session, make_raster,
                                                         tmp_path) -> None:
    # The import of a dataset first removes its own partial files of earlier attempts.
    request = ImportRequest.parse({"name": "Retried DEM", "kind": "dem"})
    upload = plane_dem(tmp_path, vertical=NAVD88)
    dataset = runs.create_pending(session, request, upload.name, None)
    store = jobs.raster_target(app).store
    leftover = store.partial_path(dataset.id)
    leftover.write_bytes(b"half a COG")
    runs.run_import(session, dataset, upload, request, files.UnpackLimits(),
                    raster_target=jobs.raster_target(app))
    assert not leftover.exists()
    assert dataset.status == "ready"


def test_cli_imports_a_raster(app, session, tmp_path) -> None:
    path = plane_dem(tmp_path, units="metre")
    result = app.test_cli_runner().invoke(args=[
        "rasters", "import", str(path), "--kind", "dem", "--name", "CLI DEM",
        "--vertical-datum", "NAVD88", "--unit", "m", "--effective-date", "2023-05-01"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["raster"]["vertical_datum"] == "NAVD88" and report["raster"]["unit"] == "m"
    dataset = session.scalar(select(Dataset).where(Dataset.name == "CLI DEM"))
    assert dataset.status == "ready" and dataset.effective_date == dt.date(2023, 5, 1)
    assert (raster_root(app) / layer_of(session, dataset).file_name).is_file()


def test_cli_refusal_is_a_message_and_leaves_nothing(app, session, tmp_path) -> None:
    path = plane_dem(tmp_path, vertical=NAVD88)
    files_before = stored_files(app)
    result = app.test_cli_runner().invoke(args=[
        "rasters", "import", str(path), "--kind", "dem", "--name", "CLI conflict",
        "--unit", "ft"])
    assert result.exit_code == 1
    assert "says its values are in m" in result.output
    assert session.scalar(select(Dataset).where(Dataset.name == "CLI conflict")) is None
    assert stored_files(app) == files_before


def test_cli_depth_grid_needs_its_event(app, session, tmp_path) -> None:
    result = app.test_cli_runner().invoke(args=[
        "rasters", "import", str(step_depth(tmp_path)), "--kind", "depth", "--name", "No event",
        "--unit", "ft"])
    assert result.exit_code != 0
    assert "event" in result.output
    assert session.scalar(select(Dataset).where(Dataset.name == "No event")) is None


def test_a_south_up_raster_is_refused(session, app, make_raster, tmp_path) -> None:
    from affine import Affine

    source = plane_dem(tmp_path, vertical=NAVD88)
    with rasterio.open(source) as plane:
        cells, profile = plane.read(1), plane.profile
    t = profile["transform"]
    profile.update(transform=Affine(t.a, 0, t.c, 0, -t.e, t.f + t.e * profile["height"]))
    flipped = tmp_path / "south_up.tif"
    with rasterio.open(flipped, "w", **profile) as target:
        target.write(cells[::-1], 1)
    with pytest.raises(InvalidInput) as refused:
        make_raster(flipped)
    assert refused.value.code == "invalid_raster" and "north-up" in refused.value.message


def test_a_raster_of_one_huge_strip_is_refused_before_it_is_read(session, app, make_raster,
                                                                 tmp_path) -> None:
    from affine import Affine

    # 6000 x 6000 float64 cells in one DEFLATE strip: 288 MiB decompressed, a few KiB stored.
    grid_path = tmp_path / "strip.tif"
    with rasterio.open(grid_path, "w", driver="GTiff", width=6000, height=6000, count=1,
                       dtype="float64", crs="EPSG:26918+5703", compress="deflate",
                       blockysize=6000,
                       transform=Affine(1, 0, 580000, 0, -1, 4440000)) as target:
        target.write(np.zeros((6000, 6000)), 1)
    assert grid_path.stat().st_size < 2_000_000
    with pytest.raises(InvalidInput) as refused:
        make_raster(grid_path)
    assert refused.value.code == "invalid_raster" and "tiled" in refused.value.message


def test_a_raster_across_the_antimeridian_is_refused_by_name(session, app, make_raster,
                                                            tmp_path) -> None:
    from affine import Affine

    # 1 km cells of Alaska Albers (EPSG:3338) around the Aleutians' 180th meridian.
    path = tmp_path / "aleutians.tif"
    with rasterio.open(path, "w", driver="GTiff", width=100, height=50, count=1,
                       dtype="float32", crs="EPSG:3338",
                       transform=Affine(1000, 0, -1_850_000, 0, -1000, 450_000)) as target:
        target.write(np.ones((50, 100), dtype="float32"), 1)
    with pytest.raises(InvalidInput) as refused:
        make_raster(path, vertical_datum="NAVD88", unit="m")
    assert refused.value.code == "crosses_antimeridian"
