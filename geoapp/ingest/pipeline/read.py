"""Stage 2, read: the layer's features in chunks of bounded size, through GDAL's Arrow stream."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely

from geoapp.errors import InvalidInput
from geoapp.ingest.files import public_reason
from geoapp.ingest.pipeline.plan import LayerPlan
from geoapp.ingest.request import ImportRequest

# Features GDAL hands over at a time; chunks are gathered from such batches.
READ_BATCH = 250


def read_chunks(plan: LayerPlan, options: ImportRequest
                ) -> Iterator[tuple[int, np.ndarray, list[str], list[list[Any]]]]:
    """(index of the first feature, geometries, field names, field values) per chunk.

    The layer is read in one pass through GDAL's Arrow stream, so formats without random
    access (GeoJSON, KML) are parsed once rather than once per chunk. Its batches are gathered
    into chunks of at most `chunk_size` features and `chunk_vertices` vertices (or one batch):
    memory stays bounded however detailed the zones are.
    """
    encoding = options.encoding  # else GDAL decodes as the file says (see source_encoding)
    first, batches, features, vertices = 0, [], 0, 0
    with pyogrio.raw.open_arrow(plan.path, layer=plan.layer, encoding=encoding,
                                batch_size=READ_BATCH, use_pyarrow=True,
                                return_fids=True) as (meta, reader):
        geometry_column = meta["geometry_name"] or "wkb_geometry"
        fid_column = meta["fid_column"] or "OGC_FID"
        for batch in readable(reader, plan.layer):
            try:
                values = batch_values(batch, geometry_column, fid_column,
                                      lambda fids: linear_geometries(plan, fids))
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"text in layer {plan.layer!r} (features {first + features} to "
                    f"{first + features + batch.num_rows - 1}) is not {plan.encoding}: "
                    f"{exc.reason}; give the file's encoding, e.g. cp1252",
                    code="undecodable_text") from None
            size = int(shapely.get_num_coordinates(values[0]).sum())
            if batches and (features + batch.num_rows > options.chunk_size
                            or vertices + size > options.chunk_vertices):
                yield first, *joined(batches)
                first, batches, features, vertices = first + features, [], 0, 0
            batches.append(values)
            features, vertices = features + batch.num_rows, vertices + size
    if batches:
        yield first, *joined(batches)


READ_ERRORS = (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
               pyogrio.errors.FeatureError, pyogrio.errors.GeometryError,
               pyogrio.errors.FieldError)


def readable(reader: Iterator[Any], layer: str) -> Iterator[Any]:
    """The reader's batches; a file GDAL cannot read to the end is refused, not half-read."""
    read = 0
    try:
        for batch in reader:
            yield batch
            read += batch.num_rows
    except READ_ERRORS as exc:
        raise InvalidInput(
            f"GDAL cannot read layer {layer!r} past feature {read}: {public_reason(exc)} (is "
            "the file truncated or damaged?)", code="unreadable_file") from None


def batch_values(batch: Any, geometry_column: str, fid_column: str,
                 linearised: Callable[[list[int]], np.ndarray]
                 ) -> tuple[np.ndarray, list[str], list[list[Any]]]:
    """Geometries, field names and field values (Python objects, None for null) of a batch.

    A batch holding curves (which GEOS cannot read) takes its geometries from `linearised`.
    """
    import pyarrow.types  # loaded by pyogrio's Arrow stream already

    fields = [field for field in batch.schema if field.name not in (geometry_column, fid_column)]
    wkb = batch.column(geometry_column).to_numpy(zero_copy_only=False)
    try:
        geometries = shapely.from_wkb(wkb)
    except NotImplementedError:  # "Nonlinear geometry types are not currently supported"
        geometries = linearised(batch.column(fid_column).to_pylist())
    # Whole columns to Python values at once (one value at a time is slow); some drivers
    # give NaN for a null number.
    return geometries, [field.name for field in fields], [
        without_nan(values) if pyarrow.types.is_floating(field.type) else values
        for field, values in ((field, batch.column(field.name).to_pylist()) for field in fields)]


def linear_geometries(plan: LayerPlan, fids: list[int]) -> np.ndarray:
    """Features' geometries with curves replaced by line segments (pyogrio's feature reader)."""
    try:
        _meta, _fids, wkb, _columns = pyogrio.raw.read(plan.path, layer=plan.layer, fids=fids,
                                                       columns=[])
    except READ_ERRORS as exc:
        raise InvalidInput(f"GDAL cannot read the curved features of layer {plan.layer!r}: "
                           f"{public_reason(exc)}", code="unreadable_file") from None
    return shapely.from_wkb(wkb)


def joined(batches: list[tuple[np.ndarray, list[str], list[list[Any]]]]
           ) -> tuple[np.ndarray, list[str], list[list[Any]]]:
    """Batches of the same layer as one chunk."""
    if len(batches) == 1:
        return batches[0]
    columns = [[] for _ in batches[0][1]]
    for _, _, batch_columns in batches:
        for column, values in zip(columns, batch_columns, strict=True):
            column += values
    return np.concatenate([geometries for geometries, _, _ in batches]), batches[0][1], columns


def without_nan(values: list[float | None]) -> list[float | None]:
    """Numbers with NaN as None."""
    return [None if v is None or math.isnan(v) else v for v in values]


