"""Stage 3, check and repair: each chunk's geometries in EPSG:4326, sound polygons kept.

Whole arrays are reprojected and checked at once; only the features with a problem are
looked at one by one (in order, for the report), by the rules of geoapp.geo.polygons.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from geoapp.geo.polygons import check_polygon, in_lon_lat_range
from geoapp.ingest.pipeline.plan import REQUIRED_FIELD, LayerPlan
from geoapp.ingest.pipeline.report import ImportReport
from geoapp.ingest.request import ImportRequest
from geoapp.ingest.sources import WGS84

# Chunks with more vertices than this are reprojected and checked on two threads.
PARALLEL_MIN_VERTICES = 200_000


class ChunkChecker:
    """Reprojects chunks to EPSG:4326 and decides which features to keep, reporting the rest."""

    def __init__(self, plan: LayerPlan, request: ImportRequest, report: ImportReport,
                 helpers: ThreadPoolExecutor | None = None) -> None:
        self.plan, self.request, self.report, self.helpers = plan, request, report, helpers
        # One transformer per helper thread: PROJ objects are not shared between threads.
        self.to_wgs84 = [] if plan.crs.equals(WGS84, ignore_axis_order=True) else [
            Transformer.from_crs(plan.crs, WGS84, always_xy=True) for _ in range(2)]

    def geometry_problem(self, index: int, geometry: Any, valid: bool,
                         bounds: np.ndarray) -> tuple[Any, bool]:
        """(geometry to import or None, whether it was repaired) for a suspect feature.

        `bounds` is its extent in EPSG:4326. Coordinates that are not numbers, or not a
        longitude and latitude, cannot be repaired: the feature is rejected.
        """
        if geometry is None or geometry.is_empty:
            self.report.skipped_empty += 1
            return None, False
        checked = check_polygon(
            geometry, self.request.repair, valid=valid,
            range_detail=f" after conversion to EPSG:4326 (extent {format_bounds(bounds)}); "
                         "is the CRS right?")
        if checked.problem is not None:
            self.report.reject(index, checked.problem)
        return checked.geometry, checked.repaired

    def reprojected_and_checked(self, geometries: np.ndarray, worker: int
                                ) -> tuple[np.ndarray, np.ndarray]:
        """Geometries in EPSG:4326 and whether each is valid (`worker`: which transformer)."""
        if self.to_wgs84:
            geometries = shapely.transform(geometries, self.to_wgs84[worker].transform,
                                           interleaved=False)
        return geometries, shapely.is_valid(geometries)

    def check(self, first: int, geometries: np.ndarray, zone_codes: list[str | None]
              ) -> tuple[np.ndarray, np.ndarray]:
        """The chunk's geometries in EPSG:4326 (repaired where allowed) and which to keep.

        `first` is the index of the chunk's first feature; `zone_codes` its cleaned FLD_ZONE
        values (a feature without one is refused).
        """
        self.report.features_read += len(geometries)
        # Z and M values are dropped when the WKB is written (encode.multipolygon_ewkb).
        runs = split_in_two(geometries) if self.helpers is not None else [geometries]
        if len(runs) == 1:
            geometries, valid = self.reprojected_and_checked(geometries, 0)
        else:
            # A heavy chunk (detailed zones): PROJ and GEOS release the GIL, so use both cores.
            done = list(self.helpers.map(self.reprojected_and_checked, runs, range(2)))
            geometries = np.concatenate([run for run, _ in done])
            valid = np.concatenate([flags for _, flags in done])
        bounds = shapely.bounds(geometries)
        in_range = in_lon_lat_range(bounds)
        polygonal = np.isin(shapely.get_type_id(geometries),
                            (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON))
        sound = valid & in_range & polygonal & ~shapely.is_empty(geometries)
        keep = sound.copy()
        zone_field = self.plan.field_sources[REQUIRED_FIELD]
        for offset in np.flatnonzero(~sound | np.array([z is None for z in zone_codes])):
            index = first + int(offset)
            if not sound[offset]:
                geometry, repaired = self.geometry_problem(index, geometries[offset],
                                                           bool(valid[offset]), bounds[offset])
                if geometry is None:
                    keep[offset] = False
                    continue
                geometries[offset] = geometry
                self.report.repaired += repaired
            if zone_codes[offset] is None:
                self.report.reject(index, f"no zone code in {zone_field}")
                keep[offset] = False
                continue
            keep[offset] = True
        return geometries, keep


def format_bounds(bounds: np.ndarray) -> str:
    """An extent for a message: xmin, ymin, xmax, ymax rounded."""
    return ", ".join(f"{value:.6g}" for value in bounds)


def split_in_two(geometries: np.ndarray) -> list[np.ndarray]:
    """Two runs of geometries with about as many vertices each, or one run if it is light."""
    sizes = np.cumsum(shapely.get_num_coordinates(geometries))
    if len(geometries) < 2 or sizes[-1] < PARALLEL_MIN_VERTICES:
        return [geometries]
    middle = min(int(np.searchsorted(sizes, sizes[-1] / 2)) + 1, len(geometries) - 1)
    return [geometries[:middle], geometries[middle:]]
