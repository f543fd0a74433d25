"""Vector tile benchmark: FloodManager (with and without its per-process tile cache) beside
tipg on the same table and the same tiles; and the map page's weight next to the same map made
the naive way (zones embedded as GeoJSON).

    .venv/bin/python bench/bench_tiles.py [--tiles 40] [--zooms 6,10,14] [--duration 10]
        [--warmup 3] [--clients 16] [--database floodmanager_bench_cli]
        [--only FloodManager,FloodManager-nocache,tipg] [--skip-naive | --skip-page]
        [--naive-zones 60000] [--naive-runs 2]

Per zoom level (6, 10 and 14 unless --zooms says otherwise), the same tiles (those holding
random points of the region) are asked of every server:

- throughput: wrk with 16 connections, each request a random pick among the zoom's tiles, on
  the usual server (FloodManager: `flask serve`, Granian, 2 workers x 4 threads; tipg under
  uvicorn with 2 workers), after a warm-up run of the same kind that is not counted: every
  FloodManager worker has the tiles in its cache by then, and the database's buffers hold what
  each server reads. After each wrk run the requests it left in flight are let finish in the
  database first;
- latency: each tile requested one at a time from a fresh single-worker server, twice. Cold is
  the first request (nothing in the process's cache), warm the second (FloodManager: from its
  tile cache). FloodManager without its cache (GEOAPP_TILE_CACHE_MB=0) and tipg make every
  tile on every request, so their two passes differ only by chance (except that a 0 MB cache
  still keeps empty tiles, which take no bytes). The throughput runs come first, so the
  database is warm for the cold pass of every server.
- every answer of the cold pass is checked: errors (not 200/204), empty tiles (204, or 200
  with no bytes as tipg answers), tiles empty on a server where FloodManager has features, and
  the features per tile (counted in the MVT's layers).

tipg 1.6.1 (installed into var/bench/tipg-venv, as for bench_features.py) publishes only the
flood_zones table and is asked for the properties FloodManager's tiles carry, from its `geom`
column (the table also has a stored overview geometry, which FloodManager draws up to zoom 9);
its cap of features per tile is raised from 10,000 so that no tile is cut short.

``--database`` picks the map, as for bench_features.py: the default bench database with the
large synthetic dataset, or one that already holds zones (``floodmanager_bench_cli``, made by
bench/generate_gpkg.py). The map page part (headless Chromium) comes last; ``--skip-naive``
leaves out the naive Folium page (building it takes minutes), ``--skip-page`` the whole part.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import http.server
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import folium
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_features import (  # noqa: E402
    FEW_REQUESTS,
    TIPG_COLLECTION,
    TIPG_VERSION,
    choose,
    run_wrk,
    tipg_server,
)
from common import (  # noqa: E402
    PROJECT,
    add_map_arguments,
    bench_map,
    floodmanager,
    percentiles,
    wait_idle,
)

from geoapp.ogc.tiles import tile_containing  # noqa: E402
from geoapp.web.assets import FOLIUM_CSS, FOLIUM_JS  # noqa: E402

ZOOMS = (6, 10, 14)
OURS_DRAWN = """() => Array.from(document.querySelectorAll('.leaflet-tile-pane canvas')).some(c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; } return false; })"""
NAIVE_DRAWN = "() => document.querySelectorAll('path.leaflet-interactive').length > 0"
# The map answers input: its Leaflet map has a view and the page's main thread is free to run
# this check (Playwright's evaluation waits for it, as a user's click would).
MAP_READY = """() => Object.keys(window).some(k => /^map_[0-9a-f]+$/.test(k) && window[k]
    && window[k]._loaded)"""
# The properties of FloodManager's tiles, by their table columns (the dataset's name, which it
# joins in, is not a column of the table tipg publishes).
TIPG_TILE_QUERY = ("properties=fld_zone,zone_subty,risk_status,static_bfe,len_unit,depth,"
                   "dataset_id&geom-column=geom")
# tipg cuts a tile at 10,000 features by default; FloodManager's tiles hold every zone.
TIPG_TILE_ENV = {"TIPG_MAX_FEATURES_PER_TILE": "1000000"}
SERVER_KEYS = ("FloodManager", "FloodManager-nocache", "tipg")


@dataclasses.dataclass(frozen=True)
class Server:
    """One tile server of the comparison and how its tile paths are spelt."""

    name: str  # as printed
    start: Callable[[int, int], contextlib.AbstractContextManager]  # (workers, threads)
    path: Callable[[int, int, int], str]  # (z, x, y) -> path under the base URL


def make_servers(url: str, only: list[str]) -> dict[str, Server]:
    """The tile servers to run, by key, in the order of SERVER_KEYS."""
    db_url = sa.engine.make_url(url)
    ours = "/api/collections/flood_zones/tiles/WebMercatorQuad"

    def ours_path(z: int, x: int, y: int) -> str:
        return f"{ours}/{z}/{y}/{x}"  # TileMatrix/TileRow/TileCol

    def tipg_path(z: int, x: int, y: int) -> str:
        return (f"/collections/{TIPG_COLLECTION}/tiles/WebMercatorQuad/{z}/{x}/{y}"
                f"?{TIPG_TILE_QUERY}")

    every = {
        "FloodManager": Server("FloodManager", lambda w, t: floodmanager(url, w, t), ours_path),
        "FloodManager-nocache": Server(
            "FloodManager, no cache",
            lambda w, t: floodmanager(url, w, t, env={"GEOAPP_TILE_CACHE_MB": "0"}), ours_path),
        "tipg": Server(f"tipg {TIPG_VERSION}",
                       lambda w, t: tipg_server(db_url, w, t, env=TIPG_TILE_ENV), tipg_path),
    }
    return {key: every[key] for key in only}


def sample_tiles(bbox, z: int, count: int, seed: int) -> list[tuple[int, int]]:
    """Distinct tiles of a zoom level covering random points of the region."""
    rng = random.Random(seed)
    found: set[tuple[int, int]] = set()
    for _ in range(count * 20):
        found.add(tile_containing(rng.uniform(bbox[0], bbox[2]), rng.uniform(bbox[1], bbox[3]), z))
        if len(found) >= count:
            break
    return sorted(found)


@dataclasses.dataclass(frozen=True)
class Answer:
    """One tile request: milliseconds, HTTP status, bytes and features (-1: not a tile)."""

    ms: float
    status: int
    size: int
    features: int

    @property
    def empty(self) -> bool:
        return self.status == 204 or (self.status == 200 and self.size == 0)

    @property
    def error(self) -> bool:
        return self.status not in (200, 204)


def fetch(url: str) -> Answer:
    """One GET of a tile, timed until its last byte (an HTTP error is an answer too)."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=300) as response:
            status, data = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, data = exc.code, exc.read()
    ms = (time.perf_counter() - start) * 1000
    try:
        features = mvt_features(data) if status == 200 else 0
    except (IndexError, ValueError):
        features = -1
    return Answer(ms, status, len(data), features)


def mvt_features(data: bytes) -> int:
    """How many features a Mapbox Vector Tile holds, in all its layers (read from the
    protobuf: a Tile's field 3 is a layer, a Layer's field 2 a feature)."""

    def fields(buffer: memoryview):
        index = 0
        while index < len(buffer):
            key, index = varint(buffer, index)
            number, wire = key >> 3, key & 7
            if wire == 0:
                _, index = varint(buffer, index)
                yield number, None
            elif wire == 2:
                length, index = varint(buffer, index)
                yield number, buffer[index:index + length]
                index += length
            elif wire in (1, 5):
                index += 8 if wire == 1 else 4
                yield number, None
            else:
                raise ValueError(f"protobuf wire type {wire}")

    def varint(buffer: memoryview, index: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = buffer[index]
            index += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value, index
            shift += 7

    return sum(1 for number, layer in fields(memoryview(data)) if number == 3
               for field, _ in fields(layer) if field == 2)


def naive_page(url: str, limit: int, vendor_base: str, center: tuple[float, float]
               ) -> tuple[int, str]:
    """A Folium map embedding `limit` zones as GeoJSON (the naive way), as HTML text, opening
    on `center` (lat, lon)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT ST_AsGeoJSON(geom, 6), fld_zone FROM flood_zones ORDER BY id LIMIT :n"),
            {"n": limit}).all()
    engine.dispose()
    fmap = folium.Map(location=list(center), zoom_start=9, tiles=None)
    # The same local Leaflet as ours (no CDN here), from the running app.
    fmap.default_js = [(n, f"{vendor_base}/vendor/{p}") for n, p in FOLIUM_JS]
    fmap.default_css = [(n, f"{vendor_base}/vendor/{p}") for n, p in FOLIUM_CSS]
    folium.GeoJson({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(g), "properties": {"zone": z}}
        for g, z in rows]}).add_to(fmap)
    return len(rows), fmap.get_root().render()


def time_to_map(page_url: str, drawn_js: str, runs: int = 1, timeout_s: float = 300
                ) -> tuple[float, float]:
    """Median seconds from navigation until the map answers input, and until zones are drawn,
    in headless Chromium (a fresh browser context, so no HTTP cache, for every run)."""
    from playwright.sync_api import sync_playwright

    chromium = subprocess.run(["bash", str(PROJECT / "scripts" / "browser.sh")],
                              capture_output=True, text=True, check=True).stdout.strip()
    ready, drawn = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            start = time.perf_counter()
            page.goto(page_url, timeout=timeout_s * 1000, wait_until="commit")
            page.wait_for_function(MAP_READY, timeout=timeout_s * 1000, polling=50)
            ready.append(time.perf_counter() - start)
            page.wait_for_function(drawn_js, timeout=timeout_s * 1000, polling=50)
            drawn.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return statistics.median(ready), statistics.median(drawn)


def measure(servers: dict[str, Server], tiles: dict[int, list[tuple[int, int]]], args,
            workdir: Path, url: str) -> tuple[dict, dict]:
    """wrk throughput per server and zoom (after a warm-up run), then the sequential cold and
    warm passes on a fresh single-worker server: ({key: {z: wrk}}, {key: {z: (cold, warm)}}).

    After every wrk run, the requests it left in flight are let finish in the database."""
    throughput: dict[str, dict[int, dict]] = {}
    passes: dict[str, dict[int, tuple[list[Answer], list[Answer]]]] = {}
    for key, server in servers.items():
        with server.start(args.workers, args.threads) as (base, process):
            for z, zoom_tiles in tiles.items():
                paths = [server.path(z, x, y) for x, y in zoom_tiles]
                run_wrk(base, "", paths, args.clients, args.warmup, workdir)
                wait_idle(process, url)
                throughput.setdefault(key, {})[z] = run_wrk(base, "", paths, args.clients,
                                                            args.duration, workdir)
                wait_idle(process, url)
        with server.start(1, 1) as (base, _process):
            for z, zoom_tiles in tiles.items():
                urls = [base + server.path(z, x, y) for x, y in zoom_tiles]
                cold = [fetch(url) for url in urls]
                warm = [fetch(url) for url in urls]
                passes.setdefault(key, {})[z] = (cold, warm)
    return throughput, passes


def print_tiles(servers: dict[str, Server], tiles: dict, throughput: dict, passes: dict,
                args, zones: int) -> None:
    """The side-by-side table, and what the check of every tile found."""
    keys = list(servers)
    reference = next((k for k in ("FloodManager", "FloodManager-nocache") if k in keys), None)
    print(f"\n{zones} zones; the same tiles for every server; throughput: wrk {args.clients} "
          f"connections, {args.duration} s per run after a {args.warmup} s warm-up "
          f"(Granian {args.workers} workers x {args.threads} threads, tipg uvicorn "
          f"{args.workers} workers); latency: one tile at a time from 1 worker, ms")
    ratio_head = f"{'vs tipg':>8}{'tipg/cold':>10}" if "tipg" in keys else ""
    if ratio_head:
        print("(vs tipg: req/s over tipg's; tipg/cold: tipg's cold p50 over this server's; "
              "above 1x is faster than tipg)")
    print(f"{'zoom':>4} {'server':24}{'tiles':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{ratio_head}{'cold p50':>9}{'cold p99':>9}{'warm p50':>9}{'warm p99':>9}"
          f"{'mean KB':>8}{'max KB':>8}{'feat/tile':>10}{'empty':>6}{'errors':>7}")
    findings: list[str] = []
    notes: list[str] = []
    for z, zoom_tiles in tiles.items():
        for key in keys:
            rate = throughput[key][z]
            cold, warm = passes[key][z]
            c = percentiles([a.ms for a in cold])
            w = percentiles([a.ms for a in warm])
            sizes = [a.size for a in cold]
            ratio = ""
            if "tipg" in keys:
                t_rate = throughput["tipg"][z]["rate"]
                t_cold = percentiles([a.ms for a in passes["tipg"][z][0]])["p50"]
                ratio = (f"{rate['rate'] / t_rate:>7.1f}x" if t_rate > 0 else f"{'-':>8}")
                ratio += f"{t_cold / max(c['p50'], 1e-9):>9.1f}x"
            errors = sum(a.error for a in cold) + rate["non_2xx"] + rate["socket_errors"]
            print(f"{z:>4} {servers[key].name:24}{len(zoom_tiles):>6}{rate['rate']:>9.1f}"
                  f"{rate['p50']:>9.1f}{rate['p99']:>9.1f}{ratio}{c['p50']:>9.1f}"
                  f"{c['p99']:>9.1f}{w['p50']:>9.2f}{w['p99']:>9.2f}"
                  f"{statistics.fmean(sizes) / 1024:>8.1f}{max(sizes) / 1024:>8.1f}"
                  f"{statistics.fmean(max(a.features, 0) for a in cold):>10.1f}"
                  f"{sum(a.empty for a in cold):>6}{errors:>7}")
            answered = list(zip(zoom_tiles, cold, strict=True))
            bad = [f"{z}/{x}/{y}: HTTP {a.status}" for (x, y), a in answered if a.error]
            if rate["requests"] < FEW_REQUESTS:
                notes.append(f"  {servers[key].name}, zoom {z}: only {rate['requests']} requests "
                             "completed in the wrk run: use a longer --duration")
            if rate["non_2xx"] or rate["socket_errors"]:
                bad.append(f"wrk: {rate['non_2xx']} non-2xx, {rate['socket_errors']} socket "
                           f"errors ({rate['timeouts']} timeouts)")
            if reference and key != reference:
                ref_cold = passes[reference][z][0]
                missing = [f"{z}/{x}/{y}" for ((x, y), a), r
                           in zip(answered, ref_cold, strict=True) if a.empty and not r.empty]
                if missing:
                    bad.append(f"{len(missing)} tile(s) empty where {servers[reference].name} has "
                               f"features: {', '.join(missing[:5])}")
                extra = [f"{z}/{x}/{y}" for ((x, y), a), r
                         in zip(answered, ref_cold, strict=True) if r.empty and not a.empty]
                if extra:
                    notes.append(f"  {len(extra)} tile(s) at zoom {z} hold features on "
                                 f"{servers[key].name} but are empty on "
                                 f"{servers[reference].name}: {', '.join(extra[:5])}")
            if bad:
                findings.append(f"  {servers[key].name}: " + "; ".join(bad[:6]))
    print("check of every answer (z/x/y): " + ("no errors, no tile empty on a server where "
          "FloodManager has features" if not findings else "PROBLEMS"))
    print("\n".join(findings + notes))


def print_page(bench, url: str, args) -> None:
    """Time the map page in headless Chromium; the naive Folium page too unless skipped."""
    # The page as a visitor gets it: the usual server (2 workers x 4 threads), cold then warm.
    with floodmanager(url, workers=2, threads=4) as (base, _process):
        page = fetch(f"{base}/")
        ours_cold = time_to_map(f"{base}/", OURS_DRAWN)
        ours = time_to_map(f"{base}/", OURS_DRAWN, runs=5)
        if not args.skip_naive:
            xmin, ymin, xmax, ymax = bench.bbox
            naive_count, naive_html = naive_page(url, args.naive_zones, base,
                                                 ((ymin + ymax) / 2, (xmin + xmax) / 2))
            with tempfile.TemporaryDirectory() as tmp:
                (Path(tmp) / "naive.html").write_text(naive_html)
                handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=tmp)
                with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as static:
                    threading.Thread(target=static.serve_forever, daemon=True).start()
                    naive = time_to_map(f"http://127.0.0.1:{static.server_port}/naive.html",
                                        NAIVE_DRAWN, runs=args.naive_runs)
                    static.shutdown()
    print("\nmap page in headless Chromium, seconds from navigation until the map answers "
          "input / until zones are drawn (median):")
    print(f"  ours, vector tiles, all {bench.zones} zones: {page.size / 1024:.1f} KB of HTML; "
          f"cold tiles {ours_cold[0]:.2f} / {ours_cold[1]:.2f} s; "
          f"warm tiles {ours[0]:.2f} / {ours[1]:.2f} s")
    if args.skip_naive:
        print("  naive Folium GeoJSON page: skipped (--skip-naive)")
        return
    naive_bytes = len(naive_html.encode())
    print(f"  naive Folium GeoJSON, {naive_count} zones: {naive_bytes / 2**20:.1f} MiB of HTML; "
          f"{naive[0]:.2f} / {naive[1]:.2f} s")
    print(f"  naive / ours: {naive[0] / ours[0]:.0f}x until it answers input, "
          f"{naive[1] / ours[1]:.1f}x until zones are drawn (warm), "
          f"{naive[1] / ours_cold[1]:.1f}x (cold)")


def main() -> None:
    """Print tile throughput, latency and size per zoom and server, then the page weights."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_map_arguments(parser)
    parser.add_argument("--tiles", type=int, default=40, help="tiles per zoom level")
    parser.add_argument("--zooms", default=",".join(map(str, ZOOMS)),
                        help="comma list of zoom levels")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=3,
                        help="seconds of the uncounted wrk run before each measured one")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--only", help=f"comma list of servers among {','.join(SERVER_KEYS)}")
    parser.add_argument("--naive-zones", type=int, default=60000,
                        help="zones embedded in the naive page (default: all of them)")
    parser.add_argument("--naive-runs", type=int, default=2)
    parser.add_argument("--skip-naive", action="store_true",
                        help="leave out the naive Folium page (building it takes minutes)")
    parser.add_argument("--skip-page", action="store_true",
                        help="leave out the map page in Chromium altogether")
    args = parser.parse_args()
    only = choose(args.only, SERVER_KEYS, "--only")
    zooms = [int(z) for z in args.zooms.split(",") if z.strip()]
    bench = bench_map(args.database, args.zones)
    if bench.table_rows != bench.zones:
        print(f"note: the table holds {bench.table_rows} zones, {bench.zones} of them in ready "
              "datasets: tipg draws them all, FloodManager only the latter")
    tiles = {z: sample_tiles(bench.bbox, z, args.tiles, seed=z) for z in zooms}
    servers = make_servers(bench.url, only)
    with tempfile.TemporaryDirectory() as tmp:
        throughput, passes = measure(servers, tiles, args, Path(tmp), bench.url)
    print_tiles(servers, tiles, throughput, passes, args, bench.zones)
    if not args.skip_page:
        print_page(bench, bench.url, args)


if __name__ == "__main__":
    main()
