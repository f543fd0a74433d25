"""Vector tile benchmark on the large dataset: latency and size per zoom, cold and warm; and
the map page's weight next to the same map made the naive way (zones embedded as GeoJSON).

    .venv/bin/python bench/bench_tiles.py [--tiles 40] [--naive-zones 5000]

Cold: the first request of each tile to a fresh server (nothing cached). Warm: the same tiles
again (served from the per-process tile cache). Requests are sequential, on loopback.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import folium
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_database_url, ensure_large_dataset, gunicorn, percentiles  # noqa: E402

ZOOMS = (6, 10, 14)
TILES = "/api/collections/flood_zones/tiles/WebMercatorQuad"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The WebMercatorQuad column and row of a point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def sample_tiles(bbox, z: int, count: int, seed: int) -> list[tuple[int, int]]:
    """Distinct tiles of a zoom level covering random points of the region."""
    rng = random.Random(seed)
    found: set[tuple[int, int]] = set()
    for _ in range(count * 20):
        found.add(tile_of(rng.uniform(bbox[0], bbox[2]), rng.uniform(bbox[1], bbox[3]), z))
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


def naive_page_bytes(url: str, limit: int) -> tuple[int, int]:
    """HTML size of a Folium map embedding `limit` zones as GeoJSON (the naive way)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT ST_AsGeoJSON(geom, 6), fld_zone FROM flood_zones ORDER BY id LIMIT :n"),
            {"n": limit}).all()
    engine.dispose()
    fmap = folium.Map(location=[30.8, -88.5], zoom_start=9)
    folium.GeoJson({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": __import__("json").loads(g), "properties": {"zone": z}}
        for g, z in rows]}).add_to(fmap)
    return len(rows), len(fmap.get_root().render().encode())


def main() -> None:
    """Print tile latency and size per zoom, then the page weights."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zones", type=int, default=50000)
    parser.add_argument("--tiles", type=int, default=40, help="tiles per zoom level")
    parser.add_argument("--naive-zones", type=int, default=5000)
    args = parser.parse_args()
    url = bench_database_url()
    dataset_id = ensure_large_dataset(url, args.zones)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        bbox = tuple(float(v) for v in conn.execute(sa.text(
            "SELECT ST_XMin(bbox), ST_YMin(bbox), ST_XMax(bbox), ST_YMax(bbox) FROM datasets "
            "WHERE id = :id"), {"id": dataset_id}).one())
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
        page_ms, page_bytes = fetch(f"{base}/")
    print(f"\n{zones} zones; tiles requested one at a time from 1 gunicorn worker")
    print(f"{'zoom':>5}{'tiles':>7}{'cold p50':>10}{'cold p99':>10}{'warm p50':>10}"
          f"{'warm p99':>10}{'mean KB':>9}{'max KB':>8}")
    for z, count, cold, warm, mean_size, max_size in rows:
        print(f"{z:>5}{count:>7}{cold['p50']:>10.1f}{cold['p99']:>10.1f}{warm['p50']:>10.2f}"
              f"{warm['p99']:>10.2f}{mean_size / 1024:>9.1f}{max_size / 1024:>8.1f}")
    naive_count, naive_bytes = naive_page_bytes(url, args.naive_zones)
    print(f"\nmap page: ours {page_bytes / 1024:.1f} KB for all {zones} zones (served in "
          f"{page_ms:.0f} ms); naive Folium GeoJSON page with the first {naive_count} zones: "
          f"{naive_bytes / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
