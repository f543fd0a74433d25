"""Lookup benchmarks, printed side by side in one run.

(a) one point lookup in SQL: through the subdivided pieces (what the app runs) vs the naive
    ST_Covers on the original polygons, over the same random points, answers compared;
(b) GET /api/lookup over HTTP as served (`flask serve`, Granian) with wrk (loopback, bounded
    duration), next to the rate of the same SQL measured with pgbench in the same run (the ceiling);
(c) a batch of 100,000 points end to end over HTTP, with the peak memory of the server.

    .venv/bin/python bench/bench_lookup.py [--zones 50000] [--duration 15]

Uses the private cluster (make db) or GEOAPP_TEST_DATABASE_URL's server, in a database of its
own (floodmanager_bench), generating the large dataset there on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (  # noqa: E402
    PROJECT,
    bench_database_url,
    dataset_extent,
    ensure_large_dataset,
    floodmanager,
    parse_wrk,
    percentiles,
    pg_tool,
    require_tool,
    timed_batch,
)
from generate_large import random_points  # noqa: E402

from geoapp.db.models import FloodZone  # noqa: E402
from geoapp.db.queries import lookup as lookup_sql  # noqa: E402
from geoapp.db.queries import scope as scope_sql  # noqa: E402
from geoapp.db.queries import shapes as shapes_sql  # noqa: E402
from geoapp.risk.lookup import DEFAULT_NEAREST_RADIUS_M  # noqa: E402


def literal_sql(statement: sa.Executable) -> str:
    """SQL text of a statement with its parameters inlined."""
    return str(statement.compile(dialect=postgresql.dialect(),
                                 compile_kwargs={"literal_binds": True}))


def naive_covering(lon: float, lat: float) -> sa.Select:
    """The textbook query: ST_Covers against the whole (huge) zone polygons."""
    return (
        sa.select(FloodZone.id)
        .join(FloodZone.dataset)
        .where(scope_sql.dataset_is_active(),
               sa.func.ST_Covers(FloodZone.geom, shapes_sql.point(lon, lat)))
    )


def subdivided_covering(lon: float, lat: float) -> sa.Select:
    """The app's query (zone ids only, so both sides fetch the same columns)."""
    return (
        sa.select(FloodZone.id)
        .join(FloodZone.dataset)
        .where(scope_sql.dataset_is_active(),
               FloodZone.id.in_(lookup_sql.zone_ids_covering(shapes_sql.point(lon, lat))))
    )


def time_queries(engine: sa.Engine, build, points) -> tuple[dict, dict, list[set[int]]]:
    """Per point: round-trip and in-server execution latency (ms) of a statement, its answer."""
    round_trip, executed, answers = [], [], []
    with engine.connect() as conn:
        for lon, lat in points:
            sql = literal_sql(build(lon, lat))
            start = time.perf_counter()
            ids = set(conn.scalars(sa.text(sql)))
            round_trip.append((time.perf_counter() - start) * 1000)
            answers.append(ids)
            plan = conn.scalar(sa.text("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql))
            executed.append(plan[0]["Execution Time"])
    return percentiles(round_trip), percentiles(executed), answers


def part_a(engine: sa.Engine, points) -> dict:
    """Subdivided vs naive SQL on the same points."""
    time_queries(engine, subdivided_covering, points[:50])  # warm the caches of both
    time_queries(engine, naive_covering, points[:50])
    fast_trip, fast_exec, fast_answers = time_queries(engine, subdivided_covering, points)
    slow_trip, slow_exec, slow_answers = time_queries(engine, naive_covering, points)
    mismatches = sum(a != b for a, b in zip(fast_answers, slow_answers, strict=True))
    return {"subdivided": (fast_exec, fast_trip), "naive": (slow_exec, slow_trip),
            "mismatches": mismatches, "points": len(points)}


def points_in_large_zones(engine: sa.Engine, count: int) -> list[tuple[float, float]]:
    """Random points inside the zones of more than 50,000 vertices (reproducible)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "WITH big AS (SELECT geom, row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS k"
            "             FROM flood_zones WHERE ST_NPoints(geom) > 50000) "
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM big, "
            "LATERAL ST_Dump(ST_GeneratePoints(big.geom, CEIL(CAST(:count AS float) / big.k)::int, "
            "big.n::int)) AS p LIMIT :count"), {"count": count}).all()
    return [(float(x), float(y)) for x, y in rows]


def pgbench_script(bbox) -> str:
    """The SQL /api/lookup runs, as a pgbench script with random points in the region."""
    xmin, ymin, xmax, ymax = bbox
    # Placeholder coordinates with distinctive digits, swapped for pgbench variables; the
    # latitude-dependent constants come out for the region's poleward edge (the widest band).
    lon_mark = round(xmin, 2) + 0.00012345
    lat_mark = round(max(abs(ymin), abs(ymax)), 2) + 0.00012345
    # The search box around the mark; its edges become offsets from the random point.
    box = lookup_sql.search_boxes(lon_mark, lat_mark, DEFAULT_NEAREST_RADIUS_M)[0]
    # One statement, as the app sends it: covering zones and, outside the SFHA, the nearest.
    report = literal_sql(lookup_sql.point_report(scope_sql.ACTIVE).params(
        lookup_sql.nearest_high_risk_params(lon_mark, lat_mark, DEFAULT_NEAREST_RADIUS_M, box)))
    edges = {"box_xmin": (box.xmin, ":lon"), "box_xmax": (box.xmax, ":lon"),
             "box_ymin": (box.ymin, ":lat"), "box_ymax": (box.ymax, ":lat")}

    def bind(sql: str) -> str:
        for name, (value, _) in edges.items():
            sql = sql.replace(repr(value), f":{name}")
        return sql.replace(repr(lon_mark), ":lon").replace(repr(lat_mark), ":lat")

    return "\n".join([
        f"\\set lon {xmin} + random(0, 1000000) * {(xmax - xmin) / 1e6}",
        f"\\set lat {ymin} + random(0, 1000000) * {(ymax - ymin) / 1e6}",
        *[f"\\set {name} {origin} + {value - (lon_mark if origin == ':lon' else lat_mark)}"
          for name, (value, origin) in edges.items()],
        bind(report).replace("\n", " ") + ";",
    ]) + "\n"


def run_pgbench(url: sa.URL, script: str, clients: int, duration: int,
                mode: str = "simple", generic_plan: bool = False) -> dict:
    """pgbench's transaction rate and latency percentiles for a script; ``mode`` is its query
    protocol (-M): ``simple`` sends each statement as text, ``prepared`` prepares it once per
    client with the script's variables as parameters, as the app does; ``generic_plan``
    plans prepared statements once (plan_cache_mode), as the app does for the lookup."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lookup.sql"
        path.write_text(script)
        command = [pg_tool("pgbench"), "-n", "-M", mode, "-f", str(path), "-c", str(clients),
                   "-j", "2",
                   "-T", str(duration), "-l", "--log-prefix", f"{tmp}/log",
                   "-h", url.host, "-p", str(url.port), "-U", url.username, url.database]
        env = {**os.environ, "PGOPTIONS": "-c plan_cache_mode=force_generic_plan"
               if generic_plan else ""}
        out = subprocess.run(command, capture_output=True, text=True, check=True,
                             env=env).stdout
        rate = float(re.search(r"tps = ([\d.]+) \(without initial", out).group(1))
        latencies = []
        for log in Path(tmp).glob("log*"):
            latencies += [int(line.split()[2]) / 1000 for line in log.read_text().splitlines()]
    return {"rate": rate, **percentiles(latencies)}


def part_b(url: str, bbox, clients: int, duration: int, rounds: int) -> dict:
    """HTTP as served (wrk) vs the same SQL (pgbench, prepared as the app prepares it, and
    as text), alternating, ``rounds`` times each.

    This machine's speed drifts by a quarter from one minute to the next (it is shared), so
    one run of each would compare two different machines; the ratio is taken in every round
    (an HTTP run and the pgbench runs right after it) and the median round is reported."""
    wrk = require_tool("wrk", "wrk")
    env = {**os.environ, **{f"BENCH_{k}": str(v) for k, v in zip(
        ("XMIN", "YMIN", "XMAX", "YMAX"), bbox, strict=True)}}
    runs = []
    with floodmanager(url) as (base, _process):
        command = [wrk, "-t2", f"-c{clients}", f"-d{duration}s", "--latency",
                   "-s", str(PROJECT / "bench" / "wrk_lookup.lua"), base]
        for _ in range(rounds):
            http = parse_wrk(subprocess.run(command, capture_output=True, text=True, env=env,
                                            check=True).stdout)
            script = pgbench_script(bbox)
            sql = run_pgbench(sa.engine.make_url(url), script, clients, duration, "prepared",
                              generic_plan=True)
            text = run_pgbench(sa.engine.make_url(url), script, clients, duration, "simple")
            runs.append({"http": http, "sql": sql, "text": text,
                         "ratio": http["rate"] / sql["rate"]})
    runs.sort(key=lambda run: run["ratio"])
    return {**runs[len(runs) // 2], "rounds": runs}


def part_c(url: str, bbox, count: int) -> dict:
    """A batch of `count` points end to end over HTTP, and the server's peak memory."""
    points = random_points(count, seed=11, bbox=bbox)
    body = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": i, "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {}} for i, (lon, lat) in enumerate(points)]}).encode()
    result, elapsed, idle, peak = timed_batch(url, body, "application/geo+json")
    statuses: dict[str, int] = {}
    for row in result["results"]:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return {"points": count, "seconds": elapsed, "idle_mib": idle, "peak_mib": peak,
            "body_mib": len(body) / 2**20, "statuses": statuses}


def main() -> None:
    """Run the three parts and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zones", type=int, default=50000)
    parser.add_argument("--points", type=int, default=1000, help="points for part (a)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per load run (b)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (b)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="HTTP and pgbench runs of (b), alternating; the median is shown")
    parser.add_argument("--batch", type=int, default=100000, help="points in the batch (c)")
    parser.add_argument("--parts", default="abc", help="which parts to run, e.g. 'b' or 'bc'")
    args = parser.parse_args()

    url = bench_database_url()
    dataset_id = ensure_large_dataset(url, args.zones)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stats = conn.execute(sa.text(
            "SELECT count(*), max(ST_NPoints(geom)), "
            "sum(ST_NumInteriorRings(ST_GeometryN(geom, 1))),"
            " (SELECT count(*) FROM flood_zone_pieces) FROM flood_zones")).one()
        bbox = dataset_extent(conn, dataset_id)
    print(f"dataset: {stats[0]} zones, {stats[3]} pieces, largest zone {stats[1]} vertices, "
          f"{stats[2]} holes; region {bbox}")

    point_sets = {
        "random points in the region": random_points(args.points, seed=7, bbox=bbox),
        "points inside zones of > 50,000 vertices": points_in_large_zones(engine, args.points),
    }
    for label, points in point_sets.items() if "a" in args.parts else ():
        a = part_a(engine, points)
        print(f"\n(a) one point lookup in SQL, {a['points']} {label}; answers differing: "
              f"{a['mismatches']}")
        print(f"{'':14}{'execution in PostgreSQL (ms)':>32}{'round trip from Python (ms)':>32}")
        print(f"{'':14}" + f"{'p50':>10}{'p99':>11}{'mean':>11}" * 2)
        for name in ("subdivided", "naive"):
            row = "".join(f"{f['p50']:>10.3f}{f['p99']:>11.3f}{f['mean']:>11.3f}"
                          for f in a[name])
            print(f"{name:14}{row}")
        print(f"speed-up (mean): {a['naive'][0]['mean'] / a['subdivided'][0]['mean']:.1f}x in "
              f"the server, {a['naive'][1]['mean'] / a['subdivided'][1]['mean']:.1f}x round trip")
    engine.dispose()

    if "b" in args.parts:
        print_part_b(part_b(url, bbox, args.clients, args.duration, args.rounds), args)
    if "c" in args.parts:
        print_part_c(part_c(url, bbox, args.batch))


def print_part_b(b: dict, args: argparse.Namespace) -> None:
    """The figures of part (b)."""
    print(f"\n(b) /api/lookup under Granian (2 workers x 4 threads), {args.clients} clients, "
          f"{args.duration}s each, {args.rounds} rounds of HTTP then SQL (pgbench -M prepared, "
          "then -M simple); the median round:")
    print(f"{'':22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'HTTP (wrk)':22}{b['http']['rate']:>10.0f}{b['http']['p50']:>10.2f}"
          f"{b['http']['p99']:>10.2f}")
    for label, key in (("same SQL, prepared", "sql"), ("same SQL as text", "text")):
        # prepared: -M prepared with one generic plan, as the app runs it
        print(f"{label:22}{b[key]['rate']:>10.0f}{b[key]['p50']:>10.2f}{b[key]['p99']:>10.2f}")
    print(f"HTTP / prepared SQL: {b['ratio']:.0%}, HTTP / SQL as text: "
          f"{b['http']['rate'] / b['text']['rate']:.0%}  (non-2xx: {b['http']['non_2xx']}); "
          "every round (HTTP/prepared/text): "
          + ", ".join(f"{run['http']['rate']:.0f}/{run['sql']['rate']:.0f}/"
                      f"{run['text']['rate']:.0f} = {run['ratio']:.0%}" for run in b["rounds"]))


def print_part_c(c: dict) -> None:
    """The figures of part (c)."""
    print(f"\n(c) batch of {c['points']} points over HTTP ({c['body_mib']:.1f} MiB of GeoJSON): "
          f"{c['seconds']:.2f} s, server worker peak RSS {c['peak_mib']:.0f} MiB "
          f"(idle {c['idle_mib']:.0f} MiB); statuses {c['statuses']}")


if __name__ == "__main__":
    main()
