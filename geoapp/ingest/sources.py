"""Reading vector files into (geometry, properties) pairs in EPSG:4326 with pyogrio (GDAL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from geoapp.errors import InvalidInput
from geoapp.geo.crs import parse_source_crs
from geoapp.ingest import gdal_safety
from geoapp.ingest.files import public_reason

WGS84 = CRS.from_epsg(4326)


@dataclass
class SourceLayer:
    """Features of one layer, already reprojected to EPSG:4326 (lon/lat order)."""

    source_crs: str
    encoding: str | None
    geometries: list[BaseGeometry | None]
    properties: list[dict[str, Any]]

    def features(self) -> Iterator[tuple[BaseGeometry | None, dict[str, Any]]]:
        """(geometry, properties) pairs in file order."""
        return zip(self.geometries, self.properties, strict=True)


def crs_label(crs: CRS) -> str:
    """'EPSG:nnnn' when the CRS has a code, else its name (Esri .prj files often have none)."""
    authority = crs.to_authority(min_confidence=70)
    return f"{authority[0]}:{authority[1]}" if authority else crs.name


def read_layer(path: str | Path, layer: str | int | None = None) -> SourceLayer:
    """Read a whole layer with GDAL and reproject it to WGS84 lon/lat."""
    gdal_safety.apply()
    try:
        meta, _fids, wkb, field_data = pyogrio.raw.read(str(path), layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(
            f"cannot read {Path(path).name}: {public_reason(exc)}", code="unreadable_file"
        ) from None
    if not meta.get("crs"):
        raise InvalidInput(
            f"{Path(path).name} declares no coordinate reference system", code="missing_crs"
        )
    source_crs = parse_source_crs(str(meta["crs"]), f"the CRS of {Path(path).name}")
    geometries = list(shapely.from_wkb(wkb))
    if not source_crs.equals(WGS84, ignore_axis_order=True):
        to_wgs84 = Transformer.from_crs(source_crs, WGS84, always_xy=True)
        geometries = list(shapely.transform(
            np.array(geometries, dtype=object), to_wgs84.transform, interleaved=False
        ))
    names = list(meta["fields"])
    properties = [
        {name: column[i] for name, column in zip(names, field_data, strict=True)}
        for i in range(len(geometries))
    ]
    return SourceLayer(crs_label(source_crs), meta.get("encoding"), geometries, properties)
