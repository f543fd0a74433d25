"""Point lookups: which flood zones cover a location and what that means for its risk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from geoapp import queries
from geoapp.models import Dataset, FloodZone
from geoapp.risk import UNMAPPED, combined_status, zone_status


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
    """One zone covering the queried location."""

    zone_id: int
    fld_zone: str
    zone_subty: str | None
    status: str
    sfha: bool
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
    def floodway(self) -> bool:
        """Whether this is the regulatory floodway (development there is restricted)."""
        return "FLOODWAY" in (self.zone_subty or "").upper()


@dataclass(frozen=True)
class PointReport:
    """Everything known about the flood risk at one point."""

    lon: float
    lat: float
    status: str
    zones: list[ZoneHit]

    @property
    def in_sfha(self) -> bool:
        """Whether any covering zone is in the Special Flood Hazard Area."""
        return any(hit.sfha for hit in self.zones)

    @property
    def datasets(self) -> list[DatasetInfo]:
        """The distinct datasets that answered, in the order of the zones."""
        seen: dict[int, DatasetInfo] = {}
        for hit in self.zones:
            seen.setdefault(hit.dataset.id, hit.dataset)
        return list(seen.values())


def dataset_info(dataset: Dataset) -> DatasetInfo:
    """Provenance record of a dataset."""
    return DatasetInfo(
        id=dataset.id,
        name=dataset.name,
        source_filename=dataset.source_filename,
        effective_date=dataset.effective_date,
        imported_at=dataset.imported_at,
    )


def zone_hit(zone: FloodZone, dataset: Dataset) -> ZoneHit:
    """A covering zone with its risk status worked out."""
    status = zone_status(zone.fld_zone, zone.zone_subty, zone.sfha_tf)
    return ZoneHit(
        zone_id=zone.id,
        fld_zone=zone.fld_zone,
        zone_subty=zone.zone_subty,
        status=status,
        sfha=status == "high_risk",
        static_bfe=zone.static_bfe,
        v_datum=zone.v_datum,
        len_unit=zone.len_unit,
        depth=zone.depth,
        velocity=zone.velocity,
        vel_unit=zone.vel_unit,
        dfirm_id=zone.dfirm_id,
        fld_ar_id=zone.fld_ar_id,
        dataset=dataset_info(dataset),
    )


def lookup_point(session: Session, lon: float, lat: float) -> PointReport:
    """Report the zones covering (lon, lat) in WGS84 and the resulting risk status."""
    rows = session.execute(queries.zones_covering_point(lon, lat)).all()
    # "AREA NOT INCLUDED" polygons mark places a map deliberately leaves out: not a zone.
    hits = [zone_hit(zone, dataset) for zone, dataset in rows]
    hits = [hit for hit in hits if hit.status != UNMAPPED]
    return PointReport(
        lon=lon, lat=lat, status=combined_status([hit.status for hit in hits]), zones=hits
    )
