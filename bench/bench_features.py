"""Features API benchmark: FloodManager, tipg and pygeoapi serving the same PostGIS table.

FloodManager and pygeoapi run under gunicorn with the same workers and threads, tipg under
uvicorn with the same number of worker processes (it is async: one event loop each), all on
loopback; wrk sends each the same requests (random paths from one list, the collection's own
id put in) with the same concurrency:

- ``items?limit=100``                   first pages of the whole collection,
- ``items?bbox=...&limit=100`` x 3      random boxes of about 1 km, 5 km and 20 km,
- ``items/{id}``                        random single zones.

Then the memory of one worker while it serves ``items?limit=10000`` pages (streamed by
FloodManager; pygeoapi builds each page in memory).

    .venv/bin/python bench/bench_features.py [--duration 10] [--clients 16]

pygeoapi is installed into var/bench/pygeoapi-venv on first use (its last release that runs
on Python 3.11), with its PostgreSQL provider, pointed at the bench database; tipg into
var/bench/tipg-venv, publishing only the flood_zones table, asked for FloodManager's
properties and its `geom` column (the table also has a stored overview geometry).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    PROJECT,
    bench_database_url,
    dataset_extent,
    ensure_large_dataset,
    free_port,
    gunicorn,
    gunicorn_app,
    parse_wrk,
    peak_rss_mib,
    require_tool,
    serving,
    worker_pids,
)
from generate_large import random_points  # noqa: E402

from geoapp.db.models import FloodZone  # noqa: E402
from geoapp.ogc.features import PROPERTIES  # noqa: E402

PYGEOAPI_VERSION = "0.21.0"
PYGEOAPI_VENV = PROJECT / "var" / "bench" / "pygeoapi-venv"
TIPG_VERSION = "1.6.1"
TIPG_VENV = PROJECT / "var" / "bench" / "tipg-venv"
COLLECTION = "flood_zones"
# The served properties, as every server is asked for them (tipg would add every column).
SERVED_PROPERTIES = [name for name in PROPERTIES if name in FloodZone.__table__.columns]
BBOX_SIZES_DEG = {"bbox ~1 km": 0.01, "bbox ~5 km": 0.05, "bbox ~20 km": 0.2}
PATHS_PER_SCENARIO = 2000


def pygeoapi_bin() -> Path:
    """The bin directory of a virtualenv with pygeoapi and its PostgreSQL provider."""
    python = PYGEOAPI_VENV / "bin" / "python"
    if not (PYGEOAPI_VENV / "bin" / "pygeoapi").exists():
        print(f"installing pygeoapi {PYGEOAPI_VERSION} into {PYGEOAPI_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PYGEOAPI_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        f"pygeoapi=={PYGEOAPI_VERSION}", "psycopg2-binary", "geoalchemy2",
                        "gunicorn"], check=True)
    return PYGEOAPI_VENV / "bin"


def pygeoapi_config(url: sa.URL, base: str) -> dict:
    """A pygeoapi configuration publishing the flood_zones table (JSON is valid YAML)."""
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": 0},
            "url": base,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "limits": {"default_items": 100, "max_items": 10000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    "attribution": "OpenStreetMap"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "bench", "description": "bench", "keywords": ["bench"],
                               "keywords_type": "theme", "terms_of_service": "none",
                               "url": base},
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "bench", "url": base},
            "contact": {"name": "bench"},
        },
        "resources": {
            COLLECTION: {
                "type": "collection",
                "title": "Flood zones",
                "description": "The same table FloodManager serves",
                "keywords": ["flood"],
                "links": [],
                "extents": {"spatial": {"bbox": [-180, -90, 180, 90],
                                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
                "providers": [{
                    "type": "feature",
                    "name": "PostgreSQL",
                    "data": {"host": url.host, "port": url.port, "dbname": url.database,
                             "user": url.username, "password": url.password or "",
                             "search_path": ["public"]},
                    "id_field": "id",
                    "table": "flood_zones",
                    "geom_field": "geom",
                    # The table's columns that FloodManager serves too. Listed, because the
                    # stored overview (a second geometry column) breaks pygeoapi's JSON.
                    "properties": SERVED_PROPERTIES,
                }],
            }
        },
    }


def pygeoapi_server(url: sa.URL, workdir: Path, workers: int, threads: int):
    """pygeoapi under gunicorn (a context manager yielding (base URL, process))."""
    bin_dir = pygeoapi_bin()
    config = workdir / "pygeoapi.yml"
    config.write_text(json.dumps(pygeoapi_config(url, "http://127.0.0.1")))
    openapi = workdir / "pygeoapi-openapi.yml"
    env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    subprocess.run([str(bin_dir / "pygeoapi"), "openapi", "generate", str(config),
                    "--output-file", str(openapi)], check=True, env={**os.environ, **env},
                   stdout=subprocess.DEVNULL)
    return gunicorn_app(bin_dir / "gunicorn", "pygeoapi.flask_app:APP", env,
                        f"/collections/{COLLECTION}", workers, threads, cwd=workdir)


def tipg_bin() -> Path:
    """The bin directory of a virtualenv with tipg and uvicorn."""
    if not (TIPG_VENV / "bin" / "uvicorn").exists():
        print(f"installing tipg {TIPG_VERSION} into {TIPG_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run([str(TIPG_VENV / "bin" / "pip"), "install", "--quiet",
                        f"tipg=={TIPG_VERSION}", "uvicorn"], check=True)
    return TIPG_VENV / "bin"


@contextlib.contextmanager
def tipg_server(url: sa.URL, workers: int, _threads: int) -> Iterator[tuple[str, subprocess.Popen]]:
    """tipg under uvicorn on a free loopback port; yields (base URL, master process)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url.set(drivername="postgresql").render_as_string(hide_password=False),
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": f'["public.{COLLECTION}"]',
        "TIPG_DB_SPATIAL_EXTENT": "false",  # its extent query scans the table at start
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    process = subprocess.Popen(
        [str(tipg_bin() / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"], env=env)
    with serving(process, f"http://127.0.0.1:{port}", f"/collections/{TIPG_COLLECTION}",
                 "tipg", start_timeout_s=120) as base:
        yield base, process


TIPG_COLLECTION = f"public.{COLLECTION}"
# What tipg is asked on top of the common path, so that it serves what the others serve.
TIPG_QUERY = f"properties={','.join(SERVED_PROPERTIES)}&geom-column=geom"


def for_server(paths: list[str], collection: str, extra_query: str = "") -> list[str]:
    """The scenario's paths with a server's collection id (and query parameters) put in."""
    out = []
    for path in paths:
        path = path.replace("{collection}", collection)
        if extra_query:
            path += ("&" if "?" in path else "?") + extra_query
        out.append(path)
    return out


def scenario_paths(engine: sa.Engine, bbox) -> dict[str, list[str]]:
    """The request paths of every scenario (relative to the API root, `{collection}` open)."""
    items = "/collections/{collection}/items"
    xmin, ymin, xmax, ymax = bbox
    paths = {"items?limit=100": [f"{items}?limit=100"]}
    for label, size in BBOX_SIZES_DEG.items():
        corners = random_points(PATHS_PER_SCENARIO, seed=int(size * 1000),
                                bbox=(xmin, ymin, xmax - size, ymax - size))
        paths[label] = [f"{items}?bbox={x:.5f},{y:.5f},{x + size:.5f},{y + size:.5f}&limit=100"
                        for x, y in corners]
    with engine.connect() as conn:
        # The same random zones in every run (one 30,000-vertex zone in the list weighs more
        # than a hundred small ones).
        conn.execute(sa.text("SELECT setseed(0.42)"))
        ids = conn.scalars(sa.text("SELECT id FROM flood_zones ORDER BY random() LIMIT :n"),
                           {"n": PATHS_PER_SCENARIO}).all()
    paths["items/{id}"] = [f"{items}/{i}" for i in ids]
    return paths


def run_wrk(base: str, prefix: str, paths: list[str], clients: int, duration: int,
            workdir: Path) -> dict:
    """wrk against one server with random picks from a list of paths."""
    wrk = require_tool("wrk", "wrk")
    listing = workdir / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    env = {**os.environ, "BENCH_PATHS": str(listing), "BENCH_PREFIX": prefix}
    command = [wrk, "-t2", f"-c{clients}", f"-d{duration}s", "--latency", "--timeout", "30s",
               "-s", str(PROJECT / "bench" / "wrk_paths.lua"), base]
    return parse_wrk(subprocess.run(command, capture_output=True, text=True, env=env,
                                    check=True).stdout)


def big_page_memory(base: str, prefix: str, process, collection: str = COLLECTION,
                    extra_query: str = "", pages: int = 3) -> dict:
    """Peak RSS of the single worker before and after serving 10,000-feature pages."""
    # uvicorn with one worker serves from its main process; gunicorn always forks one.
    [worker] = worker_pids(process.pid) or [process.pid]
    extra = f"&{extra_query}" if extra_query else ""
    urllib.request.urlopen(f"{base}{prefix}/collections/{collection}/items?limit=10{extra}").read()
    idle = peak_rss_mib([worker])
    size, start = 0, time.perf_counter()
    for page in range(pages):
        url = (f"{base}{prefix}/collections/{collection}/items?limit=10000"
               f"&offset={page * 10000}{extra}")
        with urllib.request.urlopen(url, timeout=300) as response:
            while chunk := response.read(1 << 16):
                size += len(chunk)
    return {"idle_mib": idle, "peak_mib": peak_rss_mib([worker]),
            "seconds_per_page": (time.perf_counter() - start) / pages,
            "mib_per_page": size / pages / 2**20}


def main() -> None:
    """Run every scenario on both servers and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zones", type=int, default=50000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    url = bench_database_url()
    dataset_id = ensure_large_dataset(url, args.zones)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        box = dataset_extent(conn, dataset_id)
        zones = conn.scalar(sa.text("SELECT count(*) FROM flood_zones"))
    paths = scenario_paths(engine, box)
    engine.dispose()
    db_url = sa.engine.make_url(url)

    results: dict[str, dict[str, dict]] = {}
    memory: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        servers = {
            "FloodManager": (lambda w, t: gunicorn(url, w, t), "/api", COLLECTION, ""),
            f"tipg {TIPG_VERSION}": (lambda w, t: tipg_server(db_url, w, t), "",
                                     TIPG_COLLECTION, TIPG_QUERY),
            f"pygeoapi {PYGEOAPI_VERSION}": (
                lambda w, t: pygeoapi_server(db_url, workdir, w, t), "", COLLECTION, ""),
        }
        for name, (start, prefix, collection, extra) in servers.items():
            with start(args.workers, args.threads) as (base, _process):
                for scenario, scenario_list in paths.items():
                    results.setdefault(scenario, {})[name] = run_wrk(
                        base, prefix, for_server(scenario_list, collection, extra),
                        args.clients, args.duration, workdir)
            with start(1, 1) as (base, process):
                memory[name] = big_page_memory(base, prefix, process, collection, extra)

    names = list(servers)
    print(f"\n{zones} zones; gunicorn {args.workers} workers x {args.threads} threads each, "
          f"wrk {args.clients} connections, {args.duration} s per run")
    header = "".join(f"{n + ' req/s':>22}{'p50 ms':>9}{'p99 ms':>9}" for n in names)
    ratios = "".join(f"{'vs ' + n.split()[0]:>12}" for n in names[1:])
    print(f"{'scenario':20}{header}{ratios}")
    for scenario, by_server in results.items():
        cells = "".join(f"{by_server[n]['rate']:>22.1f}{by_server[n]['p50']:>9.1f}"
                        f"{by_server[n]['p99']:>9.1f}" for n in names)
        ratio = "".join(
            f"{by_server[names[0]]['rate'] / max(by_server[n]['rate'], 1e-9):>11.1f}x"
            for n in names[1:])
        errors = {n: by_server[n]["non_2xx"] for n in names if by_server[n]["non_2xx"]}
        print(f"{scenario:20}{cells}{ratio}" + (f"  non-2xx: {errors}" if errors else ""))
    print("\nitems?limit=10000, one worker (1 thread), 3 pages:")
    for name in names:
        m = memory[name]
        print(f"  {name:20} {m['seconds_per_page']:.2f} s and {m['mib_per_page']:.1f} MiB per "
              f"page; worker peak RSS {m['idle_mib']:.0f} MiB idle -> {m['peak_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
