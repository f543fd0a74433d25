"""Statements on an MBTiles file (SQLite, not the app's database): the basemap of
`geoapp.web.basemap`. Opened read-only, never created or written; rows counted from the south
(TMS), as the MBTiles specification stores them."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

METADATA = "SELECT name, value FROM metadata"
FIRST_TILE = "SELECT tile_data FROM tiles LIMIT 1"
ZOOMS = "SELECT min(zoom_level), max(zoom_level) FROM tiles"
TILE = ("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
        "AND tile_row = ?")


def open_read_only(path: str | Path) -> sqlite3.Connection:
    """The file at an absolute path, read-only (`mode=ro`: a missing file is an error)."""
    return sqlite3.connect(Path(path).as_uri() + "?mode=ro", uri=True)


def describe(path: str | Path) -> tuple[dict[str, str], bytes | None, tuple[int, int] | None]:
    """The metadata table, one tile (to tell its format when the metadata does not), and the
    zooms the tiles cover (None when there is no tile)."""
    with closing(open_read_only(path)) as conn:
        metadata = {str(name): str(value) for name, value in conn.execute(METADATA)
                    if name is not None and value is not None}
        first = conn.execute(FIRST_TILE).fetchone()
        zooms = conn.execute(ZOOMS).fetchone()
    return (metadata, None if first is None else bytes(first[0]),
            None if zooms is None or zooms[0] is None else (int(zooms[0]), int(zooms[1])))


def tile(path: str | Path, z: int, x: int, y: int) -> bytes | None:
    """The tile at XYZ `z/x/y` (y from the north), None when the file has none."""
    with closing(open_read_only(path)) as conn:
        row = conn.execute(TILE, (z, x, (1 << z) - 1 - y)).fetchone()
    return None if row is None else bytes(row[0])
