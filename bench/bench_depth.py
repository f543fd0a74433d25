"""How deep: reading ground elevation and 1% depth from rasters, for one point and for 100,000.

The rasters: a 10,000 x 10,000-cell DEM (1 m cells, metres NAVD88, EPSG:26918) and a 1% depth
grid of the same size, generated once into bench/results/ and imported with
`flask rasters import` into the sample map's bench database (`floodmanager_bench_package`,
the sample NFHL package, made by bench_determination.py's way if absent).

Printed side by side, same run:
- one point warm: `geoapp.geo.rasters.sample_point` (a windowed read of one cell, the dataset
  kept open) and the whole depth answer (`risk.depth.depth_at`: DEM, depth grid, LOMA),
  against opening the file and reading its whole band for the point (the naive way);
- 100,000 points, two shapes: spread over the whole DEM (every tile read) and a portfolio in
  one square kilometre (a few tiles): `risk.depth.depths_at_points` (tiles grouped, each read
  once) against rasterio's own `DatasetReader.sample` (one window per point) and against a
  fresh full read per point (timed on a few points, multiplied out);
- the batch end to end over HTTP (`POST /api/lookup/batch`, 100,000 points, CSV in, JSON
  out, one worker, one thread), with ground elevation and 1% depth in every row.

Run (the private PostgreSQL running, see bench/README.md):

    .venv/bin/python bench/bench_depth.py [--cells 10000] [--points 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, VENV_BIN, bench_database_url, timed_batch  # noqa: E402

SAMPLE_DB = "floodmanager_bench_package"
SAMPLE_PACKAGE = PROJECT / "data" / "sample" / "manasquan_nfhl_package.zip"
RESULTS = PROJECT / "bench" / "results"
DEM_NAME = "bench DEM {cells}"
DEPTH_NAME = "bench 1% depth {cells}"
# The DEM's south-west corner in NAD83 / UTM 18N: the Manasquan sample's neighbourhood.
ORIGIN_E, ORIGIN_N = 575000.0, 4435000.0
CELL_M = 1.0


def surface(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """A smooth synthetic terrain (metres): a valley with ridges, no two tiles alike."""
    x, y = cols * CELL_M, rows * CELL_M
    return (4.0 + 3.0 * np.sin(x / 700.0) * np.cos(y / 900.0) + x / 2500.0
            + 0.5 * np.sin((x + y) / 130.0)).astype("float32")


def write_raster(path: Path, cells: int, depth: bool) -> None:
    """A cells x cells GeoTIFF (tiled, DEFLATE), written in strips of 1,000 rows."""
    import rasterio
    from rasterio.transform import from_origin

    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {"driver": "GTiff", "width": cells, "height": cells, "count": 1,
               "dtype": "float32", "nodata": -9999.0, "tiled": True, "blockxsize": 512,
               "blockysize": 512, "compress": "deflate", "predictor": 3, "BIGTIFF": "IF_SAFER",
               "crs": "EPSG:26918" if depth else "EPSG:26918+5703",
               "transform": from_origin(ORIGIN_E, ORIGIN_N + cells * CELL_M, CELL_M, CELL_M)}
    with rasterio.open(path.with_suffix(".tmp.tif"), "w", **profile) as target:
        target.units = ("ft",) if depth else ("metre",)
        for start in range(0, cells, 1000):
            stop = min(start + 1000, cells)
            rows, cols = np.mgrid[start:stop, 0:cells]
            ground = surface(rows, cols)
            if depth:
                values = np.where(ground < 3.0, (3.0 - ground) * 3.28084, -9999.0)
                block = values.astype("float32")
            else:
                block = ground
            target.write(block, 1, window=rasterio.windows.Window(0, start, cells, stop - start))
    path.with_suffix(".tmp.tif").rename(path)


def flask(url: str, *args: str) -> None:
    """A FloodManager command against the bench database."""
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "geoapp",
           "GEOAPP_RASTER_DIR": str(RESULTS / "rasters")}
    subprocess.run([str(VENV_BIN / "flask"), *args], cwd=PROJECT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def ensure_map(cells: int) -> str:
    """The bench database with the sample package and the two rasters (made when absent)."""
    url = bench_database_url(SAMPLE_DB)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = set(conn.scalars(sa.text("SELECT name FROM datasets WHERE status = 'ready'")))
    engine.dispose()
    if not any("Manasquan" in name for name in names):
        flask(url, "zones", "load-sample", "--path", str(SAMPLE_PACKAGE))
    for name, depth in ((DEM_NAME, False), (DEPTH_NAME, True)):
        name = name.format(cells=cells)
        if name in names:
            continue
        path = RESULTS / f"bench_{'depth' if depth else 'dem'}_{cells}.tif"
        if not path.exists():
            print(f"writing {path.name} ({cells:,} x {cells:,} cells) ...", flush=True)
            write_raster(path, cells, depth)
        print(f"importing {path.name} (converted to a COG) ...", flush=True)
        started = time.perf_counter()
        flask(url, "rasters", "import", str(path), "--kind", "depth" if depth else "dem",
              "--name", name, *(["--event", "1"] if depth else []))
        print(f"  imported in {time.perf_counter() - started:.1f} s", flush=True)
    return url


def footprint_points(count: int, cells: int, seed: int, square_m: float | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat of random points over the DEM, or within one square of `square_m` metres."""
    from pyproj import Transformer

    generator = np.random.default_rng(seed)
    span = cells * CELL_M if square_m is None else square_m
    west = ORIGIN_E if square_m is None else ORIGIN_E + cells * CELL_M / 2
    south = ORIGIN_N if square_m is None else ORIGIN_N + cells * CELL_M / 2
    eastings = west + generator.random(count) * span * 0.999
    northings = south + generator.random(count) * span * 0.999
    lons, lats = Transformer.from_crs(26918, 4326, always_xy=True).transform(eastings, northings)
    return np.asarray(lons), np.asarray(lats)


def in_process(url: str, cells: int, points: int) -> None:
    """Timings inside one process: one point warm, then 100,000 points three ways."""
    import rasterio

    os.environ["GEOAPP_RASTER_DIR"] = str(RESULTS / "rasters")
    from geoapp import create_app
    from geoapp.db.queries.scope import ACTIVE
    from geoapp.extensions import db
    from geoapp.geo.rasters import sample_point
    from geoapp.risk.depth import DepthRequest, FloodElevation, depth_at, depths_at_points
    from geoapp.risk.determination import current_catalog

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-only-key-7c1e9a4f2b6d8035e4a1"})
    root = RESULTS / "rasters"
    with app.app_context():
        rasters = [r for r in current_catalog(db.session, ACTIVE).rasters
                   if r.dataset_name in (DEM_NAME.format(cells=cells),
                                         DEPTH_NAME.format(cells=cells))]
        db.session.close()
    dem = next(r for r in rasters if r.kind == "dem")
    lons, lats = footprint_points(2000, cells, seed=3)
    flood = FloodElevation(in_sfha=True, value=12.0, estimated=False, unit="Feet",
                           datum="NAVD88")
    request = DepthRequest(root)
    # Cold: the first read of each point's tile; warm: the same 200 points again, their
    # tiles in GDAL's block cache (GEOAPP_RASTER_CACHE_MB), as for a neighbourhood's lookups.
    cold_us, sample_us, answer_us = [], [], []
    for lon, lat in zip(lons[:1000], lats[:1000], strict=True):
        start = time.perf_counter()
        sample_point(dem.file(root), lon, lat)
        cold_us.append((time.perf_counter() - start) * 1e6)
    for _ in range(5):
        for lon, lat in zip(lons[:200], lats[:200], strict=True):
            depth_at(rasters, lon, lat, flood, request)
            start = time.perf_counter()
            sample_point(dem.file(root), lon, lat)
            sample_us.append((time.perf_counter() - start) * 1e6)
            start = time.perf_counter()
            depth_at(rasters, lon, lat, flood, request)
            answer_us.append((time.perf_counter() - start) * 1e6)
    naive = []
    for lon, lat in zip(lons[:3], lats[:3], strict=True):
        start = time.perf_counter()
        with rasterio.open(root / dem.file_name) as dataset:
            band = dataset.read(1)
            x, y = dataset.index(*_to_utm(lon, lat))
            float(band[x, y])
        naive.append(time.perf_counter() - start)
    print(f"one point ({cells:,}² DEM and depth grid); warm: 200 points 5 times, cold: 1,000 "
          "points each read once")
    print(f"  sample_point (one cell, dataset kept open) {statistics.median(sample_us):8.1f} µs"
          f"   p95 {np.percentile(sample_us, 95):8.1f} µs  (target ≤ 1 ms)")
    print(f"  depth_at (DEM + depth grid + LOMA)        {statistics.median(answer_us):8.1f} µs"
          f"   p95 {np.percentile(answer_us, 95):8.1f} µs")
    print(f"  sample_point, cold (its tile read first)   {statistics.median(cold_us):8.1f} µs"
          f"   p95 {np.percentile(cold_us, 95):8.1f} µs")
    print(f"  fresh open + full read of the band         {statistics.median(naive) * 1e6:8.0f} µs")
    lookup_with_and_without(app, root)
    for shape, square in (("spread over the DEM", None), ("in one km²", 1000.0)):
        lons, lats = footprint_points(points, cells, seed=7, square_m=square)
        floods = [flood] * points
        _drop_block_cache(root, rasters)
        start = time.perf_counter()
        answers = depths_at_points(rasters, root, lons, lats, floods)
        grouped = time.perf_counter() - start
        with rasterio.open(root / dem.file_name) as dataset:
            xy = list(zip(*_to_utm(lons, lats), strict=True))
            start = time.perf_counter()
            sum(1 for _ in dataset.sample(xy, indexes=1))
            per_point = time.perf_counter() - start
        fresh = statistics.median(naive) * points
        with_ground = sum(1 for a in answers if a.ground is not None)
        print(f"{points:,} points {shape} (ground and 1% depth, {with_ground:,} with ground):")
        print(f"  depths_at_points (tiles grouped, each read once) {grouped:8.2f} s "
              f"(DEM and depth grid)")
        print(f"  rasterio DatasetReader.sample (window per point) {per_point:8.2f} s (DEM only)")
        print(f"  fresh full read per point (×{points:,} of 3 timed) {fresh:10.0f} s (DEM only)")


def lookup_with_and_without(app, root: Path) -> None:
    """The whole determination at the sample's depth points, warm, with and without its
    depth answer (the rasters of the sample and of the bench in scope)."""
    import json

    from geoapp.extensions import db
    from geoapp.risk.depth import DepthRequest
    from geoapp.risk.determination import lookup_and_determine

    points = json.loads((PROJECT / "data" / "sample" / "depth_points.json").read_text())
    request = DepthRequest(root)
    timings: dict[str, list[float]] = {"without": [], "with": []}
    with app.app_context():
        for round_ in range(30):
            for point in points:
                for name, depth in (("without", None), ("with", request)):
                    start = time.perf_counter()
                    lookup_and_determine(db.session, point["lon"], point["lat"], depth=depth)
                    if round_:  # the first round warms files, tiles, statements
                        timings[name].append((time.perf_counter() - start) * 1e6)
        db.session.close()
    without, with_depth = (statistics.median(timings[k]) for k in ("without", "with"))
    print(f"a lookup with its determination, in process (median, {len(points)} sample points "
          f"× 29): {without:.0f} µs without the depth answer, {with_depth:.0f} µs with it "
          f"(+{with_depth - without:.0f} µs)")


def _to_utm(lons, lats):
    from pyproj import Transformer

    return Transformer.from_crs(4326, 26918, always_xy=True).transform(lons, lats)


def _drop_block_cache(root: Path, rasters) -> None:
    """Start cold: this thread's open datasets closed (GDAL's block cache goes with them)."""
    from geoapp.geo.rasters import forget

    for raster in rasters:
        forget(root / raster.file_name)


def over_http(url: str, cells: int, points: int) -> None:
    """The batch end to end, with ground elevation and 1% depth in each row."""
    lons, lats = footprint_points(points, cells, seed=11)
    body = ("id,lon,lat\n" + "".join(f"{i},{lon:.7f},{lat:.7f}\n"
                                     for i, (lon, lat) in enumerate(zip(lons, lats,
                                                                        strict=True)))).encode()
    os.environ["GEOAPP_RASTER_DIR"] = str(RESULTS / "rasters")
    result, elapsed, idle, peak = timed_batch(url, body, "text/csv")
    rows = result["results"]
    print(f"batch over HTTP, {points:,} points spread over the DEM, one worker, one thread: "
          f"{elapsed:.2f} s (target < 15 s); worker memory {idle:.0f} → peak {peak:.0f} MiB; "
          f"rows with ground {sum(1 for r in rows if r['ground_elevation'] is not None):,}, "
          f"with 1% depth {sum(1 for r in rows if r['flood_depth_1pct'] is not None):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    url = ensure_map(args.cells)
    in_process(url, args.cells, args.points)
    if not args.no_http:
        over_http(url, args.cells, args.points)


if __name__ == "__main__":
    main()
