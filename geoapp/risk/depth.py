"""How deep: ground elevation, water-surface elevation and depth per flood event at a point,
the water above a first floor, and whether the ground stands above the 1% water (a LOMA
candidate). No database, no Flask: the rasters in scope come with the determination's
catalog (geoapp.risk.determination), the cells from geoapp.geo.rasters.

Every height is answered in the unit asked for, with its vertical datum and where it came
from. Heights on different datums (NGVD29 against NAVD88) are never subtracted: the answer
is null with the reason, as it is for nodata and for a point no raster covers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from rasterio.errors import RasterioError

from geoapp.db.vocabulary import RasterKind
from geoapp.geo import rasters as raster_io
from geoapp.geo.vertical import VerticalUnit, convert, parse_datum, parse_unit

log = logging.getLogger(__name__)

# The event of the Base Flood: 1% annual chance.
BASE_FLOOD_PERCENT = 1.0
# NFHL BFEs and AO depths are in feet (LEN_UNIT "Feet") where the zone does not say.
NFHL_UNIT = VerticalUnit.FOOT
# Heights are compared exact and written out to what a DEM and a BFE can tell (a hundredth
# of the unit: web/serializers/lookup.py, batch rows and parcel statistics).
DECIMALS = 2
LOMA_NOTE = ("The ground here, read from a DEM, is at or above the 1% annual chance water "
             "surface: the property may be eligible for a Letter of Map Amendment (LOMA). "
             "FEMA decides on surveyed elevations (an Elevation Certificate), not on a DEM.")
NOT_LOMA_NOTE = ("FEMA decides on surveyed elevations (an Elevation Certificate), not on a "
                 "DEM.")

# Where a height came from (the `source` of a Height).
FROM_DEM = "dem"
FROM_WSE_GRID = "wse_grid"
FROM_DEPTH_GRID = "depth_grid"
FROM_STATIC_BFE = "bfe_static"
FROM_ESTIMATED_BFE = "bfe_estimated"
FROM_ZONE_DEPTH = "zone_depth"
FROM_WSE_MINUS_GROUND = "wse_minus_ground"
FROM_GROUND_PLUS_DEPTH = "ground_plus_depth"
FROM_GIVEN = "given"
FROM_GROUND_PLUS_HEIGHT = "ground_plus_height"


@dataclass(frozen=True)
class RasterInfo:
    """A raster layer in scope, as the catalog reads it (geoapp.db.queries.rasters)."""

    id: int
    dataset_id: int
    dataset_name: str
    kind: str
    event_percent: float | None
    vertical_datum: str | None
    unit: str
    file_name: str
    crs_wkt: str
    nodata: float | None
    bounds: tuple[float, float, float, float]
    sha256: str

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> RasterInfo:
        """A raster layer from its catalog JSON object."""
        return cls(id=item["id"], dataset_id=item["dataset_id"],
                   dataset_name=item["dataset_name"], kind=item["kind"],
                   event_percent=item["event_percent"], vertical_datum=item["vertical_datum"],
                   unit=item["unit"], file_name=item["file_name"], crs_wkt=item["crs_wkt"],
                   nodata=item["nodata"],
                   bounds=(item["west"], item["south"], item["east"], item["north"]),
                   sha256=item["sha256"])

    def may_cover(self, lon: float, lat: float) -> bool:
        """Whether the point is within the raster's WGS 84 bounds."""
        west, south, east, north = self.bounds
        return west <= lon <= east and south <= lat <= north

    def file(self, root: Path) -> raster_io.RasterFile:
        """The stored file, for reading."""
        return raster_io.RasterFile(root / self.file_name, self.crs_wkt, self.nodata)


@dataclass(frozen=True)
class Height:
    """A height in the unit asked for, with its datum and source; or null and why."""

    value: float | None
    unit: str
    vertical_datum: str | None = None
    source: str | None = None
    raster_id: int | None = None
    dataset_id: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class EventDepth:
    """One flood event at the point: its water surface, its depth, the water above a floor."""

    annual_chance_percent: float
    water_surface: Height
    depth: Height
    above_first_floor: Height | None = None


@dataclass(frozen=True)
class LomaCandidate:
    """Whether the ground (a parcel's lowest) is at or above the 1% water surface in the SFHA."""

    candidate: bool | None
    ground: Height | None
    water_surface: Height | None
    reason: str | None
    note: str = NOT_LOMA_NOTE


@dataclass(frozen=True)
class FirstFloor:
    """A first floor given by the caller: its elevation (in `datum`), or its height above the
    ground; in the unit of the request."""

    elevation: float | None = None
    height: float | None = None
    datum: str = "NAVD88"


@dataclass(frozen=True)
class DepthRequest:
    """What a lookup asks of the rasters: where they are stored, the unit, a first floor."""

    root: Path
    unit: VerticalUnit = VerticalUnit.FOOT
    first_floor: FirstFloor | None = None


@dataclass(frozen=True)
class FloodElevation:
    """The Base Flood's water surface (or depth) from the determination, in its own unit."""

    in_sfha: bool
    value: float | None
    estimated: bool
    unit: str | None
    datum: str | None
    zone_depth: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class DepthAnswer:
    """Ground, events and LOMA candidacy at a point."""

    unit: str
    ground: Height
    events: list[EventDepth]
    first_floor: Height | None
    loma: LomaCandidate
    rasters_used: list[RasterInfo] = field(default_factory=list)


def rasters_at(rasters: Iterable[RasterInfo], lon: float, lat: float) -> list[RasterInfo]:
    """The raster layers whose bounds hold the point, newest map first (as the catalog)."""
    return [raster for raster in rasters if raster.may_cover(lon, lat)]


def height_from(raster: RasterInfo, value: float, unit: VerticalUnit, source: str) -> Height:
    """A raster's cell value as a Height in the unit asked for."""
    return Height(convert(value, raster.unit, unit), unit.value,
                  raster.vertical_datum, source, raster.id, raster.dataset_id)


def first_value(candidates: Sequence[RasterInfo], root: Path, lon: float, lat: float,
                unit: VerticalUnit, source: str, what: str) -> Height:
    """The first raster with a value at the point, else null with why (nodata or none)."""
    nodata: RasterInfo | None = None
    unreadable: RasterInfo | None = None
    for raster in candidates:
        try:
            sample = raster_io.sample_point(raster.file(root), lon, lat)
        except (OSError, RasterioError):  # the file is gone or damaged: say so, go on
            log.error("raster %s (%s) cannot be read", raster.id, raster.file_name)
            unreadable = unreadable or raster
            continue
        if sample.value is not None:
            return height_from(raster, sample.value, unit, source)
        if sample.missing == "nodata" and nodata is None:
            nodata = raster
    if nodata is not None:
        return Height(None, unit.value, nodata.vertical_datum, source, nodata.id,
                      nodata.dataset_id, reason=f"the {what} has no value at this point "
                      "(nodata)")
    if unreadable is not None:
        return Height(None, unit.value, unreadable.vertical_datum, source, unreadable.id,
                      unreadable.dataset_id, reason=f"the {what}'s file cannot be read on "
                      "this server")
    return Height(None, unit.value, reason=f"no {what} covers this point")


def of_kind(rasters: Sequence[RasterInfo], kind: str, event: float | None = None
            ) -> list[RasterInfo]:
    """The rasters of one kind (and event)."""
    return [raster for raster in rasters
            if raster.kind == kind and (event is None or raster.event_percent == event)]


def datum_conflict(a: Height, b: Height) -> str | None:
    """Why two heights cannot be subtracted, or None (depth grids have no datum)."""
    if a.vertical_datum is None or b.vertical_datum is None:
        return None
    if a.vertical_datum != b.vertical_datum:
        return (f"the heights are on different vertical datums ({a.vertical_datum} and "
                f"{b.vertical_datum}); they are not compared")
    return None


def missing(unit: VerticalUnit, reason: str, source: str | None = None) -> Height:
    """A null height and its reason."""
    return Height(None, unit.value, source=source, reason=reason)


def base_flood_surface(flood: FloodElevation, unit: VerticalUnit) -> Height:
    """The 1% water surface from the determination's BFE (static or estimated)."""
    if flood.value is None:
        return missing(unit, flood.reason or "no BFE applies here")
    if flood.datum is None:
        return missing(unit, "the BFE's vertical datum is not given (V_DATUM): it is not "
                       "compared with the ground")
    source_unit = parse_unit(flood.unit) or NFHL_UNIT
    return Height(convert(flood.value, source_unit, unit), unit.value,
                  flood.datum, FROM_ESTIMATED_BFE if flood.estimated else FROM_STATIC_BFE)


def event_at(event: float, rasters: Sequence[RasterInfo], root: Path, lon: float, lat: float,
             unit: VerticalUnit, ground: Height, flood: FloodElevation,
             floor: Height | None, floor_height: float | None) -> EventDepth:
    """The water surface, depth and water above the floor of one event."""
    base = event == BASE_FLOOD_PERCENT
    surface = first_value(of_kind(rasters, RasterKind.WSE, event), root, lon, lat, unit,
                          FROM_WSE_GRID, "water-surface grid")
    grid_depth = first_value(of_kind(rasters, RasterKind.DEPTH, event), root, lon, lat, unit,
                             FROM_DEPTH_GRID, "depth grid")
    if surface.value is None and base:
        from_bfe = base_flood_surface(flood, unit)
        # The BFE answers where no grid has a value; a grid's nodata reason is kept if
        # the BFE has none either and no depth zone gives one.
        if from_bfe.value is not None or (surface.raster_id is None
                                          and flood.zone_depth is None):
            surface = from_bfe
    if grid_depth.value is None and base and flood.zone_depth is not None:
        grid_depth = Height(convert(flood.zone_depth, parse_unit(flood.unit) or NFHL_UNIT,
                                          unit), unit.value, None, FROM_ZONE_DEPTH)
    if grid_depth.value is not None:
        depth = grid_depth
    elif surface.value is not None and ground.value is not None:
        conflict = datum_conflict(surface, ground)
        depth = (missing(unit, conflict) if conflict else
                 Height(max(0.0, surface.value - ground.value), unit.value,
                        None, FROM_WSE_MINUS_GROUND))
    else:
        depth = grid_depth if grid_depth.raster_id is not None else missing(
            unit, surface.reason if surface.value is None else ground.reason or "no ground")
    if surface.value is None and depth.value is not None and ground.value is not None:
        surface = Height(ground.value + depth.value, unit.value,
                         ground.vertical_datum, FROM_GROUND_PLUS_DEPTH)
    above = None
    if floor is not None or floor_height is not None:
        above = water_above_floor(surface, ground, depth, floor, floor_height, unit)
    return EventDepth(event, surface, depth, above)


def water_above_floor(surface: Height, ground: Height, depth: Height, floor: Height | None,
                      floor_height: float | None, unit: VerticalUnit) -> Height:
    """Water surface minus first floor (negative: the floor is above the water by that much)."""
    # A depth read from a grid is the one the answer shows: the floor stands that high in it.
    if floor_height is not None and depth.value is not None and (
            depth.source in (FROM_DEPTH_GRID, FROM_ZONE_DEPTH)
            or surface.value is None or ground.value is None):
        return Height(depth.value - floor_height, unit.value, None,
                      FROM_DEPTH_GRID if depth.source == FROM_DEPTH_GRID else depth.source)
    if floor is None or floor.value is None:
        return missing(unit, floor.reason if floor else "no ground elevation to stand the "
                       "floor on")
    if surface.value is None:
        return missing(unit, surface.reason or "no water surface for this event")
    conflict = datum_conflict(surface, floor)
    if conflict:
        return missing(unit, conflict)
    return Height(surface.value - floor.value, unit.value, None,
                  surface.source)


def first_floor_height(given: FirstFloor | None, ground: Height, unit: VerticalUnit
                       ) -> Height | None:
    """The first floor's elevation: as given, or the ground plus the height given."""
    if given is None:
        return None
    if given.elevation is not None:
        return Height(given.elevation, unit.value, given.datum, FROM_GIVEN)
    if given.height is None:
        return None
    if ground.value is None:
        return missing(unit, f"the first floor's height is given above the ground, and "
                       f"{ground.reason or 'the ground is not known'}")
    return Height(ground.value + given.height, unit.value,
                  ground.vertical_datum, FROM_GROUND_PLUS_HEIGHT)


def loma_candidate(flood: FloodElevation, ground: Height, surface: Height | None,
                   what: str = "point") -> LomaCandidate:
    """In the SFHA: ground at or above the 1% water surface (same datum) makes a candidate."""
    if not flood.in_sfha:
        return LomaCandidate(False, None, None, f"the {what} is outside the SFHA: no LOMA is "
                             "needed")
    if ground.value is None:
        return LomaCandidate(None, ground, surface, ground.reason)
    if surface is None or surface.value is None:
        return LomaCandidate(None, ground, surface,
                             surface.reason if surface else "no 1% water surface here")
    if surface.source == FROM_GROUND_PLUS_DEPTH:  # derived from the same ground: not a test
        return LomaCandidate(None, ground, surface, "the 1% water surface here is only known "
                             "as the ground plus a depth")
    conflict = datum_conflict(ground, surface)
    if conflict:
        return LomaCandidate(None, ground, surface, conflict)
    above = ground.value >= surface.value
    return LomaCandidate(above, ground, surface, None, LOMA_NOTE if above else NOT_LOMA_NOTE)


def depth_at(rasters: Sequence[RasterInfo], lon: float, lat: float, flood: FloodElevation,
             request: DepthRequest) -> DepthAnswer:
    """Ground, events (those with a grid here, and the 1% event of the BFE) and LOMA."""
    unit = request.unit
    here = rasters_at(rasters, lon, lat)
    ground = first_value(of_kind(here, RasterKind.DEM), request.root, lon, lat, unit, FROM_DEM,
                         "DEM")
    events = sorted({raster.event_percent for raster in here
                     if raster.event_percent is not None}
                    | ({BASE_FLOOD_PERCENT} if flood.in_sfha else set()), reverse=True)
    given = request.first_floor
    floor = first_floor_height(given, ground, unit)
    height = given.height if given is not None and given.elevation is None else None
    answered = [event_at(event, here, request.root, lon, lat, unit, ground, flood, floor,
                         height) for event in events]
    base = next((item for item in answered if item.annual_chance_percent == BASE_FLOOD_PERCENT),
                None)
    loma = loma_candidate(flood, ground, base.water_surface if base else None)
    # Cited: the rasters that answered (a value, or nodata at the point), not every one near.
    read = {height.raster_id for height in [ground, *(h for event in answered for h in (
        event.water_surface, event.depth))] if height.raster_id is not None}
    return DepthAnswer(unit.value, ground, answered, floor, loma,
                       [raster for raster in here if raster.id in read])


@dataclass(frozen=True)
class PointDepth:
    """A batch row's heights: ground, 1% depth, LOMA candidacy (None where unknown)."""

    ground: float | None
    depth_1pct: float | None
    loma_candidate: bool | None
    unit: str


def depths_at_points(rasters: Sequence[RasterInfo], root: Path, lons: np.ndarray,
                     lats: np.ndarray, floods: Sequence[FloodElevation],
                     unit: VerticalUnit = VerticalUnit.FOOT) -> list[PointDepth]:
    """Ground elevation, 1% depth and LOMA candidacy of many points, each raster's tiles read
    once and the rules of `depth_at` applied to arrays (a batch's compact rows: static BFEs
    and AO depths only)."""
    count = len(lons)
    ground, ground_datum = first_values(of_kind(rasters, RasterKind.DEM), root, lons, lats,
                                        unit)
    depth, _ = first_values(of_kind(rasters, RasterKind.DEPTH, BASE_FLOOD_PERCENT), root,
                            lons, lats, unit)
    # The 1% water surface: a water-surface grid's where it has a value, else the BFE.
    surface, surface_datum = first_values(of_kind(rasters, RasterKind.WSE, BASE_FLOOD_PERCENT),
                                          root, lons, lats, unit)
    in_sfha = np.fromiter((flood.in_sfha for flood in floods), bool, count)
    bfe = np.fromiter((convert(flood.value, parse_unit(flood.unit) or NFHL_UNIT, unit)
                       if flood.value is not None and flood.datum is not None else np.nan
                       for flood in floods), float, count)
    bfe_datum = np.array([flood.datum for flood in floods], dtype=object)
    from_bfe_surface = np.isnan(surface)
    surface[from_bfe_surface] = bfe[from_bfe_surface]
    surface_datum[from_bfe_surface] = bfe_datum[from_bfe_surface]
    zone_depth = np.fromiter((convert(flood.zone_depth, parse_unit(flood.unit) or NFHL_UNIT,
                                      unit) if flood.zone_depth is not None else np.nan
                              for flood in floods), float, count)
    # Heights on one datum only (as `datum_conflict`): never NAVD88 against NGVD29.
    comparable = ~np.isnan(ground) & ~np.isnan(surface) & (ground_datum == surface_datum)
    from_zone = np.isnan(depth) & ~np.isnan(zone_depth)
    depth[from_zone] = zone_depth[from_zone]
    from_surface = np.isnan(depth) & comparable
    depth[from_surface] = np.maximum(0.0, surface[from_surface] - ground[from_surface])
    above = ground >= surface

    def plain(value: float) -> float | None:
        return None if np.isnan(value) else round(float(value), DECIMALS)

    return [PointDepth(plain(g), plain(d), (bool(a) if ok else None) if sfha else False,
                       unit.value)
            for g, d, a, ok, sfha in zip(ground, depth, above, comparable, in_sfha,
                                         strict=True)]


def first_values(candidates: Sequence[RasterInfo], root: Path, lons: np.ndarray,
                 lats: np.ndarray, unit: VerticalUnit) -> tuple[np.ndarray, np.ndarray]:
    """Per point, the first raster's value there in `unit` (NaN where none has one) and its
    vertical datum, as `first_value` does for one point; each raster reads only the points
    the ones before it left without a value."""
    values = np.full(len(lons), np.nan)
    datums = np.full(len(lons), None, dtype=object)
    for raster in candidates:
        todo = np.flatnonzero(np.isnan(values))
        if todo.size == 0:
            break
        read, _ = sample_or_none(raster, root, lons[todo], lats[todo])
        found = ~np.isnan(read)
        values[todo[found]] = convert(1.0, raster.unit, unit) * read[found]
        datums[todo[found]] = raster.vertical_datum
    return values, datums


def sample_or_none(raster: RasterInfo, root: Path, lons: np.ndarray, lats: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """`sample_points`, or no value anywhere when the raster's file cannot be read."""
    try:
        return raster_io.sample_points(raster.file(root), lons, lats)
    except (OSError, RasterioError):
        log.error("raster %s (%s) cannot be read", raster.id, raster.file_name)
        return np.full(len(lons), np.nan), np.ones(len(lons), dtype=bool)


def stats_or_none(raster: RasterInfo, root: Path, polygon: shapely.Geometry,
                  values_of: Any = None) -> raster_io.WindowStats | None:
    """`window_stats`, or None when the raster's file cannot be read."""
    try:
        return raster_io.window_stats(raster.file(root), polygon, values_of)
    except (OSError, RasterioError):
        log.error("raster %s (%s) cannot be read", raster.id, raster.file_name)
        return None


@dataclass(frozen=True)
class ParcelEventStats:
    """One event over a parcel: the share of its area wet, and depth statistics."""

    annual_chance_percent: float
    wet_area_share: float | None
    depth_min: float | None
    depth_mean: float | None
    depth_max: float | None
    covered_area_share: float | None
    raster_id: int | None
    reason: str | None = None
    source: str = FROM_DEPTH_GRID


@dataclass(frozen=True)
class FloodPart:
    """The part of a parcel in one SFHA zone with a static BFE (lon/lat)."""

    bfe: float
    unit: str | None
    datum: str | None
    geometry: shapely.Geometry


@dataclass(frozen=True)
class ParcelDepths:
    """A parcel's depths per event (from depth grids) and its lowest ground (from a DEM)."""

    unit: str
    lowest_ground: Height
    events: list[ParcelEventStats]
    loma: LomaCandidate | None


def parcel_depths(rasters: Sequence[RasterInfo], root: Path, parcel: shapely.Geometry,
                  flood: FloodElevation | None, unit: VerticalUnit = VerticalUnit.FOOT,
                  flood_parts: Sequence[FloodPart] = ()) -> ParcelDepths:
    """Per event with a depth grid under the parcel: wet share and min/mean/max depth
    (exactextract, coverage-weighted); for the 1% event without one, the BFE minus the DEM's
    ground over the parcel's SFHA parts; the lowest ground and, in the SFHA, LOMA candidacy."""
    west, south, east, north = parcel.bounds
    here = [raster for raster in rasters
            if raster.bounds[0] <= east and raster.bounds[2] >= west
            and raster.bounds[1] <= north and raster.bounds[3] >= south]
    lowest = missing(unit, "no DEM covers this parcel")
    for raster in of_kind(here, RasterKind.DEM):
        stats = stats_or_none(raster, root, parcel)
        if stats is not None and stats.valid_minimum is not None:
            lowest = height_from(raster, stats.valid_minimum, unit, FROM_DEM)
            break
        if stats is None:
            lowest = missing(unit, "the parcel is too large to read the DEM under it"
                             if parcel.intersects(shapely.box(*raster.bounds)) else
                             "no DEM covers this parcel")
    events: list[ParcelEventStats] = []
    seen: set[float] = set()
    for raster in of_kind(here, RasterKind.DEPTH):
        if raster.event_percent in seen or raster.event_percent is None:
            continue
        stats = stats_or_none(raster, root, parcel)
        seen.add(raster.event_percent)
        if stats is None:
            events.append(ParcelEventStats(
                raster.event_percent, None, None, None, None, None, raster.id,
                "the depth grid under the parcel cannot be read (the parcel is larger than "
                "the cells one answer reads, or the grid's file is missing)"))
            continue
        scale = convert(1.0, raster.unit, unit)

        def scaled(value: float | None, by: float = scale) -> float | None:
            return None if value is None else round(value * by, DECIMALS)

        events.append(ParcelEventStats(
            raster.event_percent, round(stats.wet_area_share, 4), scaled(stats.minimum),
            scaled(stats.mean), scaled(stats.maximum), round(stats.covered_area_share, 4),
            raster.id))
    dems = of_kind(here, RasterKind.DEM)
    if BASE_FLOOD_PERCENT not in seen and flood_parts and dems:
        events.append(base_flood_over_parts(dems[0], root, parcel, flood_parts, unit))
    events.sort(key=lambda item: item.annual_chance_percent, reverse=True)
    loma = None
    if flood is not None:
        loma = loma_candidate(flood, lowest, base_flood_surface(flood, unit), "parcel")
        if loma.candidate:
            loma = replace(loma, note=LOMA_NOTE.replace("The ground here", "The parcel's "
                                                        "lowest ground"))
    return ParcelDepths(unit.value, lowest, events, loma)


def base_flood_over_parts(dem: RasterInfo, root: Path, parcel: shapely.Geometry,
                          parts: Sequence[FloodPart], unit: VerticalUnit) -> ParcelEventStats:
    """The 1% event over a parcel from its SFHA parts: in each, the part's BFE minus the
    DEM's ground, cell by cell (wet where above zero); parts on another datum than the DEM
    are not compared."""
    whole = stats_or_none(dem, root, parcel)
    if whole is None or whole.area <= 0:
        return ParcelEventStats(BASE_FLOOD_PERCENT, None, None, None, None, None, dem.id,
                                "the parcel is too large to read the DEM under it",
                                FROM_WSE_MINUS_GROUND)
    wet_area, weighted, low, high, compared = 0.0, 0.0, None, None, 0
    for part in parts:
        datum = parse_datum(part.datum)
        if datum is None or datum != dem.vertical_datum:
            continue
        bfe = convert(part.bfe, parse_unit(part.unit) or NFHL_UNIT, dem.unit)
        stats = stats_or_none(dem, root, part.geometry, lambda ground, b=bfe: b - ground)
        compared += 1
        if stats is None or stats.mean is None:
            continue
        wet_area += stats.wet_area
        weighted += stats.mean * stats.wet_area
        if stats.minimum is not None and stats.maximum is not None:
            low = stats.minimum if low is None else min(low, stats.minimum)
            high = stats.maximum if high is None else max(high, stats.maximum)
    if not compared:
        return ParcelEventStats(BASE_FLOOD_PERCENT, None, None, None, None, None, dem.id,
                                f"the BFEs here are not on the DEM's vertical datum "
                                f"({dem.vertical_datum}); they are not compared",
                                FROM_WSE_MINUS_GROUND)
    scale = convert(1.0, dem.unit, unit)

    def scaled(value: float | None) -> float | None:
        return None if value is None else round(value * scale, DECIMALS)

    return ParcelEventStats(
        BASE_FLOOD_PERCENT, round(min(wet_area / whole.area, 1.0), 4), scaled(low),
        scaled(weighted / wet_area) if wet_area else None, scaled(high),
        round(whole.covered_area_share, 4), dem.id, None, FROM_WSE_MINUS_GROUND)
