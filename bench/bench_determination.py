"""Determinations: a single lookup with the whole determination against the zone-only lookup
(`detail=zones`), the same points in the same run; and a 100,000-point batch with panel and
community, with the server's peak memory.

Two maps:
- ``sample``: the sample NFHL package (16 zones, panels, two communities, a LOMR, a CBRS unit,
  BFE lines and cross sections), in a bench database of its own;
- ``large``: the 51,000-zone bench map (`floodmanager_bench`) with a synthetic package layer
  set added once: a panel grid of 0.02° and a community grid of 0.1° over its extent.

Run (the private PostgreSQL running, see bench/README.md):

    .venv/bin/python bench/bench_determination.py [--duration 10] [--rounds 2] [--batch 100000]

wrk runs the two kinds of lookup alternately, ``--rounds`` times each; the ratio of each round
is printed, and the median round's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    PROJECT,
    VENV_BIN,
    bench_database_url,
    bench_map,
    floodmanager,
    parse_wrk,
    require_tool,
    timed_batch,
)

SAMPLE_DB = "floodmanager_bench_package"
SAMPLE_PACKAGE = PROJECT / "data" / "sample" / "manasquan_nfhl_package.zip"
LARGE_PANELS = "bench panel grid"


def sample_map() -> tuple[str, tuple[float, float, float, float]]:
    """The bench database with the sample package (imported on first use)."""
    url = bench_database_url(SAMPLE_DB)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        loaded = conn.scalar(sa.text("SELECT count(*) FROM firm_panels"))
    if not loaded:
        env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "geoapp"}
        subprocess.run([str(VENV_BIN / "flask"), "zones", "load-sample"], cwd=PROJECT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    with engine.connect() as conn:
        box = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(bbox) AS e FROM datasets WHERE status = 'ready') s")).one()
    engine.dispose()
    return url, tuple(float(v) for v in box)


def large_map() -> tuple[str, tuple[float, float, float, float]]:
    """The large bench map, with a panel and a community grid over it (added once)."""
    found = bench_map()
    engine = sa.create_engine(found.url)
    with engine.begin() as conn:
        dataset_id = conn.scalar(sa.text(
            "SELECT id FROM datasets WHERE status = 'ready' ORDER BY feature_count DESC LIMIT 1"))
        if not conn.scalar(sa.text("SELECT count(*) FROM firm_panels")):
            xmin, ymin, xmax, ymax = found.bbox
            for table, step, columns, values in (
                    ("firm_panels", 0.02, "firm_pan, panel, suffix, eff_date, panel_typ",
                     "'99001C' || lpad((row_number() OVER ())::text, 4, '0') || 'F', "
                     "lpad((row_number() OVER ())::text, 4, '0'), 'F', DATE '2020-01-01', "
                     "'Countywide, Panel Printed'"),
                    ("political_areas", 0.1, "cid, pol_name1",
                     "'99' || lpad((row_number() OVER ())::text, 4, '0'), "
                     "'BENCH COMMUNITY ' || row_number() OVER ()")):
                # The table, columns and values are the constants above, never input.
                conn.execute(sa.text(
                    f"INSERT INTO {table} (dataset_id, {columns}, geom) "  # noqa: S608
                    f"SELECT :d, {values}, ST_Multi(ST_MakeEnvelope(x, y, x + :s, y + :s, 4326)) "
                    "FROM generate_series(:x0, :x1, :s) x, generate_series(:y0, :y1, :s) y"),
                    {"d": dataset_id, "s": step, "x0": xmin, "x1": xmax, "y0": ymin, "y1": ymax})
            conn.execute(sa.text("ANALYZE firm_panels; ANALYZE political_areas"))
    engine.dispose()
    return found.url, found.bbox


def random_points(count: int, bbox, seed: int) -> list[tuple[float, float]]:
    """Reproducible random points in a box."""
    rng = random.Random(seed)
    xmin, ymin, xmax, ymax = bbox
    return [(round(rng.uniform(xmin, xmax), 6), round(rng.uniform(ymin, ymax), 6))
            for _ in range(count)]


def wrk_rate(wrk: str, base: str, paths: list[str], duration: int, clients: int) -> dict:
    """wrk over random paths of a list (bench/wrk_paths.lua)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(paths) + "\n")
    env = {**os.environ, "BENCH_PATHS": handle.name, "BENCH_PREFIX": ""}
    try:
        out = subprocess.run([wrk, "-t2", f"-c{clients}", f"-d{duration}s", "--latency",
                              "-s", str(PROJECT / "bench" / "wrk_paths.lua"), base],
                             capture_output=True, text=True, env=env, check=True).stdout
    finally:
        os.unlink(handle.name)
    return parse_wrk(out)


def single_lookups(url: str, bbox, duration: int, rounds: int, clients: int) -> dict:
    """Zone-only and full lookups of the same points, alternately, `rounds` times."""
    wrk = require_tool("wrk", "wrk")
    points = random_points(2000, bbox, seed=5)
    zones = [f"/api/lookup?lon={lon}&lat={lat}&detail=zones" for lon, lat in points]
    full = [f"/api/lookup?lon={lon}&lat={lat}" for lon, lat in points]
    runs = []
    with floodmanager(url) as (base, _process):
        for path in (zones[0], full[0]):  # warm both, and check they answer
            with urllib.request.urlopen(base + path, timeout=30) as response:
                json.load(response)
        for _ in range(rounds):
            only = wrk_rate(wrk, base, zones, duration, clients)
            whole = wrk_rate(wrk, base, full, duration, clients)
            runs.append({"zones": only, "full": whole, "slowdown": only["rate"] / whole["rate"]})
    runs.sort(key=lambda run: run["slowdown"])
    return {**runs[len(runs) // 2], "rounds": runs}


def batch(url: str, bbox, count: int) -> dict:
    """A compact batch of `count` points end to end over HTTP (panel and community in each
    row), and the server worker's peak memory."""
    points = random_points(count, bbox, seed=11)
    body = ("id,lon,lat\n" + "".join(f"{i},{lon},{lat}\n" for i, (lon, lat)
                                     in enumerate(points))).encode()
    result, elapsed, idle, peak = timed_batch(url, body, "text/csv")
    rows = result["results"]
    return {"points": count, "seconds": elapsed, "idle_mib": idle, "peak_mib": peak,
            "with_panel": sum(1 for row in rows if row["firm_pan"]),
            "with_community": sum(1 for row in rows if row["cid"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--maps", default="sample,large")
    args = parser.parse_args()
    print("single lookup: requests/s, zone-only (detail=zones) vs with the determination, "
          f"same points, {args.clients} connections, {args.duration} s per run")
    for name in args.maps.split(","):
        url, bbox = sample_map() if name == "sample" else large_map()
        single = single_lookups(url, bbox, args.duration, args.rounds, args.clients)
        for index, run in enumerate(single["rounds"], start=1):
            print(f"  {name:6} round {index}: zones {run['zones']['rate']:8.1f}/s "
                  f"(p50 {run['zones']['p50']:.2f} ms)  full {run['full']['rate']:8.1f}/s "
                  f"(p50 {run['full']['p50']:.2f} ms)  → {run['slowdown']:.2f}× slower "
                  f"(non-2xx {run['zones']['non_2xx'] + run['full']['non_2xx']})")
        print(f"  {name:6} median: {single['slowdown']:.2f}× (target ≤ 1.3×)")
        if args.batch:
            result = batch(url, bbox, args.batch)
            print(f"  {name:6} batch of {result['points']:,} points with panel and community: "
                  f"{result['seconds']:.2f} s (target < 10 s); worker memory "
                  f"{result['idle_mib']:.0f} → peak {result['peak_mib']:.0f} MiB; rows with a "
                  f"panel {result['with_panel']:,}, with a community "
                  f"{result['with_community']:,}")


if __name__ == "__main__":
    main()
