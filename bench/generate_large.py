"""A large, realistic synthetic flood map for the benchmarks, bulk-loaded with COPY.

The region is cut into panels. Each panel is mostly one minimal-hazard X zone, as in real
NFHL data, with a hole for every flood area inside it: irregular AE/A/AO/VE blobs, about half
of them wrapped in a 0.2% annual chance ring (itself a polygon with a hole). So the X zones
have hundreds of holes and 30,000 to 190,000 vertices, and most
zones are small, as real ones are. One panel is left unmapped. Zones never overlap.

    .venv/bin/python bench/generate_large.py [--zones 50000] [--seed 1]

writes into DATABASE_URL (or the bench database, see common.py).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import time
from collections.abc import Iterator

import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry import MultiPolygon, Polygon

# Coastal Mississippi and Alabama, away from the sample data of New Jersey.
REGION = (-89.5, 30.2, -87.5, 31.4)
PANELS_X, PANELS_Y = 10, 6
ZONES_PER_BLOB = 1.5  # a blob, plus a 0.2% ring for half of them
BLOB_KINDS = (  # fld_zone, zone_subty, sfha_tf, share
    ("AE", None, True, 0.45),
    ("A", None, True, 0.25),
    ("AO", None, True, 0.10),
    ("VE", None, True, 0.05),
    ("AE", "FLOODWAY", True, 0.10),
    ("D", None, False, 0.05),
)
MODERATE = "0.2 PCT ANNUAL CHANCE FLOOD HAZARD"
MINIMAL = "AREA OF MINIMAL FLOOD HAZARD"
COPY_COLUMNS = ("dataset_id", "fld_ar_id", "dfirm_id", "fld_zone", "zone_subty", "sfha_tf",
                "static_bfe", "depth", "v_datum", "len_unit", "attributes", "geom")
COPY_CHUNK = 2000


def random_points(n: int, seed: int, bbox: tuple[float, float, float, float] = REGION
                  ) -> list[tuple[float, float]]:
    """`n` uniformly random (lon, lat) points in a bbox, reproducible by seed."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = bbox
    return list(zip(rng.uniform(xmin, xmax, n).tolist(), rng.uniform(ymin, ymax, n).tolist(),
                    strict=True))


def blob_ring(rng: np.random.Generator, cx: float, cy: float, radius: float,
              vertices: int) -> np.ndarray:
    """A closed, star-shaped irregular outline (so always a simple ring)."""
    theta = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    wobble = 1 + sum(rng.uniform(0.02, 0.06) * np.sin(k * theta + rng.uniform(0, 6.3))
                     for k in (2, 3, 5, 11))
    stretch_x, stretch_y = rng.uniform(0.7, 1.0, 2)
    ring = np.column_stack([cx + radius * stretch_x * wobble * np.cos(theta),
                            cy + radius * stretch_y * wobble * np.sin(theta)])
    return np.vstack([ring, ring[:1]])


def panel_zones(rng: np.random.Generator, bounds: tuple[float, float, float, float],
                blobs_per_side: int, vertices: int) -> Iterator[tuple[dict, Polygon]]:
    """(attributes, polygon) of one panel: the blobs, their rings, and the X zone around."""
    xmin, ymin, xmax, ymax = bounds
    cell = (xmax - xmin) / blobs_per_side
    rows = max(1, round((ymax - ymin) / cell))
    shares = np.array([k[3] for k in BLOB_KINDS])
    holes = []
    for i in range(blobs_per_side):
        for j in range(rows):
            cx = xmin + (i + 0.5 + rng.uniform(-0.05, 0.05)) * cell
            cy = ymin + (j + 0.5 + rng.uniform(-0.05, 0.05)) * cell
            # Largest extent: 0.28 * 1.2 (wobble) * 1.35 (ring) < 0.45 of the cell.
            radius = cell * rng.uniform(0.12, 0.28)
            zone, subtype, sfha, _ = BLOB_KINDS[rng.choice(len(BLOB_KINDS), p=shares)]
            inner = blob_ring(rng, cx, cy, radius, vertices)
            bfe = round(float(rng.uniform(4, 30)), 1) if zone in {"AE", "VE"} else None
            depth = float(rng.integers(1, 4)) if zone == "AO" else None
            yield {"fld_zone": zone, "zone_subty": subtype, "sfha_tf": sfha,
                   "static_bfe": bfe, "depth": depth}, Polygon(inner)
            outer = inner
            if rng.random() < 0.5:
                outer = (inner - [cx, cy]) * 1.35 + [cx, cy]
                yield {"fld_zone": "X", "zone_subty": MODERATE, "sfha_tf": False,
                       "static_bfe": None, "depth": None}, Polygon(outer, [inner[::-1]])
            holes.append(outer[::-1])
    shell = [(xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax), (xmin, ymin)]
    yield {"fld_zone": "X", "zone_subty": MINIMAL, "sfha_tf": False, "static_bfe": None,
           "depth": None}, Polygon(shell, holes)


def all_zones(zones: int, seed: int) -> Iterator[tuple[dict, Polygon]]:
    """Every zone of the region, about `zones` in all."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = REGION
    width, height = (xmax - xmin) / PANELS_X, (ymax - ymin) / PANELS_Y
    panels = PANELS_X * PANELS_Y - 1  # the last panel stays unmapped
    blobs = zones / ZONES_PER_BLOB / panels
    per_side = max(2, round(math.sqrt(blobs * width / height)))
    for index in range(panels):
        i, j = index % PANELS_X, index // PANELS_X
        # Every seventh panel has finer outlines: X zones of about 190,000 vertices, the
        # upper end of what real minimal-hazard X zones have; the others about 30,000.
        vertices = 320 if index % 7 == 0 else 48
        yield from panel_zones(
            rng, (xmin + i * width, ymin + j * height, xmin + (i + 1) * width,
                  ymin + (j + 1) * height), per_side, vertices)


def copy_rows(dataset_id: int, zones: Iterator[tuple[dict, Polygon]]) -> Iterator[list]:
    """CSV rows for COPY into flood_zones (geometry as hex EWKB)."""
    for number, (attrs, polygon) in enumerate(zones, start=1):
        geom = shapely.set_srid(MultiPolygon([polygon]), 4326)
        fld_ar_id = f"BENCH_{number}"
        elevated = attrs["static_bfe"] is not None or attrs["depth"] is not None
        source = {"FLD_AR_ID": fld_ar_id, "DFIRM_ID": "28047C", "FLD_ZONE": attrs["fld_zone"],
                  "ZONE_SUBTY": attrs["zone_subty"] or "", "SFHA_TF": "T" if attrs["sfha_tf"]
                  else "F", "STATIC_BFE": attrs["static_bfe"] or -9999.0,
                  "DEPTH": attrs["depth"] or -9999.0}
        yield [dataset_id, fld_ar_id, "28047C", attrs["fld_zone"], attrs["zone_subty"],
               attrs["sfha_tf"], attrs["static_bfe"], attrs["depth"],
               "NAVD88" if elevated else None, "Feet" if elevated else None,
               json.dumps(source), shapely.to_wkb(geom, hex=True, include_srid=True)]


def csv_chunk(rows: list[list]) -> io.StringIO:
    """Rows as CSV text where None is the NULL marker (empty unquoted field)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    buffer.seek(0)
    return buffer


def generate(database_url: str, zones: int = 50000, seed: int = 1,
             name: str = "bench large (synthetic)", replace: bool = True) -> int:
    """Create the dataset in one transaction and return its id."""
    engine = sa.create_engine(database_url)
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if replace:
            cursor.execute("DELETE FROM datasets WHERE name = %s", (name,))
        cursor.execute(
            "INSERT INTO datasets (name, source_filename, source_crs, effective_date, status) "
            "VALUES (%s, 'generate_large.py', 'EPSG:4326', DATE '2021-10-01', 'ready') "
            "RETURNING id", (name,))
        dataset_id = cursor.fetchone()[0]
        rows = copy_rows(dataset_id, all_zones(zones, seed))
        copied = 0
        while chunk := [row for _, row in zip(range(COPY_CHUNK), rows, strict=False)]:
            cursor.copy_expert(
                f"COPY flood_zones ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv)",
                csv_chunk(chunk))
            copied += len(chunk)
            print(f"\r  {copied} zones copied", end="", flush=True, file=sys.stderr)
        cursor.execute(
            "UPDATE datasets SET feature_count = s.n, bbox = ST_SetSRID(s.box::geometry, 4326) "
            "FROM (SELECT count(*) AS n, ST_Extent(geom) AS box FROM flood_zones "
            "WHERE dataset_id = %s) AS s WHERE id = %s", (dataset_id, dataset_id))
        raw.commit()
        # A replaced dataset leaves dead rows behind; vacuum so the indexes are as in production.
        raw.dbapi_connection.autocommit = True
        cursor.execute("VACUUM ANALYZE flood_zones")
        cursor.execute("VACUUM ANALYZE flood_zone_pieces")
        cursor.execute("ANALYZE datasets")  # as imports do: autovacuum never analyzes it
    finally:
        raw.close()
        engine.dispose()
    print(f"\n  dataset {dataset_id}: {copied} zones in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    return dataset_id


def main() -> None:
    """Generate into DATABASE_URL, or the bench database."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zones", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", default="bench large (synthetic)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        from common import bench_database_url

        url = bench_database_url()
    generate(url, args.zones, args.seed, args.name)


if __name__ == "__main__":
    main()
