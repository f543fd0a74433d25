"""The API as real clients see it: GDAL's OAPIF driver and owslib."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import rasterio
from geoalchemy2.shape import from_shape
from openapi_spec_validator import validate
from shapely.geometry import MultiPolygon, box
from sqlalchemy import func, select
from werkzeug.serving import make_server

from geoapp.db.models import FirmPanel, FloodZone
from geoapp.db.queries import shapes as queries

ZONES = 23  # not a multiple of the page sizes below, so the last page is a partial one


@pytest.fixture()
def zones(make_dataset, make_zone, analyzed) -> list:
    dataset = make_dataset(name="Client FIRM")
    made = [
        make_zone(box(-90 + i * 0.01, 30, -89.99 + i * 0.01, 30.01), dataset=dataset,
                  fld_zone="AE" if i % 3 else "X", sfha_tf=bool(i % 3),
                  static_bfe=float(i) if i % 3 else None, zone_subty="Zoë's ÅREA")
        for i in range(ZONES)
    ]
    analyzed()  # numberMatched follows the estimate
    return made


@pytest.fixture()
def live_server(app, session, zones) -> Iterator[str]:
    """The app on a real HTTP port of loopback, sharing the test's transaction."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


# GDAL runs in its own process: pyogrio may hold the GIL while GDAL waits for the server
# thread of this process, and a separate process is what a real client is anyway.
GDAL_CLIENT = """
import json, sys
import pyogrio.raw
url, bbox, page_size = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
layer = sys.argv[4] if len(sys.argv) > 4 else "flood_zones"
meta, fids, geometries, fields = pyogrio.raw.read(
    "OAPIF:" + url, layer=layer, bbox=tuple(bbox) if bbox else None,
    return_fids=True, PAGE_SIZE=page_size)
names = list(meta["fields"])
print(json.dumps({
    "fids": [int(f) for f in fids],
    "geometries": sum(g is not None for g in geometries),
    "fields": {n: [None if v is None else str(v) for v in fields[i]] for i, n in enumerate(names)},
}))
"""


def read_with_gdal(api_url: str, bbox: tuple[float, ...] | None = None, page_size: int = 5,
                   layer: str = "flood_zones"):
    """Features of a collection (flood_zones) as GDAL's OAPIF driver reads them."""
    done = subprocess.run(
        [sys.executable, "-c", GDAL_CLIENT, api_url, json.dumps(bbox), str(page_size), layer],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_gdal_oapif_reads_the_whole_collection_through_paging(live_server, session) -> None:
    read = read_with_gdal(f"{live_server}/api", page_size=5)
    assert len(read["fids"]) == session.scalar(select(func.count()).select_from(FloodZone))
    assert len(set(read["fids"])) == ZONES
    assert read["geometries"] == ZONES
    assert set(read["fields"]["fld_zone"]) == {"AE", "X"}
    assert "Zoë's ÅREA" in set(read["fields"]["zone_subty"])


def test_gdal_bbox_filter_matches_postgis(live_server, session) -> None:
    bbox = (-89.975, 30.002, -89.935, 30.004)
    fids = read_with_gdal(f"{live_server}/api", bbox=bbox)["fids"]
    expected = session.scalars(
        select(FloodZone.id).where(func.ST_Intersects(FloodZone.geom,
                                                      queries.envelope(bbox, 4326)))
    ).all()
    assert sorted(int(f) for f in fids) == sorted(expected)
    assert len(expected) == 5


def test_owslib_lists_collections_and_reads_items(live_server) -> None:
    from owslib.ogcapi.features import Features

    api = Features(f"{live_server}/api")
    ids = [c["id"] for c in api.collections()["collections"]]
    assert "flood_zones" in ids
    items = api.collection_items("flood_zones", limit=7)
    assert len(items["features"]) == 7
    assert items["numberMatched"] == ZONES
    assert api.conformance()["conformsTo"]


def test_openapi_document_is_valid(client) -> None:
    validate(client.get("/api/openapi.json").get_json())


# Schemathesis over every operation (reads and writes): tests/security/test_sec_fuzz_api.py.


PANELS = 7  # not a multiple of the page size, so the last page is a partial one


def test_gdal_oapif_reads_a_package_layer_through_paging(app, session, zones) -> None:
    # FIRM panels of the same dataset as the zones: a collection of the NFHL package.
    dataset_id = zones[0].dataset_id
    for i in range(PANELS):
        session.add(FirmPanel(dataset_id=dataset_id, firm_pan=f"28047C{i:04d}F",
                              panel=f"{i:04d}", suffix="F",
                              geom=from_shape(MultiPolygon([box(-90 + i * 0.1, 30,
                                                                -89.9 + i * 0.1, 30.1)]),
                                              srid=4326)))
    session.flush()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        read = read_with_gdal(f"http://127.0.0.1:{server.server_port}/api", page_size=3,
                              layer="firm_panels")
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert len(set(read["fids"])) == PANELS and read["geometries"] == PANELS
    assert sorted(read["fields"]["firm_pan"]) == [f"28047C{i:04d}F" for i in range(PANELS)]


# rasterio's GDAL in its own process, not locked down: a client on another machine reading
# the served COG a block at a time over HTTP Range requests (/vsicurl/).
COG_CLIENT = """
import json, sys
import rasterio
from rasterio.windows import Window
with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"):
    with rasterio.open("/vsicurl/" + sys.argv[1]) as cog:
        print(json.dumps({"size": [cog.width, cog.height], "crs": cog.crs.to_wkt(),
                          "blocks": cog.block_shapes[0], "overviews": cog.overviews(1),
                          "cell": float(cog.read(1, window=Window(150, 20, 1, 1))[0, 0])}))
"""


def test_gdal_reads_the_served_cog_by_range_requests(app, session, make_raster, tmp_path) -> None:
    from tests.raster_files import NAVD88, plane_dem

    dataset = make_raster(plane_dem(tmp_path, vertical=NAVD88))
    session.commit()
    [raster_id] = [layer.id for layer in dataset_rasters(session, dataset.id)]
    served: list[str] = []

    def spy(environ, start_response):
        def recorded(status, headers, *rest):
            served.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} "
                          f"{environ.get('HTTP_RANGE', 'whole')} {status}")
            return start_response(status, headers, *rest)

        return app(environ, recorded)

    server = make_server("127.0.0.1", 0, spy, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        done = subprocess.run(
            [sys.executable, "-c", COG_CLIENT,
             f"http://127.0.0.1:{server.server_port}/api/rasters/{raster_id}/file"],
            capture_output=True, text=True, timeout=120, check=False)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert done.returncode == 0, (done.stderr, served)
    read = json.loads(done.stdout)
    assert read["size"] == [200, 200] and "UTM zone 18N" in read["crs"]
    # plane_dem's value at column 150: its base plus its slope times the easting offset.
    with rasterio.open(tmp_path / "dem.tif") as original:
        assert read["cell"] == pytest.approx(float(original.read(1)[20, 150]))
    # Parts of the file, never the whole of it.
    file_reads = [item for item in served if item.startswith(f"GET /api/rasters/{raster_id}/file ")]
    assert file_reads and all(" bytes=" in item and " 206 " in item for item in file_reads), served


def dataset_rasters(session, dataset_id: int):
    from geoapp.db.models import RasterLayer

    return session.scalars(select(RasterLayer).where(RasterLayer.dataset_id == dataset_id)).all()
