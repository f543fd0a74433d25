"""Stage 4, encode: kept features as COPY text (zones) and binary COPY (pieces cut here).

Zones small enough to be lookup pieces as they are get their pieces from the database
trigger; larger ones are cut here (geoapp.ingest.pieces), on helper threads, in batches.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import shapely

from geoapp.db.queries.imports import COPY_COLUMNS, PIECE_COLUMNS
from geoapp.ingest.pieces import cut, needs_cutting
from geoapp.ingest.pipeline.plan import LayerPlan
from geoapp.nfhl.attributes import json_key, json_ready_column, zone_value_columns

# Large zones are cut and loaded in batches of about this many vertices, so that the database
# loads one batch while the next is cut.
CUT_BATCH_VERTICES = 100_000

# Little-endian EWKB of a MultiPolygon (type 6) with the SRID flag and 4326, and the plain
# WKB type headers the geometries come with.
EWKB_MULTIPOLYGON_4326 = "0106000020e6100000"
WKB_POLYGON = "0103000000"
WKB_HEADER_HEX_CHARS = 10  # byte order and type


def multipolygon_ewkb(geometries: list[Any]) -> list[str]:
    """Polygons and multipolygons as hex EWKB MultiPolygons (SRID 4326, 2D).

    GEOS writes plain 2D little-endian WKB once; the EWKB header is then put in front as
    text: a polygon becomes a one-part multipolygon by prefixing the part count, which costs
    nothing next to building multipolygon objects and setting their SRID in GEOS.
    """
    if not geometries:
        return []
    binary = shapely.to_wkb(np.array(geometries, dtype=object), output_dimension=2,
                            byte_order=1)
    # Binary WKB turned into hex by Python is several times faster than GEOS's hex writer.
    return [
        EWKB_MULTIPOLYGON_4326 + "01000000" + text if text.startswith(WKB_POLYGON)
        else EWKB_MULTIPOLYGON_4326 + text[WKB_HEADER_HEX_CHARS:]
        for text in (wkb.hex() for wkb in binary)
    ]


COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_NULL = "\\N"


def copy_column(values: list[Any]) -> list[str]:
    """A column's values in COPY's text format (\\N is NULL; backslash, tab, newlines escaped)."""
    # One pass per column: its values share a type (text, number or flag) or are NULL.
    kinds = {type(value) for value in values}
    kinds.discard(type(None))
    if kinds == {bool}:
        return [COPY_NULL if v is None else "t" if v else "f" for v in values]
    if kinds <= {int, float}:
        return [COPY_NULL if v is None else repr(v) for v in values]
    return [COPY_NULL if v is None else str(v).translate(COPY_ESCAPES) for v in values]


def json_lines(names: list[str], columns: list[list[Any]], count: int) -> list[str]:
    """Each feature's original attributes as a JSON object (the `attributes` column)."""
    keys = [json_key(name) for name in names]
    ready = [json_ready_column(column) for column in columns]
    if not keys:
        return ["{}"] * count
    return [orjson.dumps(dict(zip(keys, row, strict=True))).decode()
            for row in zip(*ready, strict=True)]


def typed_columns(plan: LayerPlan, names: list[str], columns: list[list[Any]], count: int
                  ) -> dict[str, list[Any]]:
    """The chunk's NFHL columns, cleaned and typed, from the source fields the plan chose."""
    by_name = dict(zip(names, columns, strict=True))
    return zone_value_columns(
        {target: by_name[source] for target, source in plan.field_sources.items()}, count)


def chunk_rows(dataset_id: int, typed: dict[str, list[Any]], names: list[str],
               columns: list[list[Any]], geometries: np.ndarray, kept: np.ndarray
               ) -> ChunkRows:
    """COPY lines of a chunk's kept features (`kept`: their offsets), small zones apart from
    large; attributes are written whole-column at a time."""
    count = len(geometries)
    if len(kept) == 0:
        return ChunkRows()
    attributes = json_lines(names, columns, count)
    table = [[str(dataset_id)] * count,
             *(copy_column(typed[name]) for name in COPY_COLUMNS[1:-2]),
             copy_column(attributes)]
    kept_geometries = geometries[kept]
    ewkb = multipolygon_ewkb(list(kept_geometries))
    if len(kept) == count:
        lines = ["\t".join(row) for row in zip(*table, ewkb, strict=True)]
    else:
        lines = ["\t".join([*(column[i] for column in table), wkb])
                 for i, wkb in zip(kept, ewkb, strict=True)]
    large = needs_cutting(kept_geometries)
    small_lines = [line for line, big in zip(lines, large, strict=True) if not big]
    return ChunkRows(
        small="".join(line + "\n" for line in small_lines), small_count=len(small_lines),
        large_lines=[line for line, big in zip(lines, large, strict=True) if big],
        large_geometries=kept_geometries[large],
        bounds=shapely.total_bounds(kept_geometries))


@dataclass
class ChunkRows:
    """A chunk's COPY lines: zones the trigger turns into pieces, and zones cut here."""

    small: str = ""
    small_count: int = 0
    large_lines: list[str] = field(default_factory=list)
    large_geometries: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    # Extent of the chunk's kept zones (xmin, ymin, xmax, ymax); None when none is kept.
    bounds: np.ndarray | None = None

    @property
    def count(self) -> int:
        """Zones to load."""
        return self.small_count + len(self.large_lines)

    def large_batches(self) -> Iterator[tuple[list[str], np.ndarray]]:
        """The large zones in batches of about CUT_BATCH_VERTICES vertices."""
        sizes = shapely.get_num_coordinates(self.large_geometries)
        start = total = 0
        for end, size in enumerate(sizes, start=1):
            total += int(size)
            if total >= CUT_BATCH_VERTICES or end == len(sizes):
                yield self.large_lines[start:end], self.large_geometries[start:end]
                start, total = end, 0


@dataclass
class CutZones:
    """Large zones' COPY lines (without ids) and the pieces cut from them, ready to load."""

    lines: list[str]
    piece_owners: np.ndarray
    piece_ewkb: list[bytes]

    @classmethod
    def cut(cls, lines: list[str], geometries: np.ndarray) -> CutZones:
        """Cut a batch of large zones into pieces."""
        owners, pieces = cut(geometries)
        return cls(lines, owners, polygon_ewkb(pieces))


# Little-endian EWKB header of a Polygon (type 3) with the SRID flag and 4326, in bytes.
EWKB_POLYGON_4326_BYTES = bytes.fromhex("0103000020e6100000")
WKB_HEADER_BYTES = 5  # byte order and type


def polygon_ewkb(polygons: np.ndarray) -> list[bytes]:
    """Polygons as EWKB with SRID 4326 (2D): GEOS's plain WKB behind a header of our own."""
    binary = shapely.to_wkb(polygons, output_dimension=2, byte_order=1)
    return [EWKB_POLYGON_4326_BYTES + wkb[WKB_HEADER_BYTES:] for wkb in binary]


# PostgreSQL's binary COPY: signature, flags and header extension; a -1 field count ends it.
COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
COPY_BINARY_TRAILER = struct.pack("!h", -1)


def binary_piece_rows(tags: list[tuple[str, str]], owners: np.ndarray, ewkb: list[bytes]
                      ) -> bytes:
    """Pieces (zone id, risk status, geometry) in binary COPY format: no hex to write or parse.

    `tags` holds each zone's (id, risk status); `owners` the zone of each piece.
    """
    prefixes = [struct.pack("!hiqi", len(PIECE_COLUMNS), 8, int(zone_id), len(status))
                + status.encode() for zone_id, status in tags]
    return b"".join([COPY_BINARY_HEADER,
                     *(prefixes[owner] + struct.pack("!i", len(wkb)) + wkb
                       for owner, wkb in zip(owners.tolist(), ewkb, strict=True)),
                     COPY_BINARY_TRAILER])


