"""The bodies the API answers with, declared exactly: every member typed, no other member.

The OpenAPI document's schemas are generated from these models, and the fuzz tests check
every answer against them, so a renamed, retyped or added member fails a test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from geoapp.db import vocabulary
from geoapp.ingest.exports import FORMATS
from geoapp.nfhl.status import RiskStatus

# Plain values, so that the document lists them as an enum of strings.
Status = Literal[tuple(s.value for s in RiskStatus)]  # type: ignore[valid-type]
DatasetStatus = Literal[tuple(s.value for s in vocabulary.DatasetStatus)]  # type: ignore[valid-type]
ExportStatus = Literal[tuple(s.value for s in vocabulary.ExportStatus)]  # type: ignore[valid-type]
ExportFormatName = Literal[tuple(FORMATS)]  # type: ignore[valid-type]
GeometryType = Literal["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                       "MultiPolygon"]
Bbox = list[float]


class Exact(BaseModel):
    """A body with exactly these members (a member that is not declared is a violation)."""

    model_config = ConfigDict(extra="forbid")


class Error(Exact):
    """The body of every error answer."""

    error: str
    message: str


class Link(Exact):
    """An OGC API link."""

    href: str
    rel: str
    type: str = None  # type: ignore[assignment]
    title: str = None  # type: ignore[assignment]
    templated: bool = None  # type: ignore[assignment]


# --- OGC API - Features resources -----------------------------------------------------------


class LandingPage(Exact):
    """GET /: the API's landing page."""

    title: str
    description: str
    links: list[Link]


class Conformance(Exact):
    """GET /conformance."""

    conformsTo: list[str]  # noqa: N815 - the OGC member name


class SpatialExtent(Exact):
    bbox: list[Bbox] = Field(json_schema_extra={"items": {
        "type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}}})
    crs: str


class TemporalExtent(Exact):
    interval: list[list[dt.date | None]] = Field(json_schema_extra={"items": {
        "type": "array", "minItems": 2, "maxItems": 2,
        "items": {"type": "string", "format": "date", "nullable": True}}})
    trs: str


class Extent(Exact):
    spatial: SpatialExtent
    temporal: TemporalExtent = None  # type: ignore[assignment]


class Collection(Exact):
    """A collection's metadata."""

    id: str
    title: str
    description: str
    itemType: str  # noqa: N815
    links: list[Link]
    crs: list[str]
    storageCrs: str  # noqa: N815
    extent: Extent = None  # type: ignore[assignment]


class Collections(Exact):
    """GET /collections."""

    collections: list[Collection]
    links: list[Link]


class Queryables(Exact):
    """GET /collections/{id}/queryables: a JSON Schema (OGC API - Features part 3)."""

    schema_: str = Field(alias="$schema")
    id_: str = Field(alias="$id")
    type: Literal["object"]
    title: str
    properties: dict[str, dict[str, Any]]
    additionalProperties: bool  # noqa: N815


class Geometry(Exact):
    """A GeoJSON geometry of the served types."""

    type: GeometryType
    coordinates: list[Any]


class ZoneProperties(Exact):
    """A flood zone's properties (features.PROPERTIES; `properties=` may choose fewer)."""

    fld_zone: str | None = None
    zone_subty: str | None = None
    risk_status: Status | None = None
    sfha_tf: bool | None = None
    static_bfe: float | None = None
    v_datum: str | None = None
    len_unit: str | None = None
    depth: float | None = None
    velocity: float | None = None
    vel_unit: str | None = None
    dfirm_id: str | None = None
    fld_ar_id: str | None = None
    dataset_id: int = None  # type: ignore[assignment]
    dataset: str | None = None
    effective_date: dt.date | None = None
    attributes: dict[str, Any] | None = None


class ZoneFeature(Exact):
    """A flood zone as a GeoJSON Feature (its links only when served alone)."""

    type: Literal["Feature"]
    id: int
    geometry: Geometry | None
    properties: ZoneProperties
    links: list[Link] = None  # type: ignore[assignment]


class ZoneFeatureCollection(Exact):
    """A page of flood zones."""

    type: Literal["FeatureCollection"]
    features: list[ZoneFeature]
    timeStamp: dt.datetime | None = None  # noqa: N815
    numberMatched: int = Field(None, ge=0)  # noqa: N815
    numberReturned: int = Field(None, ge=0)  # noqa: N815
    links: list[Link] = None  # type: ignore[assignment]


class DatasetProperties(Exact):
    """A dataset as a feature of the datasets collection."""

    name: str
    status: DatasetStatus
    source_filename: str | None
    source_crs: str | None
    effective_date: dt.date | None
    superseded_on: dt.date | None
    feature_count: int | None
    imported_at: dt.datetime | None


class DatasetFeature(Exact):
    """A dataset, its extent as geometry."""

    type: Literal["Feature"]
    id: int
    geometry: Geometry | None
    properties: DatasetProperties


class DatasetFeatureCollection(Exact):
    """All datasets."""

    type: Literal["FeatureCollection"]
    features: list[DatasetFeature]
    numberMatched: int = Field(ge=0)  # noqa: N815
    numberReturned: int = Field(ge=0)  # noqa: N815
    links: list[Link]


class Created(Exact):
    """The ids of features a write added."""

    ids: list[int]
    links: list[Link]


# --- the package layers' collections (geoapp.ogc.layer_features) ----------------------------
# Every feature has all its layer's typed columns (null when FEMA's value is a sentinel), its
# dataset's id and the source's own fields under `attributes`.


class PanelProperties(Exact):
    """A FIRM panel (S_FIRM_PAN)."""

    dfirm_id: str | None
    firm_pan: str | None
    panel: str | None
    suffix: str | None
    eff_date: dt.date | None
    panel_typ: str | None
    pnp_reason: str | None
    dataset_id: int
    attributes: dict[str, Any]


class CommunityProperties(Exact):
    """A community (S_POL_AR) with its NFIP dates (L_COMM_INFO; null without a row there)."""

    dfirm_id: str | None
    cid: str | None
    comm_no: str | None
    pol_name1: str | None
    pol_name2: str | None
    pol_name3: str | None
    co_fips: str | None
    st_fips: str | None
    com_nfo_id: str | None
    ani_tf: bool | None
    in_id_dat: dt.date | None
    in_nfip_dt: dt.date | None
    in_frm_dat: dt.date | None
    recent_dat: dt.date | None
    dataset_id: int
    attributes: dict[str, Any]


class LomrProperties(Exact):
    """A Letter of Map Revision's area (S_LOMR)."""

    dfirm_id: str | None
    lomr_id: str | None
    case_no: str | None
    eff_date: dt.date | None
    status: str | None
    scale: str | None
    dataset_id: int
    attributes: dict[str, Any]


class BfeLineProperties(Exact):
    """A base flood elevation line (S_BFE)."""

    dfirm_id: str | None
    bfe_ln_id: str | None
    elev: float | None
    len_unit: str | None
    v_datum: str | None
    dataset_id: int
    attributes: dict[str, Any]


class CrossSectionProperties(Exact):
    """A cross section (S_XS)."""

    dfirm_id: str | None
    xs_ln_id: str | None
    xs_ltr: str | None
    xs_ln_typ: str | None
    wtr_nm: str | None
    stream_stn: float | None
    wsel_reg: float | None
    strmbed_el: float | None
    len_unit: str | None
    v_datum: str | None
    dataset_id: int
    attributes: dict[str, Any]


class CbrsUnitProperties(Exact):
    """A CBRS unit or Otherwise Protected Area (S_CBRS)."""

    dfirm_id: str | None
    cbrs_id: str | None
    cbrs_typ: str | None
    cbrs_dt: dt.date | None
    dataset_id: int
    attributes: dict[str, Any]


class PanelFeature(Exact):
    type: Literal["Feature"]
    id: int
    geometry: Geometry
    properties: PanelProperties
    links: list[Link] = None  # type: ignore[assignment]


class CommunityFeature(Exact):
    type: Literal["Feature"]
    id: int
    geometry: Geometry
    properties: CommunityProperties
    links: list[Link] = None  # type: ignore[assignment]


class LomrFeature(Exact):
    type: Literal["Feature"]
    id: int
    geometry: Geometry
    properties: LomrProperties
    links: list[Link] = None  # type: ignore[assignment]


class BfeLineFeature(Exact):
    type: Literal["Feature"]
    id: int
    geometry: Geometry
    properties: BfeLineProperties
    links: list[Link] = None  # type: ignore[assignment]


class CrossSectionFeature(Exact):
    type: Literal["Feature"]
    id: int
    geometry: Geometry
    properties: CrossSectionProperties
    links: list[Link] = None  # type: ignore[assignment]


class CbrsUnitFeature(Exact):
    type: Literal["Feature"]
    id: int
    geometry: Geometry
    properties: CbrsUnitProperties
    links: list[Link] = None  # type: ignore[assignment]


class LayerPageMembers(Exact):
    """What every page of a package layer has besides its features."""

    type: Literal["FeatureCollection"]
    timeStamp: dt.datetime | None = None  # noqa: N815
    numberMatched: int = Field(None, ge=0)  # noqa: N815
    numberReturned: int = Field(ge=0)  # noqa: N815
    links: list[Link]


class PanelFeatureCollection(LayerPageMembers):
    features: list[PanelFeature]


class CommunityFeatureCollection(LayerPageMembers):
    features: list[CommunityFeature]


class LomrFeatureCollection(LayerPageMembers):
    features: list[LomrFeature]


class BfeLineFeatureCollection(LayerPageMembers):
    features: list[BfeLineFeature]


class CrossSectionFeatureCollection(LayerPageMembers):
    features: list[CrossSectionFeature]


class CbrsUnitFeatureCollection(LayerPageMembers):
    features: list[CbrsUnitFeature]


# (feature, page) of each layer collection, by collection id.
LAYER_ANSWERS: dict[str, tuple[type[Exact], type[Exact]]] = {
    "firm_panels": (PanelFeature, PanelFeatureCollection),
    "communities": (CommunityFeature, CommunityFeatureCollection),
    "lomrs": (LomrFeature, LomrFeatureCollection),
    "bfe_lines": (BfeLineFeature, BfeLineFeatureCollection),
    "cross_sections": (CrossSectionFeature, CrossSectionFeatureCollection),
    "cbrs_units": (CbrsUnitFeature, CbrsUnitFeatureCollection),
}


# --- tiles ----------------------------------------------------------------------------------


class Tileset(Exact):
    title: str
    dataType: Literal["vector"]  # noqa: N815
    crs: str
    tileMatrixSetURI: str  # noqa: N815
    links: list[Link]


class Tilesets(Exact):
    """GET /collections/{id}/tiles."""

    tilesets: list[Tileset]


class VectorLayer(Exact):
    id: str
    fields: dict[str, str]
    minzoom: int
    maxzoom: int


class TileJSON(Exact):
    """TileJSON 3.0 of the vector tiles."""

    tilejson: str
    name: str
    tiles: list[str]
    minzoom: int
    maxzoom: int
    bounds: Bbox = Field(min_length=4, max_length=4)
    vector_layers: list[VectorLayer]


# --- determinations -------------------------------------------------------------------------


class DatasetRef(Exact):
    id: int
    name: str


class DatasetInfo(Exact):
    """Provenance of a dataset a determination used."""

    id: int
    name: str
    source_filename: str | None
    effective_date: dt.date | None
    imported_at: dt.datetime | None


class ZoneHit(Exact):
    """A zone covering the point (or the parcel); absent values are null, never -9999."""

    zone: str | None
    subtype: str | None
    status: Status
    sfha: bool
    floodway: bool
    bfe: float | None
    vertical_datum: str | None
    length_unit: str | None
    depth: float | None
    velocity: float | None
    velocity_unit: str | None
    dfirm_id: str | None
    fld_ar_id: str | None
    zone_id: int
    dataset: DatasetRef
    effective_date: dt.date | None


class LonLat(Exact):
    lon: float
    lat: float


class NearestZone(Exact):
    distance_m: float = Field(ge=0)
    zone: str | None
    subtype: str | None
    zone_id: int
    dataset: DatasetRef
    nearest_point: LonLat


class FirmPanel(Exact):
    """The FIRM panel covering the point."""

    firm_pan: str | None
    panel: str | None
    suffix: str | None
    effective_date: dt.date | None
    panel_type: str | None
    printed: bool | None
    not_printed_reason: str | None
    dataset_id: int


class NfipCommunity(Exact):
    """The NFIP community (S_POL_AR, with L_COMM_INFO's dates)."""

    cid: str | None
    name: str | None
    comm_no: str | None
    county_fips: str | None
    state_fips: str | None
    entered_nfip: dt.date | None
    identified: dt.date | None
    first_firm: dt.date | None
    current_effective_map: dt.date | None
    area_not_included: bool | None
    dataset_id: int


class LomrInForce(Exact):
    case_no: str | None
    effective_date: dt.date | None
    status: str | None
    dataset_id: int


class CbrsStatus(Exact):
    """In or out of a CBRS unit or Otherwise Protected Area."""

    in_cbrs: bool
    unit: str | None
    type: str | None
    date: dt.date | None


class ElevationSource(Exact):
    kind: Literal["bfe_line", "cross_section"]
    label: str | None
    elevation: float
    distance_m: float = Field(ge=0)


class BaseFloodElevation(Exact):
    """The BFE: static, or estimated between the two lines that bracket the point."""

    value: float | None
    estimated: bool
    method: str | None
    length_unit: str | None
    vertical_datum: str | None
    sources: list[ElevationSource]
    reason: str | None


class SfhaBoundary(Exact):
    distance_m: float | None = Field(ge=0)
    farther_than_m: float | None
    tolerance_m: float = Field(ge=0)


class Citation(Exact):
    """A map a determination cites: its version, dates and the SHA-256 of its file."""

    dataset_id: int
    name: str
    version: int = Field(ge=1)
    effective_date: dt.date | None
    imported_at: dt.datetime | None
    source_filename: str | None
    source_sha256: str | None = Field(pattern="^[0-9a-f]{64}$")
    study_name: str | None


HeightSource = Literal["dem", "wse_grid", "depth_grid", "bfe_static", "bfe_estimated",
                       "zone_depth", "wse_minus_ground", "ground_plus_depth", "given",
                       "ground_plus_height"]


class Height(Exact):
    """A height in the unit asked for, with its vertical datum and source, or null and why."""

    value: float | None
    unit: Literal["ft", "m"]
    vertical_datum: str | None
    source: HeightSource | None
    raster_id: int | None
    dataset_id: int | None
    reason: str | None


class FloodEvent(Exact):
    """One flood event at the point (1 = the 1% annual chance flood)."""

    annual_chance_percent: float = Field(ge=0, le=100)
    water_surface_elevation: Height
    depth: Height
    water_above_first_floor: Height | None


class LomaCandidate(Exact):
    """Whether the ground is at or above the 1% water surface inside the SFHA."""

    candidate: bool | None
    ground: Height | None
    water_surface: Height | None
    reason: str | None
    note: str


class RasterCited(Exact):
    """A raster the heights were read from."""

    id: int
    dataset_id: int
    dataset_name: str
    kind: Literal["dem", "depth", "wse"]
    event_percent: float | None
    vertical_datum: str | None
    unit: Literal["m", "ft", "ftUS"]
    sha256: str = Field(pattern="^[0-9a-f]{64}$")


class FloodDepth(Exact):
    """How deep: ground, water surface and depth per event, water above a first floor."""

    unit: Literal["ft", "m"]
    ground_elevation: Height
    first_floor_elevation: Height | None
    events: list[FloodEvent]
    loma_candidate: LomaCandidate
    rasters: list[RasterCited]


class Determination(Exact):
    """What FEMA Form 086-0-32 Section II asks for, with the reasons for missing answers."""

    as_of: dt.date
    firm_panel: FirmPanel | None
    community: NfipCommunity | None
    lomrs: list[LomrInForce]
    cbrs: CbrsStatus
    bfe: BaseFloodElevation
    sfha_boundary: SfhaBoundary
    near_sfha_boundary: bool
    review: str | None
    citations: list[Citation]
    permalink: str
    reasons: dict[str, str]
    disclaimer: str
    depth: FloodDepth | None


class PointReport(Exact):
    """GET /lookup: the flood risk of a point."""

    query: LonLat
    status: Status
    status_label: str
    in_sfha: bool
    zones: list[ZoneHit]
    nearest_high_risk: NearestZone | None
    nearest_search_radius_m: float
    datasets: list[DatasetInfo]
    determination: Determination = None  # type: ignore[assignment]


class BatchRow(Exact):
    """One point of a batch: the decisive facts (and the whole report with detail=full)."""

    id: Any
    lon: float | None
    lat: float | None
    status: Status | None
    in_sfha: bool | None
    zone: str | None
    zones: list[str | None]
    bfe: float | None
    vertical_datum: str | None
    depth: float | None
    floodway: bool | None
    dataset: str | None
    effective_date: dt.date | None
    firm_pan: str | None
    cid: str | None
    ground_elevation: float | None
    flood_depth_1pct: float | None
    elevation_unit: Literal["ft", "m"] | None
    loma_candidate: bool | None
    error: str | None
    report: PointReport = None  # type: ignore[assignment]


class BatchResults(Exact):
    """POST /lookup/batch as JSON."""

    count: int = Field(ge=0)
    results: list[BatchRow]


class PointGeometry(Exact):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2)


class BatchFeature(Exact):
    type: Literal["Feature"]
    id: Any = None
    geometry: PointGeometry | None
    # The input's own properties, then the row's members.
    properties: dict[str, Any]


class BatchFeatures(Exact):
    """POST /lookup/batch as GeoJSON."""

    type: Literal["FeatureCollection"]
    features: list[BatchFeature]


class StatusArea(Exact):
    status: Status
    label: str
    area_m2: float
    share: float


class ZoneArea(ZoneHit):
    area_m2: float
    share: float


class Exposure(Exact):
    """POST /lookup/area: how much of a parcel is in each zone and risk status."""

    area_m2: float = Field(ge=0)
    max_status: Status
    sfha_share: float
    unmapped_share: float
    repaired: bool
    by_status: list[StatusArea]
    by_zone: list[ZoneArea]
    datasets: list[DatasetInfo]
    depth: ParcelDepth | None


class ParcelEvent(Exact):
    """One flood event over a parcel, from its depth grid (coverage-weighted)."""

    annual_chance_percent: float = Field(ge=0, le=100)
    wet_area_share: float | None = Field(ge=0, le=1)
    depth_min: float | None
    depth_mean: float | None
    depth_max: float | None
    grid_area_share: float | None = Field(ge=0, le=1)
    raster_id: int | None
    source: Literal["depth_grid", "wse_minus_ground"]
    reason: str | None


class ParcelDepth(Exact):
    """POST /lookup/area's depths: per event, and the parcel's lowest ground."""

    unit: Literal["ft", "m"]
    lowest_ground_elevation: Height
    events: list[ParcelEvent]
    loma_candidate: LomaCandidate | None


class RasterLayerInfo(RasterCited):
    """A raster layer in scope, where it is and its tiles (depth grids)."""

    bbox: Bbox = Field(min_length=4, max_length=4)
    tiles: str | None


class ZoomRange(Exact):
    minzoom: int
    maxzoom: int


class DepthLegendClass(Exact):
    label: str
    colour: str = Field(pattern="^#[0-9a-f]{6}$")
    min_ft: float
    max_ft: float | None


class RasterLayers(Exact):
    """GET /rasters: raster layers, the zooms of their tiles, the depth legend."""

    rasters: list[RasterLayerInfo]
    tiles: ZoomRange
    depth_legend: list[DepthLegendClass]


class Place(Exact):
    label: str
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    bbox: Bbox | None = Field(min_length=4, max_length=4)


class Places(Exact):
    """GET /geocode."""

    query: str
    places: list[Place]


# --- datasets, exports, tokens, users, audit -------------------------------------------------


class DatasetState(DatasetProperties):
    """A dataset's import state and report: its provenance (as in its feature) and more."""

    id: int
    progress: float | None
    error: str | None
    report: dict[str, Any] | None
    links: list[Link]


class DatasetList(Exact):
    """GET /datasets."""

    datasets: list[DatasetState]


class Export(Exact):
    """An export written by the worker."""

    id: str
    dataset_id: int
    format: ExportFormatName
    status: ExportStatus
    filename: str
    size_bytes: int | None
    created_at: dt.datetime | None
    finished_at: dt.datetime | None
    expires_at: dt.datetime | None
    error: str | None
    download: str = Field(None, description="The file, once ready")
    links: list[Link]


class Token(Exact):
    """An API token's public record; `token` (the secret) only when created."""

    id: int
    name: str
    prefix: str
    created_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked: bool
    token: str = None  # type: ignore[assignment]


class SignedOut(Exact):
    """How many sign-ins of a user were ended."""

    user_id: int
    email: str
    revoked_sign_ins: int = Field(ge=0)


class AuditEvent(Exact):
    id: int
    occurred_at: str
    user: dict[str, Any] | None
    action: str
    method: str | None
    path: str | None
    target: dict[str, Any] | None
    status: int
    client_addr: str | None
    user_agent: str | None
    details: dict[str, Any]


class AuditPage(Exact):
    """GET /audit: a page of events, newest first."""

    events: list[AuditEvent]
    limit: int
    offset: int
    links: list[Link]
