"""Flood determinations: which zones cover a location, what that means, how far high risk is."""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from geoapp.db import compiled
from geoapp.db.connections import Reads, connection_of
from geoapp.db.queries import lookup as lookup_sql
from geoapp.db.queries.scope import ACTIVE, Scope, dataset_exists
from geoapp.errors import InvalidParameter
from geoapp.nfhl.status import RiskStatus, combined_status

# How far to look for the nearest high-risk zone; beyond it the answer is null.
DEFAULT_NEAREST_RADIUS_M = 5000.0


@dataclass(frozen=True)
class DatasetInfo:
    """Provenance of a dataset that answered a query."""

    id: int
    name: str
    source_filename: str | None
    effective_date: dt.date | None
    imported_at: dt.datetime | None


@dataclass(frozen=True)
class ZoneHit:
    """One zone covering (or near) the queried location."""

    zone_id: int
    fld_zone: str
    zone_subty: str | None
    status: str
    static_bfe: float | None
    v_datum: str | None
    len_unit: str | None
    depth: float | None
    velocity: float | None
    vel_unit: str | None
    dfirm_id: str | None
    fld_ar_id: str | None
    dataset: DatasetInfo

    @property
    def sfha(self) -> bool:
        """Whether the zone lies in the Special Flood Hazard Area."""
        return self.status == RiskStatus.HIGH_RISK

    @property
    def floodway(self) -> bool:
        """Whether this is the regulatory floodway (development there is restricted)."""
        return "FLOODWAY" in (self.zone_subty or "").upper()


@dataclass(frozen=True)
class NearestZone:
    """The nearest high-risk zone: geodesic distance and the point of it nearest to the query."""

    distance_m: float
    lon: float
    lat: float
    zone: ZoneHit


@dataclass(frozen=True)
class PointReport:
    """Everything known about the flood risk at one point."""

    lon: float
    lat: float
    zones: list[ZoneHit]
    nearest_high_risk: NearestZone | None = None
    search_radius_m: float | None = None
    datasets: list[DatasetInfo] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The most severe status among the covering zones; unmapped when none."""
        return combined_status([hit.status for hit in self.zones])

    @property
    def in_sfha(self) -> bool:
        """Whether any covering zone is in the Special Flood Hazard Area."""
        return any(hit.sfha for hit in self.zones)

    @property
    def primary_zone(self) -> ZoneHit | None:
        """The covering zone that decides the status (most severe, newest map first)."""
        return next((hit for hit in self.zones if hit.status == self.status), None)


def zone_hit_from_row(row: Any, datasets: dict[int, DatasetInfo]) -> ZoneHit:
    """A zone report from `lookup_sql.zone_report_columns()`; `datasets` caches provenance."""
    dataset = datasets.get(row.dataset_id)
    if dataset is None:
        dataset = datasets[row.dataset_id] = DatasetInfo(
            id=row.dataset_id,
            name=row.dataset_name,
            source_filename=row.source_filename,
            effective_date=row.effective_date,
            imported_at=row.imported_at,
        )
    return ZoneHit(
        zone_id=row.zone_id,
        fld_zone=row.fld_zone,
        zone_subty=row.zone_subty,
        status=row.risk_status,
        static_bfe=row.static_bfe,
        v_datum=row.v_datum,
        len_unit=row.len_unit,
        depth=row.depth,
        velocity=row.velocity,
        vel_unit=row.vel_unit,
        dfirm_id=row.dfirm_id,
        fld_ar_id=row.fld_ar_id,
        dataset=dataset,
    )


def mapped_hits(hits: list[ZoneHit]) -> list[ZoneHit]:
    """Drop "AREA NOT INCLUDED" polygons: they mark places a map deliberately leaves out."""
    return [hit for hit in hits if hit.status != RiskStatus.UNMAPPED]


def distinct_datasets(hits: Sequence[ZoneHit]) -> list[DatasetInfo]:
    """The datasets behind some zones, each once, in order of appearance."""
    seen: dict[int, DatasetInfo] = {}
    for hit in hits:
        seen.setdefault(hit.dataset.id, hit.dataset)
    return list(seen.values())


def check_scope(session: Reads, scope: Scope) -> None:
    """Refuse a `dataset` reference that names no dataset at all."""
    if scope.dataset is not None and session.scalar(dataset_exists(scope.dataset)) is None:
        raise InvalidParameter(f"parameter 'dataset': no dataset {scope.dataset!r}")


def nearest_high_risk_row(
    session: Reads, lon: float, lat: float, radius_m: float, scope: Scope
) -> Any | None:
    """The row of `lookup_sql.nearest_high_risk` for the nearest high-risk piece within
    ``radius_m`` metres, searched in boxes bounded in metres (two across the antimeridian)."""
    connection = connection_of(session)
    rows = [
        connection.execute(
            lookup_sql.nearest_high_risk(scope),
            lookup_sql.nearest_high_risk_params(lon, lat, radius_m, box),
        ).first()
        for box in lookup_sql.search_boxes(lon, lat, radius_m)
    ]
    found = [row for row in rows if row is not None]
    return min(found, key=lambda row: row.distance_m) if found else None


def lookup_point(
    session: Reads,
    lon: float,
    lat: float,
    scope: Scope = ACTIVE,
    nearest_radius_m: float = DEFAULT_NEAREST_RADIUS_M,
) -> PointReport:
    """The full report for (lon, lat) in WGS84: covering zones, status, nearest SFHA zone."""
    check_scope(session, scope)
    datasets: dict[int, DatasetInfo] = {}
    # On the session's connection (Core): these statements select columns, not entities, and
    # skipping the ORM's execution layer saved a tenth of a lookup's Python time.
    connection = connection_of(session)
    boxes = lookup_sql.search_boxes(lon, lat, nearest_radius_m) if nearest_radius_m > 0 else []
    nearest_row = None
    if len(boxes) == 1:
        # The usual case: covering zones and the nearest high-risk zone in one round trip.
        # Straight on the driver's cursor: the statement is compiled once (db/compiled.py).
        rows = compiled.run(
            connection,
            lookup_sql.point_report(scope),
            lookup_sql.nearest_high_risk_params(lon, lat, nearest_radius_m, boxes[0]),
        )
        return report_from_rows(lon, lat, rows, nearest_radius_m)
    # No search (radius 0), or two boxes across the antimeridian: a statement each.
    rows = connection.execute(
        lookup_sql.zones_covering_point(scope), {lookup_sql.LON: lon, lookup_sql.LAT: lat}
    ).all()
    hits = mapped_hits([zone_hit_from_row(row, datasets) for row in rows])
    if boxes and not any(hit.sfha for hit in hits):
        nearest_row = nearest_high_risk_row(session, lon, lat, nearest_radius_m, scope)
    return finish_report(lon, lat, hits, nearest_row, nearest_radius_m, datasets)


def report_from_rows(lon: float, lat: float, rows: Sequence[Any],
                     nearest_radius_m: float) -> PointReport:
    """The report from the rows of `lookup_sql.point_report` (or of a statement adding rows
    of its own after them, which it skips: ``is_context``)."""
    datasets: dict[int, DatasetInfo] = {}
    zone_rows = [row for row in rows if not getattr(row, "is_context", False)]
    nearest_row = next((row for row in zone_rows if row.is_nearest), None)
    hits = mapped_hits([zone_hit_from_row(row, datasets) for row in zone_rows
                        if not row.is_nearest])
    return finish_report(lon, lat, hits, nearest_row, nearest_radius_m, datasets)


def finish_report(lon: float, lat: float, hits: list[ZoneHit], nearest_row: Any | None,
                  nearest_radius_m: float, datasets: dict[int, DatasetInfo]) -> PointReport:
    """A report of covering zones and the nearest high-risk zone's row, if any."""
    nearest = None
    if nearest_row is not None:
        nearest = NearestZone(
            distance_m=nearest_row.distance_m,
            lon=nearest_row.closest_lon,
            lat=nearest_row.closest_lat,
            zone=zone_hit_from_row(nearest_row, datasets),
        )
    sources = [*hits, nearest.zone] if nearest else hits
    return PointReport(
        lon=lon,
        lat=lat,
        zones=hits,
        nearest_high_risk=nearest,
        search_radius_m=nearest_radius_m,
        datasets=distinct_datasets(sources),
    )


# A batch is cut into chunks of at least this many points to run on several connections.
MIN_PARALLEL_CHUNK = 5000


def covering_rows(
    session: Session, points: Sequence[tuple[float, float]], scope: Scope, workers: int,
    builder: Callable[..., Any] = lookup_sql.zones_covering_points,
) -> Iterator[Any]:
    """Rows of a many-points statement (`lookup_sql.zones_covering_points`, or a `builder`
    of the same signature) for all points, in chunks.

    Each point probes the index on its own, so a large batch is split across up to `workers`
    connections of the session's engine and runs on as many database cores. A session bound
    to a single connection (a transaction in progress) runs the chunks one after another.
    """
    bind = session.get_bind()
    chunk_size = max(MIN_PARALLEL_CHUNK, -(-len(points) // max(workers, 1)))
    starts = range(0, len(points), chunk_size)

    def statement(start: int) -> Any:
        chunk = points[start:start + chunk_size]
        return builder([lon for lon, _ in chunk], [lat for _, lat in chunk], scope, start)

    if len(starts) == 1 or not isinstance(bind, Engine):
        for start in starts:
            yield from session.execute(statement(start))
        return

    def run(start: int) -> list[Any]:
        with bind.connect() as connection:
            return connection.execute(statement(start)).all()

    with ThreadPoolExecutor(max_workers=len(starts)) as pool:
        # Each chunk runs in a copy of the caller's context, so per-request settings kept
        # in context variables (the statement budget) hold on the extra connections too.
        futures = [pool.submit(contextvars.copy_context().run, run, start) for start in starts]
        for future in futures:
            yield from future.result()


def lookup_points(
    session: Session,
    points: Sequence[tuple[float, float]],
    scope: Scope = ACTIVE,
    workers: int = 1,
) -> list[PointReport]:
    """Reports for many points in set-based queries (no nearest-zone search), in order."""
    check_scope(session, scope)
    hits: list[list[ZoneHit]] = [[] for _ in points]
    # Many points share a zone: build each zone's report once.
    zones: dict[int, ZoneHit] = {}
    datasets: dict[int, DatasetInfo] = {}
    for row in covering_rows(session, points, scope, workers):
        hit = zones.get(row.zone_id)
        if hit is None:
            hit = zones[row.zone_id] = zone_hit_from_row(row, datasets)
        hits[row.ordinal].append(hit)
    return [
        PointReport(lon=lon, lat=lat, zones=mapped_hits(found), datasets=distinct_datasets(found))
        for (lon, lat), found in zip(points, hits, strict=True)
    ]
