"""Vector tile benchmark on the large dataset: latency and size per zoom, cold and warm; and
the map page's weight next to the same map made the naive way (zones embedded as GeoJSON).

    .venv/bin/python bench/bench_tiles.py [--tiles 40] [--naive-zones 60000] [--naive-runs 2]

Cold: the first request of each tile to a fresh server (nothing cached). Warm: the same tiles
again (served from the per-process tile cache). Requests are sequential, on loopback.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

import folium
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (  # noqa: E402
    PROJECT,
    bench_database_url,
    dataset_extent,
    ensure_large_dataset,
    gunicorn,
    percentiles,
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
TILES = "/api/collections/flood_zones/tiles/WebMercatorQuad"


def sample_tiles(bbox, z: int, count: int, seed: int) -> list[tuple[int, int]]:
    """Distinct tiles of a zoom level covering random points of the region."""
    rng = random.Random(seed)
    found: set[tuple[int, int]] = set()
    for _ in range(count * 20):
        found.add(tile_containing(rng.uniform(bbox[0], bbox[2]), rng.uniform(bbox[1], bbox[3]), z))
        if len(found) >= count:
            break
    return sorted(found)


def fetch(url: str) -> tuple[float, int]:
    """Milliseconds and bytes of one GET (204 counts as 0 bytes)."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            size = len(response.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{url}: HTTP {exc.code}") from None
    return (time.perf_counter() - start) * 1000, size


def naive_page(url: str, limit: int, vendor_base: str) -> tuple[int, str]:
    """A Folium map embedding `limit` zones as GeoJSON (the naive way), as HTML text."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT ST_AsGeoJSON(geom, 6), fld_zone FROM flood_zones ORDER BY id LIMIT :n"),
            {"n": limit}).all()
    engine.dispose()
    fmap = folium.Map(location=[30.8, -88.5], zoom_start=9, tiles=None)
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


def main() -> None:
    """Print tile latency and size per zoom, then the page weights."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zones", type=int, default=50000)
    parser.add_argument("--tiles", type=int, default=40, help="tiles per zoom level")
    parser.add_argument("--naive-zones", type=int, default=60000,
                        help="zones embedded in the naive page (default: all of them)")
    parser.add_argument("--naive-runs", type=int, default=2)
    args = parser.parse_args()
    url = bench_database_url()
    dataset_id = ensure_large_dataset(url, args.zones)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        bbox = dataset_extent(conn, dataset_id)
        zones = conn.scalar(sa.text("SELECT count(*) FROM flood_zones"))
    engine.dispose()
    rows = []
    with gunicorn(url, workers=1, threads=1) as (base, _process):
        for z in ZOOMS:
            tiles = sample_tiles(bbox, z, args.tiles, seed=z)
            cold = [fetch(f"{base}{TILES}/{z}/{y}/{x}") for x, y in tiles]
            warm = [fetch(f"{base}{TILES}/{z}/{y}/{x}") for x, y in tiles]
            sizes = [size for _, size in cold]
            rows.append((z, len(tiles), percentiles([ms for ms, _ in cold]),
                         percentiles([ms for ms, _ in warm]), statistics.fmean(sizes),
                         max(sizes)))
    # The page as a visitor gets it: the usual server (2 workers x 4 threads), cold then warm.
    with gunicorn(url, workers=2, threads=4) as (base, _process):
        page_ms, page_bytes = fetch(f"{base}/")
        ours_cold = time_to_map(f"{base}/", OURS_DRAWN)
        ours = time_to_map(f"{base}/", OURS_DRAWN, runs=5)
        naive_count, naive_html = naive_page(url, args.naive_zones, base)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "naive.html").write_text(naive_html)
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=tmp)
            with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as static:
                threading.Thread(target=static.serve_forever, daemon=True).start()
                naive = time_to_map(f"http://127.0.0.1:{static.server_port}/naive.html",
                                    NAIVE_DRAWN, runs=args.naive_runs)
                static.shutdown()
    print(f"\n{zones} zones; tiles requested one at a time from 1 gunicorn worker")
    print(f"{'zoom':>5}{'tiles':>7}{'cold p50':>10}{'cold p99':>10}{'warm p50':>10}"
          f"{'warm p99':>10}{'mean KB':>9}{'max KB':>8}")
    for z, count, cold, warm, mean_size, max_size in rows:
        print(f"{z:>5}{count:>7}{cold['p50']:>10.1f}{cold['p99']:>10.1f}{warm['p50']:>10.2f}"
              f"{warm['p99']:>10.2f}{mean_size / 1024:>9.1f}{max_size / 1024:>8.1f}")
    naive_bytes = len(naive_html.encode())
    print("\nmap page in headless Chromium, seconds from navigation until the map answers "
          "input / until zones are drawn (median):")
    print(f"  ours, vector tiles, all {zones} zones: {page_bytes / 1024:.1f} KB of HTML; "
          f"cold tiles {ours_cold[0]:.2f} / {ours_cold[1]:.2f} s; "
          f"warm tiles {ours[0]:.2f} / {ours[1]:.2f} s")
    print(f"  naive Folium GeoJSON, {naive_count} zones: {naive_bytes / 2**20:.1f} MiB of HTML; "
          f"{naive[0]:.2f} / {naive[1]:.2f} s")
    print(f"  naive / ours: {naive[0] / ours[0]:.0f}x until it answers input, "
          f"{naive[1] / ours[1]:.1f}x until zones are drawn (warm), "
          f"{naive[1] / ours_cold[1]:.1f}x (cold)")


if __name__ == "__main__":
    main()
