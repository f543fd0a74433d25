"""Cutting large zones into the small pieces of the lookup table (shapely/GEOS, no database).

Imports cut zones of more than PIECE_MAX_VERTICES vertices here instead of leaving it to the
database trigger's ST_Subdivide: the same kind of recursive cut by rectangle clips, but with
the GEOS that ships with shapely (several times faster here than PostGIS's ST_Subdivide on
100,000-vertex zones) and on the importer's core, while the database loads the previous batch.
"""

from __future__ import annotations

import numpy as np
import shapely

# Pieces of at most 128 vertices keep point-in-polygon tests cheap and a piece's row under
# PostgreSQL's 2 kB TOAST threshold (so it is read without decompression). The database
# triggers use the same limit (migrations 0001 and 0006).
PIECE_MAX_VERTICES = 128
# Cuts after which what is left is kept as it is: vertices closer together than a float
# can tell apart never split (ST_Subdivide stops at the same depth).
MAX_DEPTH = 50
# A cut stays within the middle 80 % of a piece's box, so every halving shrinks it.
CUT_MARGIN = 0.1


def needs_cutting(geometries: np.ndarray) -> np.ndarray:
    """Which geometries have more vertices than a piece may have."""
    return shapely.get_num_coordinates(geometries) > PIECE_MAX_VERTICES


def cut(geometries: np.ndarray, max_vertices: int = PIECE_MAX_VERTICES
        ) -> tuple[np.ndarray, np.ndarray]:
    """(index of the source geometry, polygon) for the pieces that tile each (multi)polygon.

    Each polygon is cut in two across the longer side of its box until every piece has at most
    `max_vertices` vertices (or MAX_DEPTH cuts were made), a level at a time, with GEOS's
    rectangle clipping.
    """
    parts, owners = shapely.get_parts(np.asarray(geometries, dtype=object), return_index=True)
    done_parts: list[np.ndarray] = []
    done_owners: list[np.ndarray] = []
    for depth in range(MAX_DEPTH + 1):
        small = shapely.get_num_coordinates(parts) <= max_vertices
        if depth == MAX_DEPTH:
            small[:] = True
        done_parts.append(parts[small])
        done_owners.append(owners[small])
        parts, owners = parts[~small], owners[~small]
        if not len(parts):
            break
        parts, owners = halve(parts, owners)
    return repair_pieces(np.concatenate(done_parts), np.concatenate(done_owners))


def halve(parts: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each polygon clipped to the two sides of a cut across the longer side of its box.

    The cut goes through the mean of the vertices (kept within the middle of the box): halves
    with about as many vertices each fill pieces better than halves of the box, so there are
    fewer pieces (a third fewer on detailed shorelines) and fewer levels.
    """
    xmin, ymin, xmax, ymax = shapely.bounds(parts).T
    wide = (xmax - xmin) >= (ymax - ymin)
    coordinates, index = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(index, minlength=len(parts))
    mean_x = np.bincount(index, weights=coordinates[:, 0], minlength=len(parts)) / counts
    mean_y = np.bincount(index, weights=coordinates[:, 1], minlength=len(parts)) / counts
    cut_x = np.clip(mean_x, xmin + CUT_MARGIN * (xmax - xmin), xmax - CUT_MARGIN * (xmax - xmin))
    cut_y = np.clip(mean_y, ymin + CUT_MARGIN * (ymax - ymin), ymax - CUT_MARGIN * (ymax - ymin))
    first = clip(parts, xmin, ymin, np.where(wide, cut_x, xmax), np.where(wide, ymax, cut_y))
    second = clip(parts, np.where(wide, cut_x, xmin), np.where(wide, ymin, cut_y), xmax, ymax)
    halves, index = shapely.get_parts(np.concatenate([first, second]), return_index=True)
    polygonal = (shapely.get_type_id(halves) == shapely.GeometryType.POLYGON) \
        & ~shapely.is_empty(halves)
    return halves[polygonal], np.concatenate([owners, owners])[index[polygonal]]


def clip(parts: np.ndarray, xmin: np.ndarray, ymin: np.ndarray, xmax: np.ndarray,
         ymax: np.ndarray) -> np.ndarray:
    """Each geometry clipped to its own rectangle (GEOS releases the GIL inside each call)."""
    return np.array([shapely.clip_by_rect(part, *box)
                     for part, *box in zip(parts, xmin, ymin, xmax, ymax, strict=True)],
                    dtype=object)


def repair_pieces(pieces: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pieces, with any that clipping left invalid replaced by their repaired polygons.

    GEOS does not promise valid output from a rectangle clip when a cut runs exactly along
    an edge; point-in-polygon tests need valid pieces.
    """
    invalid = ~shapely.is_valid(pieces)
    if not invalid.any():
        return owners, pieces
    repaired, index = shapely.get_parts(shapely.make_valid(pieces[invalid]), return_index=True)
    keep = (shapely.get_type_id(repaired) == shapely.GeometryType.POLYGON) \
        & ~shapely.is_empty(repaired)
    return (np.concatenate([owners[~invalid], owners[invalid][index[keep]]]),
            np.concatenate([pieces[~invalid], repaired[keep]]))
