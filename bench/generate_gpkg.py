"""The second bench map: a GeoPackage of 40,000 mostly small zones (60 of them with 20,000
vertices), imported through `flask zones import` into a database of its own, as a GIS
analyst's file would be, so the features bench also sees a map the CLI loaded.

    .venv/bin/python bench/generate_gpkg.py [--zones 40000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyogrio
import shapely
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CLI_BENCH_DB, PROJECT, VENV_BIN, server_url  # noqa: E402

DATABASE = CLI_BENCH_DB
REGION = (-95.6, 29.5, -94.9, 30.1)  # around Houston, away from the other maps
HUGE_ZONES, HUGE_VERTICES = 60, 20000


def zones_frame(zones: int, seed: int) -> dict:
    """Columns and geometries of the map: small irregular blobs on a grid, a few huge ones."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(zones)))
    xmin, ymin, xmax, ymax = REGION
    dx, dy = (xmax - xmin) / side, (ymax - ymin) / side
    geoms, fld_zone, sfha, bfe, ids = [], [], [], [], []
    for index in range(zones):
        col, row = index % side, index // side
        cx, cy = xmin + (col + 0.5) * dx, ymin + (row + 0.5) * dy
        vertices = HUGE_VERTICES if index % (zones // HUGE_ZONES) == 0 else int(rng.integers(8, 60))
        angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
        radius = 0.45 * min(dx, dy) * (1 + 0.25 * rng.uniform(-1, 1, vertices))
        ring = np.column_stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)])
        geoms.append(shapely.MultiPolygon([shapely.Polygon(ring)]))
        kind = ("AE", "X", "A", "VE", "AO")[int(rng.integers(0, 5))]
        fld_zone.append(kind)
        sfha.append("F" if kind == "X" else "T")
        bfe.append(float(rng.integers(5, 40)) if kind in ("AE", "VE") else -9999.0)
        ids.append(f"48201C_{index}")
    return {"FLD_AR_ID": np.array(ids), "FLD_ZONE": np.array(fld_zone),
            "SFHA_TF": np.array(sfha), "STATIC_BFE": np.array(bfe),
            "geometry": shapely.to_wkb(np.array(geoms, dtype=object))}


def main() -> None:
    """Write the GeoPackage, create and migrate the database, import it with the CLI."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zones", type=int, default=40000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    server = server_url()
    url = server.set(database=DATABASE).render_as_string(hide_password=False)
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "geoapp"}
    subprocess.run([str(VENV_BIN / "flask"), "db", "upgrade"], cwd=PROJECT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_zones.gpkg"
        frame = zones_frame(args.zones, args.seed)
        wkb = frame.pop("geometry")
        pyogrio.raw.write(str(path), wkb, list(frame.values()), list(frame),
                          layer="S_FLD_HAZ_AR", driver="GPKG", geometry_type="MultiPolygon",
                          crs="EPSG:4326")
        start = time.perf_counter()
        subprocess.run([str(VENV_BIN / "flask"), "zones", "import", str(path), "--name",
                        "CLI bench map"], cwd=PROJECT, env=env, check=True)
        print(f"imported {args.zones} zones in {time.perf_counter() - start:.1f} s into {DATABASE}")


if __name__ == "__main__":
    main()
