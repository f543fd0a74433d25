"""Small basemap files for tests: MBTiles written with sqlite3, PMTiles v3 with the `pmtiles`
package's writer, and the one-pixel PNG tiles they hold."""

from __future__ import annotations

import sqlite3
import struct
import zlib
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path


def png(rgb: tuple[int, int, int] = (32, 64, 192)) -> bytes:
    """A 1x1 opaque PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" + bytes(rgb))) + chunk(b"IEND", b""))


def write_mbtiles(path: Path, tiles: Mapping[tuple[int, int, int], bytes],
                  metadata: Mapping[str, str]) -> Path:
    """An MBTiles file of `tiles` keyed by XYZ (z, x, y), stored with TMS rows as the spec says."""
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE metadata (name text, value text)")
        conn.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, "
                     "tile_row integer, tile_data blob)")
        conn.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, "
                     "tile_row)")
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", metadata.items())
        conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                         [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()])
    return path


def world_tiles() -> dict[tuple[int, int, int], bytes]:
    """Zoom 0 and the four tiles of zoom 1, each of its own colour (so a row flip shows)."""
    colours = {(0, 0, 0): (200, 200, 200), (1, 0, 0): (255, 0, 0), (1, 1, 0): (0, 255, 0),
               (1, 0, 1): (0, 0, 255), (1, 1, 1): (255, 255, 0)}
    return {zxy: png(rgb) for zxy, rgb in colours.items()}


def write_pmtiles(path: Path, tiles: Mapping[tuple[int, int, int], bytes], *, vector: bool,
                  metadata: Mapping[str, object]) -> Path:
    """A PMTiles v3 archive of `tiles` (PNG, or vector tiles)."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import write

    with write(str(path)) as writer:
        for tile_id, data in sorted((zxy_to_tileid(*zxy), data) for zxy, data in tiles.items()):
            writer.write_tile(tile_id, data)
        writer.finalize({"tile_type": TileType.MVT if vector else TileType.PNG,
                         "tile_compression": Compression.NONE}, dict(metadata))
    return path
