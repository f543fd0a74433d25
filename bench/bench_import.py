"""Import benchmark: `flask zones import` vs `ogr2ogr -f PostgreSQL` (PG_USE_COPY=YES).

Both read the same generated shapefile (NAD83 / New Jersey ftUS, so both reproject) into the
bench database, one after the other, wall time and peak memory measured from outside:

- many: 200,000 small NFHL polygons (16 to 64 vertices),
- the same 200,000 polygons as GeoJSON in EPSG:4326 (a format without random access),
- huge: 6 polygons of about 100,000 vertices, each with 50 holes.

FloodManager's time includes everything it does that ogr2ogr does not: validity checks and
repair, NFHL attribute handling, the subdivided lookup table, the dataset switch. ogr2ogr loads
into a plain table with a GiST index. Last, each shapefile is zipped and queued to a real
`flask worker` as the API queues a large upload: time from queueing to `ready`, and the
worker's peak memory (the issue's "peak worker memory").

    .venv/bin/python bench/bench_import.py [--features 200000]
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely
import sqlalchemy as sa
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH_SECRET_KEY,
    PROJECT,
    VENV_BIN,
    bench_database_url,
    require_tool,
)

BENCH_NAME = "bench import (synthetic)"
OGR_TABLE = "ogr2ogr_import_bench"
STATE_PLANE = "EPSG:3424"
WORKER_START_S = 4.0
WORKER_TIMEOUT_S = 300.0
ORIGIN = (-74.6, 39.6)  # south-west corner of the generated area, in New Jersey


def ring(cx: float, cy: float, radius: float, vertices: int, rng: np.random.Generator
         ) -> np.ndarray:
    """A closed star-shaped ring (always simple)."""
    theta = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    r = radius * (1 + 0.15 * np.sin(3 * theta + rng.uniform(0, 6.3)))
    points = np.column_stack([cx + r * np.cos(theta), cy + r * np.sin(theta)])
    return np.vstack([points, points[:1]])


def many_polygons(count: int, seed: int = 3) -> list:
    """`count` small polygons on a grid, in degrees."""
    rng = np.random.default_rng(seed)
    side = math.ceil(math.sqrt(count))
    step = 0.002
    return [shapely.Polygon(ring(ORIGIN[0] + (i % side) * step, ORIGIN[1] + (i // side) * step,
                                 step * 0.4, int(rng.integers(16, 65)), rng))
            for i in range(count)]


def huge_polygons(count: int = 6, vertices: int = 100_000, holes: int = 50, seed: int = 4
                  ) -> list:
    """A few very detailed polygons with many holes, in degrees."""
    rng = np.random.default_rng(seed)
    polygons = []
    for k in range(count):
        cx, cy = ORIGIN[0] + 0.3 * k, ORIGIN[1] - 0.3
        shell = ring(cx, cy, 0.1, vertices, rng)
        # 50 holes of at most 0.004° across, 0.0063° apart on their circle: disjoint.
        inner = [ring(cx + 0.05 * math.cos(a), cy + 0.05 * math.sin(a), 0.0017, 64, rng)[::-1]
                 for a in np.linspace(0, 2 * math.pi, holes, endpoint=False)]
        polygons.append(shapely.Polygon(shell, inner))
    return polygons


def nfhl_fields(count: int) -> dict[str, np.ndarray]:
    """NFHL attributes: zones AE, X, A, VE in turn."""
    zones = np.array(["AE", "X", "A", "VE"] * (count // 4 + 1), dtype=object)[:count]
    return {
        "FLD_AR_ID": np.array([f"B_{i}" for i in range(count)], dtype=object),
        "FLD_ZONE": zones,
        "ZONE_SUBTY": np.array([""] * count, dtype=object),
        "SFHA_TF": np.array(["F" if z == "X" else "T" for z in zones], dtype=object),
        "STATIC_BFE": np.array([9.0 if z == "AE" else -9999.0 for z in zones]),
    }


def write_geojson(path: Path, polygons: list) -> Path:
    """NFHL-schema GeoJSON in EPSG:4326."""
    fields = nfhl_fields(len(polygons))
    pyogrio.raw.write(str(path), shapely.to_wkb(np.array(polygons, dtype=object)),
                      list(fields.values()), list(fields), driver="GeoJSON", crs="EPSG:4326",
                      geometry_type="Polygon", encoding="UTF-8")
    return path


def write_shapefile(path: Path, polygons: list) -> Path:
    """NFHL-schema shapefile in New Jersey State Plane feet (with .prj and .cpg)."""
    to_plane = Transformer.from_crs("EPSG:4326", STATE_PLANE, always_xy=True)
    projected = shapely.transform(np.array(polygons, dtype=object), to_plane.transform,
                                  interleaved=False)
    fields = nfhl_fields(len(polygons))
    pyogrio.raw.write(str(path), shapely.to_wkb(projected), list(fields.values()), list(fields),
                      crs=STATE_PLANE, geometry_type="Polygon", encoding="UTF-8")
    return path


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a command run to completion."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, cwd=PROJECT)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} failed: {process.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def ogr2ogr(url: sa.URL, shapefile: Path) -> tuple[float, float]:
    """ogr2ogr into a plain table (reprojected, COPY, GiST index)."""
    tool = require_tool("ogr2ogr", "gdal-bin")
    pg = (f"PG:host={url.host} port={url.port} dbname={url.database} user={url.username}"
          + (f" password={url.password}" if url.password else ""))
    return timed([tool, "-f", "PostgreSQL", pg, str(shapefile), "-nln", OGR_TABLE,
                  "-overwrite", "-t_srs", "EPSG:4326", "-nlt", "PROMOTE_TO_MULTI",
                  "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST"],
                 {"PG_USE_COPY": "YES"})


def floodmanager(url: str, shapefile: Path) -> tuple[float, float]:
    """`flask zones import` (the same pipeline the upload worker runs)."""
    return timed([str(VENV_BIN / "flask"), "zones", "import", str(shapefile), "--name",
                  BENCH_NAME],
                 {"DATABASE_URL": url, "FLASK_APP": "geoapp", "SECRET_KEY": BENCH_SECRET_KEY})


def clean(url: str) -> None:
    """Remove what the runs wrote, and vacuum: the next import must not pay for dead rows and
    index entries the previous one left (ogr2ogr always writes into a new table)."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("DELETE FROM datasets WHERE name = :n"), {"n": BENCH_NAME})
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{OGR_TABLE}"'))
        for table in ("flood_zones", "flood_zone_pieces", "datasets"):
            conn.execute(sa.text(f"VACUUM {table}"))
    engine.dispose()


def counts(url: str) -> tuple[int, int, float]:
    """Zones and pieces of the benchmark's dataset, and the import's own elapsed seconds."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        zones, pieces, elapsed = conn.execute(sa.text(
            "SELECT count(DISTINCT z.id), count(p.id), "
            "max((d.import_report->>'elapsed_s')::float) FROM flood_zones z "
            "JOIN datasets d ON d.id = z.dataset_id LEFT JOIN flood_zone_pieces p "
            "ON p.zone_id = z.id WHERE d.name = :n AND d.status = 'ready'"),
            {"n": BENCH_NAME}).one()
    engine.dispose()
    return zones, pieces, elapsed


def through_worker(url: str, source: Path, workdir: Path) -> tuple[float, float, float]:
    """Seconds from queueing to `ready`, the pipeline's own seconds within them, and the
    worker's peak RSS (MiB), for an import run by `flask worker` and queued as the API queues
    a large upload (a zip in its own folder)."""
    from geoapp import create_app  # here: the wait4() figures are taken by now
    from geoapp.db.models import Dataset
    from geoapp.db.vocabulary import DatasetStatus
    from geoapp.extensions import db
    from geoapp.ingest import jobs, runs
    from geoapp.ingest.request import ImportRequest

    upload = workdir / f"upload-{source.stem}"
    upload.mkdir()
    archive = upload / f"{source.stem}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
        for part in sorted(source.parent.glob(f"{source.stem}.*")):
            bundle.write(part, part.name)
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "geoapp", "SECRET_KEY": BENCH_SECRET_KEY}
    worker = subprocess.Popen([str(VENV_BIN / "flask"), "worker"], env=env, cwd=PROJECT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": BENCH_SECRET_KEY})
        with app.app_context():
            time.sleep(WORKER_START_S)  # the worker is listening before the clock starts
            options = ImportRequest.parse({"name": BENCH_NAME})
            dataset = runs.create_pending(db.session, options, archive.name, None)
            db.session.commit()
            started = time.perf_counter()
            jobs.enqueue_import(app, dataset.id, archive, options)
            status = DatasetStatus.QUEUED
            while status not in (DatasetStatus.READY, DatasetStatus.FAILED):
                if time.perf_counter() - started > WORKER_TIMEOUT_S:
                    raise RuntimeError(f"the worker did not finish {source.name}")
                time.sleep(0.02)
                db.session.expire_all()
                status = db.session.get(Dataset, dataset.id).status
            elapsed = time.perf_counter() - started
            if status != DatasetStatus.READY:
                raise RuntimeError(f"the worker failed on {source.name}")
            pipeline_s = db.session.get(Dataset, dataset.id).import_report["elapsed_s"]
        # VmHWM: the peak RSS of the worker's own program (set afresh at exec).
        status_lines = Path(f"/proc/{worker.pid}/status").read_text().splitlines()
        peak_kib = next(int(line.split()[1]) for line in status_lines
                        if line.startswith("VmHWM:"))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return elapsed, pipeline_s, peak_kib / 1024


def main() -> None:
    """Generate the files, run both importers on each, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--features", type=int, default=200_000)
    parser.add_argument("--generate", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        many = many_polygons(args.features)
        write_shapefile(Path(args.generate) / "many.shp", many)
        write_geojson(Path(args.generate) / "many.geojson", many)
        write_shapefile(Path(args.generate) / "huge.shp", huge_polygons())
        return
    url = bench_database_url()
    db_url = sa.engine.make_url(url)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        # Generated by a child process: memory figures come from wait4(), whose peak would
        # otherwise include this process's own (inherited until exec).
        subprocess.run([sys.executable, __file__, "--generate", tmp, "--features",
                        str(args.features)], check=True)
        files = {
            f"{args.features:,} small polygons": Path(tmp) / "many.shp",
            f"{args.features:,} small polygons, GeoJSON": Path(tmp) / "many.geojson",
            "6 polygons x 100,000 vertices, 50 holes each": Path(tmp) / "huge.shp",
        }
        for label, shapefile in files.items():
            clean(url)
            ogr_time, ogr_mem = ogr2ogr(db_url, shapefile)
            ours_time, ours_mem = floodmanager(url, shapefile)
            zones, pieces, import_s = counts(url)
            results.append((label, ogr_time, ogr_mem, ours_time, import_s, ours_mem, zones,
                            pieces))
            clean(url)
        # Last: it imports the app into this process, which would inflate wait4()'s figures.
        worker_runs = []
        for label, shapefile in files.items():
            if shapefile.suffix == ".shp":
                worker_runs.append((label, *through_worker(url, shapefile, Path(tmp))))
                clean(url)
    # "command" is the whole `flask zones import` process, Python and app start-up included;
    # "import" is the pipeline's own time (what a running worker spends on the job).
    print(f"\n{'file':46}{'ogr2ogr s':>10}{'MiB':>6}{'FM command s':>14}{'FM import s':>13}"
          f"{'MiB':>6}{'ratio cmd':>11}{'ratio import':>14}  zones / pieces")
    for label, ogr_time, ogr_mem, ours_time, import_s, ours_mem, zones, pieces in results:
        print(f"{label:46}{ogr_time:>10.1f}{ogr_mem:>6.0f}{ours_time:>14.1f}{import_s:>13.1f}"
              f"{ours_mem:>6.0f}{ours_time / ogr_time:>10.1f}x{import_s / ogr_time:>13.1f}x"
              f"  {zones} / {pieces}")
    print("\nthrough `flask worker`, queued as the API queues a large upload (a stored zip):")
    for label, elapsed, pipeline_s, peak in worker_runs:
        print(f"  {label:46} queued -> ready {elapsed:5.1f} s (pipeline {pipeline_s:4.1f} s "
              f"of it), worker peak RSS {peak:4.0f} MiB")


if __name__ == "__main__":
    main()
