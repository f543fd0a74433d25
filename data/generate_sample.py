"""Generate the synthetic NFHL-schema sample of the lower Manasquan River, New Jersey.

The shapes are drawn in metres around the Manasquan Inlet (where the river meets the Atlantic)
and follow the pattern of a real coastal-riverine flood map: ocean, a VE wave strip, coastal
AE, a river with a floodway and AE reaches (one without a static BFE, as riverine reaches
often are), an unstudied A reach and tributary, AO/AH ponding, the 0.2% annual chance X band,
minimal-hazard X with holes, a D area and a corner left unmapped. Zones never overlap within
the dataset: each one is its shape minus the zones drawn before it.

Outputs (deterministic, committed):
- ``sample/manasquan_nfhl.geojson``  EPSG:4326, 7 decimals.
- ``sample/manasquan_nfhl_nj_stateplane.zip``  shapefile in NAD83 / New Jersey (ftUS),
  EPSG:3424, with the Esri-style ``.prj`` GDAL writes and a cp1252 ``.dbf`` + ``.cpg``.
- ``sample/known_points.json``  named points inside chosen zones, for the docs and tests.
- ``sample/manasquan_nfhl_package.zip``  a whole NFHL/DFIRM package as FEMA's Map Service
  Center hands it out: shapefiles and ``.dbf`` tables in a ``34025C_20180103/`` folder
  (S_FLD_HAZ_AR, S_FIRM_PAN, S_POL_AR, L_COMM_INFO, S_LOMR, S_BFE, S_XS, S_CBRS, STUDY_INFO
  and S_GEN_STRUCT, a layer the importer does not use), EPSG:3424, cp1252 ``.dbf`` + ``.cpg``.
- ``sample/manasquan_nfhl_package.gdb.zip``  the same layers in one File Geodatabase,
  ``34025C.gdb``, in NAD83 (EPSG:4269); the tables are non-spatial tables.
- ``sample/package_points.json``  named points with what a determination there must say
  (panel, community, LOMR, CBRS unit, BFE estimated from the BFE lines), computed from the
  shapes drawn here.
- ``sample/manasquan_dem.tif``  a ground model that agrees with the zones: Float32 elevations in
  metres NAVD88, 10 m cells over the map plus 50 m, in NAD83 / UTM 18N + NAVD88 height
  (EPSG:26918+5703, a GeoTIFF 1.1 compound CRS), band unit ``metre``; multiples of 1/128 m.
  Ground is 0.5 to about 6 ft below the BFE in the zones with one (static, or estimated from
  the BFE lines as ``package_points.json`` does), but for a knoll 0.5 to 1 ft above it in the
  BFE 10 ft reach's fringe (a LOMA candidate); 1.5 ft or more above the BFE of the nearest zone
  with one outside the Special Flood Hazard Area, rising away; far below it in VE and at sea.
- ``sample/manasquan_depth_1pct.tif``  the 1% annual chance water depth on the same grid, in
  feet (band unit ``ft``), EPSG:26918: BFE less ground where that is above 0 in a zone with a
  BFE, nodata (-9999) where dry (the knoll) and where there is no BFE. Both rasters: tiled
  256 x 256, DEFLATE with the floating-point predictor.
- ``sample/depth_points.json``  named points at cell centres (lon/lat, 7 decimals) with the
  rasters' values there as stored, the zone and its BFE.

Every output is byte-for-byte the same on every run, on any day: the ``.dbf`` header's
last-update date is pinned, zip members have fixed timestamps and sorted names, the File
Geodatabase's item UUIDs come from GDAL's reproducible generator, and the GeoTIFFs carry no
date (GDAL writes a DateTime tag only when given one).

Run: ``python data/generate_sample.py``.
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyogrio
import rasterio
import shapely
from pyproj import CRS, Transformer
from rasterio.transform import Affine
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from shapely.ops import polylabel, unary_union

OUT_DIR = Path(__file__).resolve().parent / "sample"
GEOJSON_NAME = "manasquan_nfhl.geojson"
SHAPEFILE_NAME = "manasquan_nfhl_nj_stateplane"
KNOWN_POINTS_NAME = "known_points.json"
PACKAGE_NAME = "manasquan_nfhl_package"
PACKAGE_POINTS_NAME = "package_points.json"
DEM_NAME = "manasquan_dem.tif"
DEPTH_NAME = "manasquan_depth_1pct.tif"
DEPTH_POINTS_NAME = "depth_points.json"

# Local metric frame centred on the Manasquan Inlet.
INLET_LON, INLET_LAT = -74.0345, 40.1020
LOCAL = CRS.from_proj4(
    f"+proj=aeqd +lat_0={INLET_LAT} +lon_0={INLET_LON} +datum=WGS84 +units=m +no_defs"
)
WGS84 = CRS.from_epsg(4326)
NAD83 = CRS.from_epsg(4269)
NJ_STATE_PLANE_FT = CRS.from_epsg(3424)
UTM_18N = CRS.from_epsg(26918)

DFIRM_ID = "34025C"
NOTE = "Synthetic sample – not an official FEMA product"

EXTENT = box(-9000, -3000, 2500, 3000)
UNMAPPED_CORNER = box(-9000, -3000, -6500, -1800)
COAST_X = 0.0
VE_FROM_X = 500.0
OCEAN_FROM_X = 1200.0
COASTAL_AE_BFE = 11.0
RIVER_WEST_X = -9000.0
STUDIED_WEST_X = -6000.0
REACH_LIMITS = (0.0, -2000.0, -4000.0, STUDIED_WEST_X)  # east to west
REACH_BFES = (9.0, 10.0, -9999.0)  # the westmost studied reach has no static BFE
SEGMENT_M = 20.0  # spacing of the river centreline vertices
# GDAL writes the day it runs into a .dbf header unless told a date: pinned, so the shapefiles
# are the same on any day (this is the date the first sample was generated on).
DBF_LAST_UPDATE = "2026-11-25"

# The whole package (FEMA's FIRM Database layers around S_FLD_HAZ_AR).
PACKAGE_FOLDER = f"{DFIRM_ID}_20180103"  # as the Map Service Center names a download
GDB_NAME = f"{DFIRM_ID}.gdb"
VERSION_ID = "1.1.1.0"
SOURCE_CIT = f"{DFIRM_ID}_STUDY1"
# FEMA's sentinels: a text not populated, a number with no value, dates not applicable / not known.
NOT_POPULATED = "NP"
NO_VALUE = -9999.0
NOT_APPLICABLE_DATE = "8888-08-08"
NOT_KNOWN_DATE = "9999-09-09"
EFFECTIVE_DATE = "2018-01-03"
PANEL_SPLIT_X, PANEL_SPLIT_Y = -4000.0, 1000.0  # the 2x2 FIRM panel grid
COMMUNITY_SPLIT_X = -3000.0  # Brielle to the west, Manasquan to the east
LOMR_AREA = box(-1800, -200, -1100, 150)  # the north bank's fringe where the BFE is 9 ft
CBRS_AREA = box(150, -2600, 1600, -900)  # coastal AE, VE and open water south of the inlet
# BFE lines (easting, elevation in feet NAVD88), east to west: the westmost studied reach
# (-4000 to -6000, no static BFE) is bracketed by lines at both ends and one in the middle.
BFE_LINES = ((-1000.0, 9.0), (-2800.0, 10.0), (-4000.0, 11.0), (-5000.0, 12.0), (-6000.0, 14.0))
CROSS_SECTIONS = ((-500.0, "A"), (-2500.0, "B"), (-4500.0, "C"), (-5500.0, "D"), (-6500.0, "E"))
# BFE lines and cross sections end this far from the centreline: past the AE fringe (350 m),
# inside the 0.2% annual chance band (650 m).
CROSS_LINE_REACH_M = 500.0
# Named package points keep at least this far from every polygon edge of every layer.
CLEARANCE_M = 30.0
FEET_PER_METRE = 1 / 0.3048

# The rasters: the DEM (metres, NAD83 / UTM 18N + NAVD88 height) and the 1% annual chance depth
# grid (feet, UTM 18N) on the same grid, CELL_M cells over the map plus a margin.
DEM_CRS = "EPSG:26918+5703"
CELL_M = 10.0
RASTER_MARGIN_M = 50.0
RASTER_NODATA = -9999.0
# The DEM's values are multiples of 1/128 m (8 mm): the low bits of each float are zero, so the
# DEFLATE'd file is a seventh of the size.
GROUND_STEP_M = 1 / 128
FRINGE_M = 350.0  # the AE fringe's reach from the river centreline (draw_zones)
# Ground in a zone with a BFE is 0.5 ft below it at the edge, 6 ft at the river centreline; outside
# the Special Flood Hazard Area it is at least 1.5 ft above the BFEs near it, rising away.
MIN_BELOW_BFE_FT = 0.5
CHANNEL_FT = 5.5
ABOVE_BFE_FT = 1.5
# The river's reference level ramps up over RAMP_M upstream of each step of its BFE; the level
# under the high ground tops every BFE within HIGH_REACH_M of easting.
RAMP_M = 300.0
HIGH_REACH_M = 300.0
BEACH_FT, SHORELINE_FT, SEA_FLOOR_FT = 5.0, -3.0, -30.0  # at the VE zone's edges, far out to sea
# A knoll in the AE fringe of the BFE 10 ft reach, 0.55 to 0.9 ft above the BFE: a LOMA
# candidate. It stands on the south bank at about this easting and distance from the centreline.
KNOLL_EASTING, KNOLL_OFFSET_M = -3300.0, -220.0
KNOLL_RADIUS_M, KNOLL_SKIRT_M = 40.0, 60.0
KNOLL_TOP_FT, KNOLL_RIM_FT = 0.9, 0.55


def river_centreline() -> LineString:
    """A meandering line from the inlet west to the edge of the map."""
    xs = np.arange(VE_FROM_X, RIVER_WEST_X - SEGMENT_M, -SEGMENT_M)
    ys = 400.0 * np.sin(xs / 1800.0) + 120.0 * np.sin(xs / 530.0)
    return LineString(np.column_stack([xs, ys]))


def ellipse(x: float, y: float, rx: float, ry: float, angle_deg: float = 0.0) -> Polygon:
    """An ellipse as a 64-sided polygon."""
    t = np.linspace(0, 2 * math.pi, 64, endpoint=False)
    a = math.radians(angle_deg)
    px, py = rx * np.cos(t), ry * np.sin(t)
    ring = np.column_stack(
        [x + px * math.cos(a) - py * math.sin(a), y + px * math.sin(a) + py * math.cos(a)]
    )
    return Polygon(ring)


def zone(geometry, fld_zone: str, subtype: str = "", *, bfe: float = -9999.0,
         depth: float = -9999.0, note: str = NOTE) -> dict:
    """One S_FLD_HAZ_AR-style record (geometry in the local frame)."""
    sfha = fld_zone in {"A", "AE", "AH", "AO", "A99", "AR", "V", "VE"}
    has_elevation = bfe != -9999.0 or depth != -9999.0
    return {
        "geometry": geometry,
        "DFIRM_ID": DFIRM_ID,
        "VERSION_ID": "1.1.1.0",
        "FLD_AR_ID": "",  # numbered after assembly
        "STUDY_TYP": "NP",
        "FLD_ZONE": fld_zone,
        "ZONE_SUBTY": subtype,
        "SFHA_TF": "T" if sfha else "F",
        "STATIC_BFE": bfe,
        "V_DATUM": "NAVD88" if has_elevation else "",
        "DEPTH": depth,
        "LEN_UNIT": "Feet" if has_elevation else "",
        "VELOCITY": -9999.0,
        "VEL_UNIT": "",
        "AR_REVERT": "",
        "AR_SUBTRV": "",
        "BFE_REVERT": -9999.0,
        "DEP_REVERT": -9999.0,
        "DUAL_ZONE": "",
        "SOURCE_CIT": f"{DFIRM_ID}_FIS1",
        "NOTE": note,
    }


def x_band(x_from: float, x_to: float) -> Polygon:
    """The part of the map between two eastings."""
    return box(min(x_from, x_to), -3000, max(x_from, x_to), 3000)


def draw_zones() -> list[dict]:
    """All zones in drawing order; later zones are clipped by earlier ones."""
    river = river_centreline()
    studied = river.intersection(x_band(COAST_X + 400, STUDIED_WEST_X))
    floodway = studied.buffer(90, cap_style="flat")
    fringe = studied.buffer(350, cap_style="flat")
    ponds_north = MultiPolygon([ellipse(-1200, 1800, 260, 170, 20), ellipse(-700, 2300, 180, 120)])
    zones: list[dict] = [
        zone(x_band(OCEAN_FROM_X, 2500), "OPEN WATER"),
        zone(x_band(VE_FROM_X, OCEAN_FROM_X), "VE", bfe=14.0),
        zone(x_band(COAST_X, VE_FROM_X), "AE", bfe=COASTAL_AE_BFE),
    ]
    for (east, west), bfe in zip(pairwise(REACH_LIMITS), REACH_BFES, strict=True):
        zones.append(zone(floodway.intersection(x_band(east, west)), "AE", "FLOODWAY", bfe=bfe))
    for (east, west), bfe in zip(pairwise(REACH_LIMITS), REACH_BFES, strict=True):
        zones.append(zone(fringe.intersection(x_band(east, west)), "AE", bfe=bfe))
    upstream = river.intersection(x_band(STUDIED_WEST_X, RIVER_WEST_X)).buffer(250)
    tributary = LineString([(-3000, 0), (-3150, 900), (-3500, 1700), (-3400, 2700)]).buffer(80)
    zones += [
        # An unstudied reach and a tributary creek: one multipart A zone.
        zone(unary_union([upstream, tributary]), "A"),
        zone(ponds_north, "AO", bfe=-9999.0, depth=1.0,
             note="Ponding near Glimmer Glass – sheet flow, café row"),
        zone(ellipse(-5000, -2000, 210, 160), "AO", depth=2.0),
        zone(ellipse(-2500, -2300, 160, 110, -30), "AH", bfe=7.0),
        zone(box(-8800, 1800, -7800, 2800), "D"),
        zone(
            unary_union([
                river.intersection(x_band(COAST_X, RIVER_WEST_X)).buffer(650),
                ponds_north.buffer(160),
                x_band(COAST_X - 300, COAST_X),
            ]),
            "X", "0.2 PCT ANNUAL CHANCE FLOOD HAZARD",
        ),
        zone(EXTENT, "X", "AREA OF MINIMAL FLOOD HAZARD"),
    ]
    drawn = UNMAPPED_CORNER
    for record in zones:
        shape = record["geometry"].intersection(EXTENT).difference(drawn)
        shape = shapely.make_valid(shapely.set_precision(shape, 0.01))
        polygons = [g for g in getattr(shape, "geoms", [shape]) if isinstance(g, Polygon)]
        record["geometry"] = MultiPolygon(polygons) if len(polygons) > 1 else polygons[0]
        drawn = unary_union([drawn, record["geometry"]])
    for number, record in enumerate(zones, start=1):
        record["FLD_AR_ID"] = f"{DFIRM_ID}_{number}"
    return zones


def known_points(zones: list[dict]) -> list[dict]:
    """Named points (local frame) inside chosen zones, plus one unmapped and one in a hole."""
    def first(fld_zone: str, subtype: str = "", bfe: float | None = None) -> dict:
        return next(
            z for z in zones
            if z["FLD_ZONE"] == fld_zone and z["ZONE_SUBTY"] == subtype
            and (bfe is None or z["STATIC_BFE"] == bfe)
        )

    def inside(record: dict) -> Point:
        return record["geometry"].point_on_surface()

    minimal = first("X", "AREA OF MINIMAL FLOOD HAZARD")
    chosen = [
        ("floodway", first("AE", "FLOODWAY", 9.0)),
        ("ae_with_bfe", first("AE", "", 10.0)),
        ("ae_without_bfe", first("AE", "", -9999.0)),
        ("coastal_ve", first("VE")),
        ("ao_depth", first("AO", bfe=-9999.0)),
        ("a_unstudied", first("A")),
        ("x_0_2_pct", first("X", "0.2 PCT ANNUAL CHANCE FLOOD HAZARD")),
        ("x_minimal", minimal),
        ("undetermined_d", first("D")),
        ("open_water", first("OPEN WATER")),
    ]
    points = [
        {"name": name, "point": inside(record), "fld_ar_id": record["FLD_AR_ID"]}
        for name, record in chosen
    ]
    points.append({"name": "unmapped", "point": UNMAPPED_CORNER.centroid, "fld_ar_id": None})
    # The isolated AH pond south of the river is a hole of the minimal X zone.
    pond = first("AH")
    points.append({"name": "hole_in_minimal_x", "point": pond["geometry"].centroid,
                   "fld_ar_id": pond["FLD_AR_ID"], "not_in": minimal["FLD_AR_ID"]})
    return points


@dataclass(frozen=True)
class Layer:
    """One layer of the package: its FEMA name, its geometry type (None: a table), its records."""

    name: str
    geometry_type: str | None
    records: list[dict]


def day(text: str) -> np.datetime64:
    """A date, for a date field."""
    return np.datetime64(text, "D")


def feature(geometry=None, **fields) -> dict:
    """One package record with FEMA's common fields around the layer's own (geometry local)."""
    record = {} if geometry is None else {"geometry": geometry}
    return {**record, "DFIRM_ID": DFIRM_ID, "VERSION_ID": VERSION_ID, **fields,
            "SOURCE_CIT": SOURCE_CIT}


def crossing(river: LineString, x: float) -> Point:
    """Where the river centreline crosses an easting (it runs steadily west: once)."""
    point = river.intersection(LineString([(x, -3000), (x, 3000)]))
    assert isinstance(point, Point), point
    return point


def cross_line(river: LineString, x: float) -> LineString:
    """A north-south line across the river at easting x, ending CROSS_LINE_REACH_M from the
    centreline on both banks (the river runs within 25 degrees of east-west: perpendicular-ish)."""
    y0 = crossing(river, x).y

    def end(sign: float) -> float:
        near, far = 0.0, 3 * CROSS_LINE_REACH_M
        for _ in range(60):
            mid = (near + far) / 2
            if Point(x, y0 + sign * mid).distance(river) < CROSS_LINE_REACH_M:
                near = mid
            else:
                far = mid
        return round(y0 + sign * far, 2)

    return LineString([(x, end(-1.0)), (x, end(1.0))])


def firm_panels(zones: list[dict]) -> list[dict]:
    """A 2x2 grid of FIRM panels over the map, none over the unmapped corner; a panel with no
    Special Flood Hazard Area is not printed (found from the zones, not chosen)."""
    grid = (
        ("0451", box(-9000, PANEL_SPLIT_Y, PANEL_SPLIT_X, 3000)),  # north-west
        ("0452", box(PANEL_SPLIT_X, PANEL_SPLIT_Y, 2500, 3000)),  # north-east
        ("0453", box(-9000, -3000, PANEL_SPLIT_X, PANEL_SPLIT_Y)),  # south-west
        ("0454", box(PANEL_SPLIT_X, -3000, 2500, PANEL_SPLIT_Y)),  # south-east
    )
    revised = "0452"  # reissued as suffix G by a later physical map revision
    sfha = unary_union([z["geometry"] for z in zones if z["SFHA_TF"] == "T"])
    records = []
    for panel, shape in grid:
        if shape.intersects(UNMAPPED_CORNER):
            shape = shape.difference(UNMAPPED_CORNER)
        printed = shape.intersection(sfha).area > 0
        suffix = "G" if panel == revised else "F"
        records.append(feature(
            shape,
            FIRM_PAN=f"{DFIRM_ID}{panel}{suffix}",
            PANEL=panel,
            SUFFIX=suffix,
            EFF_DATE=day("2021-06-15" if panel == revised else EFFECTIVE_DATE),
            SCALE="6000",
            PANEL_TYP="Countywide, Panel Printed" if printed else "Countywide, Panel Not Printed",
            PNP_REASON=NOT_POPULATED if printed else "No Special Flood Hazard Areas",
            ST_FIPS="34",
            PCOMM=NOT_POPULATED,
        ))
    assert sum(r["PANEL_TYP"].endswith("Not Printed") for r in records) == 1, \
        "exactly one panel is drawn without a Special Flood Hazard Area"
    return records


COMMUNITIES = (  # COM_NFO_ID, CID, community number, name, area
    ("34025C_1", "340301", "0301", "BOROUGH OF MANASQUAN",
     box(COMMUNITY_SPLIT_X, -3000, 2500, 3000)),
    ("34025C_2", "340289", "0289", "BOROUGH OF BRIELLE",
     box(-9000, -3000, COMMUNITY_SPLIT_X, 3000)),
)


def political_areas() -> list[dict]:
    """The two communities, split north-south west of the inlet."""
    return [
        feature(shape, POL_AR_ID=key, POL_NAME1=name, POL_NAME2=NOT_POPULATED,
                POL_NAME3=NOT_POPULATED, CO_FIPS="025", ST_FIPS="34", COMM_NO=comm_no, CID=cid,
                ANI_TF="F", COM_NFO_ID=key)
        for key, cid, comm_no, name, shape in COMMUNITIES
    ]


def community_info() -> list[dict]:
    """L_COMM_INFO: one row per community, with FEMA's sentinel dates and an NP text."""
    def row(key: str, address: str, city: str, zip_code: str, identified: str,
            entered: str, first_firm: str, revisions: tuple[str, str, str]) -> dict:
        return feature(
            COM_NFO_ID=key, REPOS_ADR1=address, REPOS_ADR2=NOT_POPULATED, REPOS_CITY=city,
            REPOS_ST="NJ", REPOS_ZIP=zip_code, IN_ID_DAT=day(identified),
            IN_NFIP_DT=day(entered), IN_FRM_DAT=day(first_firm), RECENT_DAT=day(EFFECTIVE_DATE),
            REVIS_1_DT=day(revisions[0]), REVIS_2_DT=day(revisions[1]),
            REVIS_3_DT=day(revisions[2]),
        )

    return [
        # The date it entered the NFIP is not known; no third revision (not applicable).
        row("34025C_1", "201 EAST MAIN STREET", "MANASQUAN", "08736", "1974-05-31",
            NOT_KNOWN_DATE, "1977-09-15", ("1985-09-18", "2009-09-25", NOT_APPLICABLE_DATE)),
        # Never identified by a flood hazard boundary map: the identified date does not apply.
        row("34025C_2", "601 UNION LANE", "BRIELLE", "08730", NOT_APPLICABLE_DATE,
            "1974-07-19", "1978-03-01", ("1985-08-19", "2009-09-25", NOT_APPLICABLE_DATE)),
    ]


def lomrs() -> list[dict]:
    """One Letter of Map Revision over the north bank's fringe in the BFE 9 reach."""
    return [feature(LOMR_AREA, LOMR_ID=f"{DFIRM_ID}_LOMR1", CASE_NO="19-02-1234P",
                    EFF_DATE=day("2020-06-15"), STATUS="Effective", SCALE=NOT_POPULATED)]


def cbrs_units() -> list[dict]:
    """One Otherwise Protected Area of the Coastal Barrier Resources System on the coast."""
    return [feature(CBRS_AREA, CBRS_ID="NJ-07P", CBRS_TYP="Otherwise Protected Area",
                    CBRS_DT=day("1990-11-16"))]


def bfe_lines(river: LineString) -> list[dict]:
    """Base flood elevation lines across the floodplain, rising upstream."""
    return [
        feature(cross_line(river, x), BFE_LN_ID=f"{DFIRM_ID}_{number}", ELEV=elev,
                LEN_UNIT="Feet", V_DATUM="NAVD88")
        for number, (x, elev) in enumerate(BFE_LINES, start=1)
    ]


def cross_sections(river: LineString) -> list[dict]:
    """Lettered cross sections: station in feet from the mouth, the 1% water surface read off
    the BFE lines' profile; the one in the unstudied A reach has no model values (-9999)."""
    mouth = river.project(Point(COAST_X, 0.0))
    profile_x = [-x for x, _ in BFE_LINES]
    profile_elev = [elev for _, elev in BFE_LINES]
    records = []
    for number, (x, letter) in enumerate(CROSS_SECTIONS, start=1):
        station_m = river.project(crossing(river, x)) - mouth
        studied = x >= STUDIED_WEST_X
        wsel = round(float(np.interp(-x, profile_x, profile_elev)), 1) if studied else NO_VALUE
        bed = round(-8.0 + 1.5 * station_m / 1000, 1) if studied else NO_VALUE
        records.append(feature(
            cross_line(river, x), XS_LN_ID=f"{DFIRM_ID}_{number}", XS_LTR=letter,
            XS_LN_TYP="LETTERED, MAPPED", WTR_NM="MANASQUAN RIVER",
            STREAM_STN=float(round(station_m * FEET_PER_METRE)), WSEL_REG=wsel,
            STRMBED_EL=bed, LEN_UNIT="Feet", V_DATUM="NAVD88",
        ))
    return records


def study_info() -> dict:
    """STUDY_INFO's one row."""
    return feature(
        STUDY_PRE=NOT_POPULATED, STUDY_NM="MONMOUTH COUNTY, NEW JERSEY (ALL JURISDICTIONS)",
        STATE_NM="NEW JERSEY", CNTY_NM="MONMOUTH COUNTY", JURIS_TYP="Countywide",
        LNDWD_VINT=NOT_POPULATED, H_DATUM="NAD83", V_DATUM="NAVD88",
        PROJECTION="NAD 1983 StatePlane New Jersey FIPS 2900 Feet", CW_TF="T", RTROFT_TF="F",
        MAP_UNITS="Feet", OPP_TF="U",
    )


def general_structures(river: LineString) -> list[dict]:
    """Two short levees along the river: a layer the importer does not use (it lists it)."""
    levees = (
        river.intersection(x_band(-2600, -2200)).offset_curve(-320),  # north bank
        river.intersection(x_band(-3900, -3500)).offset_curve(320),  # south bank
    )
    return [
        feature(shapely.set_precision(levee, 0.01), STRUCT_ID=f"{DFIRM_ID}_{number}",
                STRUCT_TYP="Levee", STRUCT_NM=NOT_POPULATED, WTR_NM="MANASQUAN RIVER",
                SHOWN_FIRM="T")
        for number, levee in enumerate(levees, start=1)
    ]


def draw_package(zones: list[dict]) -> list[Layer]:
    """Every layer of the package, S_FLD_HAZ_AR (the zones) first."""
    river = river_centreline()
    layers = [
        Layer("S_FLD_HAZ_AR", "MultiPolygon", zones),
        Layer("S_FIRM_PAN", "MultiPolygon", firm_panels(zones)),
        Layer("S_POL_AR", "MultiPolygon", political_areas()),
        Layer("L_COMM_INFO", None, community_info()),
        Layer("S_LOMR", "MultiPolygon", lomrs()),
        Layer("S_BFE", "MultiLineString", bfe_lines(river)),
        Layer("S_XS", "MultiLineString", cross_sections(river)),
        Layer("S_CBRS", "MultiPolygon", cbrs_units()),
        Layer("STUDY_INFO", None, [study_info()]),
        Layer("S_GEN_STRUCT", "MultiLineString", general_structures(river)),
    ]
    check_package(zones, {layer.name: layer.records for layer in layers})
    return layers


def zone_with(zones: list[dict], **fields) -> dict:
    """The one zone with these attribute values."""
    (found,) = [z for z in zones if all(z[k] == v for k, v in fields.items())]
    return found


def check_package(zones: list[dict], layers: dict[str, list[dict]]) -> None:
    """What the README says of the package holds for the shapes drawn."""
    def area(records: list[dict]):
        return unary_union([r["geometry"] for r in records])

    assert area(layers["S_POL_AR"]).symmetric_difference(EXTENT).area < 1e-6
    panels = area(layers["S_FIRM_PAN"])
    assert panels.intersection(UNMAPPED_CORNER).area == 0
    assert panels.union(UNMAPPED_CORNER).symmetric_difference(EXTENT).area < 1e-6
    moderate = zone_with(zones, FLD_ZONE="X", ZONE_SUBTY="0.2 PCT ANNUAL CHANCE FLOOD HAZARD")
    fringe = unary_union([z["geometry"] for z in zones
                          if z["FLD_ZONE"] == "AE" and z["ZONE_SUBTY"] == ""])
    for line in layers["S_BFE"] + layers["S_XS"]:
        ends = [Point(c) for c in line["geometry"].coords]
        assert all(moderate["geometry"].contains(end) for end in ends), line
        assert all(not fringe.intersects(end) for end in ends), line
    for line in layers["S_BFE"]:
        assert line["geometry"].intersection(fringe).length > 0, line
    no_bfe = [z["geometry"] for z in zones if z["FLD_ZONE"] == "AE" and z["STATIC_BFE"] == NO_VALUE]
    lomr = layers["S_LOMR"][0]["geometry"]
    assert all(lomr.intersection(g).area == 0 for g in no_bfe)
    assert lomr.intersection(zone_with(zones, FLD_ZONE="AE", ZONE_SUBTY="", STATIC_BFE=9.0)
                             ["geometry"]).area > 0
    cbrs = layers["S_CBRS"][0]["geometry"]
    assert cbrs.bounds[0] > COAST_X
    assert all(cbrs.intersection(zone_with(zones, FLD_ZONE=z, STATIC_BFE=bfe)["geometry"]).area > 0
               for z, bfe in (("VE", 14.0), ("AE", 11.0)))


def covering(records: list[dict], point: Point) -> dict | None:
    """The one record whose polygon covers the point, or None."""
    hits = [r for r in records if r["geometry"].covers(point)]
    assert len(hits) <= 1, hits
    return hits[0] if hits else None


def estimated_bfe(point: Point, zone_record: dict | None, lines: list[dict],
                  river: LineString) -> tuple[float | None, list[dict]]:
    """The BFE of a point in an A/AE zone without a static BFE, from the BFE lines of that
    zone: the nearest one downstream and upstream (by river station), weighted by distance."""
    if (zone_record is None or zone_record["FLD_ZONE"] not in {"A", "AE"}
            or zone_record["STATIC_BFE"] != NO_VALUE):
        return None, []
    station = river.project(point)
    sides: dict[bool, list[tuple[float, dict]]] = {False: [], True: []}
    for line in lines:
        if line["geometry"].distance(zone_record["geometry"]) < 1.0:
            line_station = river.project(line["geometry"].intersection(river))
            sides[line_station > station].append((abs(line_station - station), line))
    if not sides[False] or not sides[True]:
        return None, []
    down, up = (min(sides[side], key=lambda pair: pair[0])[1] for side in (False, True))
    d_down, d_up = point.distance(down["geometry"]), point.distance(up["geometry"])
    estimate = (down["ELEV"] * d_up + up["ELEV"] * d_down) / (d_down + d_up)
    used = [{"bfe_ln_id": line["BFE_LN_ID"], "elev": line["ELEV"], "distance_m": round(d, 2)}
            for line, d in ((down, d_down), (up, d_up))]
    return round(estimate, 2), used


def package_points(zones: list[dict], layers: list[Layer]) -> list[dict]:
    """Named points and what a determination there must say, from the shapes drawn.

    Each point is rounded as published (6 decimals of WGS84) and its answers are worked out
    for that rounded point, with shapely in the local frame.
    """
    by_name = {layer.name: layer.records for layer in layers}
    river = river_centreline()
    polygon_layers = ("S_FLD_HAZ_AR", "S_FIRM_PAN", "S_POL_AR", "S_LOMR", "S_CBRS")
    edges = unary_union([r["geometry"].boundary for name in polygon_layers
                         for r in by_name[name]])
    minimal = zone_with(zones, FLD_ZONE="X", ZONE_SUBTY="AREA OF MINIMAL FLOOD HAZARD")
    panels = {r["PANEL"]: r["geometry"] for r in by_name["S_FIRM_PAN"]}
    not_printed = next(r["geometry"] for r in by_name["S_FIRM_PAN"]
                       if r["PANEL_TYP"].endswith("Not Printed"))
    revised = next(r["geometry"] for r in by_name["S_FIRM_PAN"] if r["SUFFIX"] != "F")
    communities = {r["CID"]: r["geometry"] for r in by_name["S_POL_AR"]}
    lines = {r["ELEV"]: r["geometry"] for r in by_name["S_BFE"]}

    def roomy(*shapes) -> Point:
        """The point farthest from every edge in the shapes' common area."""
        room = shapely.intersection_all(shapes).difference(edges.buffer(CLEARANCE_M))
        return polylabel(max(getattr(room, "geoms", [room]), key=lambda g: g.area), 1.0)

    # On the BFE line at x = -5000, halfway across the no-BFE fringe.
    fringe = zone_with(zones, FLD_ZONE="AE", ZONE_SUBTY="", STATIC_BFE=NO_VALUE)
    on_line = lines[12.0].intersection(fringe["geometry"])
    piece = max(getattr(on_line, "geoms", [on_line]), key=lambda g: g.length)
    # On the centreline, as far from the line at x = -4000 as from the one at x = -5000.
    east, west = lines[11.0], lines[12.0]
    near, far = (river.project(crossing(river, x)) for x in (-4000.0, -5000.0))
    for _ in range(60):
        mid = (near + far) / 2
        probe = river.interpolate(mid)
        near, far = (mid, far) if probe.distance(east) < probe.distance(west) else (near, mid)
    fringe_bfe_9 = zone_with(zones, FLD_ZONE="AE", ZONE_SUBTY="", STATIC_BFE=9.0)
    chosen = [
        ("bfe_line_-5000", piece.interpolate(0.5, normalized=True)),
        ("between_-4000_-5000", river.interpolate((near + far) / 2)),
        ("lomr", roomy(by_name["S_LOMR"][0]["geometry"], fringe_bfe_9["geometry"])),
        ("cbrs", roomy(by_name["S_CBRS"][0]["geometry"],
                       zone_with(zones, FLD_ZONE="VE")["geometry"])),
        ("community_east", roomy(communities["340301"], revised, minimal["geometry"])),
        ("community_west", roomy(communities["340289"], panels["0453"], minimal["geometry"])),
        ("no_panel", UNMAPPED_CORNER.centroid),
        ("not_printed_panel", roomy(not_printed, minimal["geometry"])),
    ]
    points = []
    for name, exact in chosen:
        lonlat = to_crs(exact, WGS84)
        lon, lat = round(lonlat.x, 6), round(lonlat.y, 6)
        point = from_wgs84(Point(lon, lat))
        clearance = point.distance(edges)
        assert clearance >= CLEARANCE_M, (name, clearance)
        zone_record = covering(zones, point)
        panel = covering(by_name["S_FIRM_PAN"], point)
        community = covering(by_name["S_POL_AR"], point)
        lomr = covering(by_name["S_LOMR"], point)
        cbrs = covering(by_name["S_CBRS"], point)
        estimate, used = estimated_bfe(point, zone_record, by_name["S_BFE"], river)
        static = zone_record["STATIC_BFE"] if zone_record else NO_VALUE
        points.append({
            "name": name, "lon": lon, "lat": lat,
            "expected": {
                "fld_ar_id": zone_record["FLD_AR_ID"] if zone_record else None,
                "fld_zone": zone_record["FLD_ZONE"] if zone_record else None,
                "zone_subty": zone_record["ZONE_SUBTY"] if zone_record else None,
                "static_bfe": None if static == NO_VALUE else static,
                "bfe_estimate": estimate,
                "bfe_lines": used,
                "firm_pan": panel["FIRM_PAN"] if panel else None,
                "panel_typ": panel["PANEL_TYP"] if panel else None,
                "cid": community["CID"] if community else None,
                "lomr_case_no": lomr["CASE_NO"] if lomr else None,
                "cbrs_id": cbrs["CBRS_ID"] if cbrs else None,
            },
            "edge_clearance_m": round(clearance, 1),
        })
    return points


# --- The rasters: a ground model (DEM) and the 1% annual chance depth grid, as the zones say.


@dataclass(frozen=True)
class Grid:
    """The rasters' grid in NAD83 / UTM 18N: north up, CELL_M square cells."""

    transform: Affine
    width: int
    height: int

    def centres_local(self) -> tuple[np.ndarray, np.ndarray]:
        """The cell centres in the local frame, row by row (flat arrays)."""
        rows, cols = np.mgrid[0:self.height, 0:self.width]
        east, north = self.transform * (cols.ravel() + 0.5, rows.ravel() + 0.5)
        return Transformer.from_crs(UTM_18N, LOCAL, always_xy=True).transform(east, north)

    def cell(self, east: float, north: float) -> tuple[int, int] | None:
        """The (row, col) of the cell holding a UTM point, None off the grid."""
        col, row = (math.floor(v) for v in ~self.transform * (east, north))
        return (row, col) if 0 <= row < self.height and 0 <= col < self.width else None


def raster_grid() -> Grid:
    """The map's extent in UTM 18N, widened by RASTER_MARGIN_M and snapped out to whole cells."""
    west, south, east, north = to_crs(EXTENT.segmentize(50.0), UTM_18N).bounds
    west, south = (math.floor((v - RASTER_MARGIN_M) / CELL_M) * CELL_M for v in (west, south))
    east, north = (math.ceil((v + RASTER_MARGIN_M) / CELL_M) * CELL_M for v in (east, north))
    return Grid(Affine(CELL_M, 0.0, west, 0.0, -CELL_M, north),
                round((east - west) / CELL_M), round((north - south) / CELL_M))


def smoothstep(t):
    """0 up to t = 0, 1 from t = 1, an S-curve between."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


PROFILE_X = np.arange(-11000.0, 3001.0)  # eastings every metre, past the rasters' both ends


def river_bfe_ft(x):
    """The river's BFE by easting: the static reaches, the BFE lines' profile in the west reach
    (as the cross sections read it), and their last rise carried on up the unstudied reach."""
    lines_x, lines_elev = [-bx for bx, _ in BFE_LINES], [elev for _, elev in BFE_LINES]
    rise = (lines_elev[-1] - lines_elev[-2]) / (BFE_LINES[-2][0] - BFE_LINES[-1][0])
    return np.select(
        [x >= REACH_LIMITS[1], x >= REACH_LIMITS[2], x >= STUDIED_WEST_X],
        [REACH_BFES[0], REACH_BFES[1], np.interp(-x, lines_x, lines_elev)],
        lines_elev[-1] + rise * (STUDIED_WEST_X - x),
    )


def river_level_ft(x):
    """A smooth (piecewise linear) water level along the river, never above its BFE: the mean of
    the BFE over the RAMP_M downstream of x. The BFE only rises upstream, so the mean stays at
    or below it; each step up is ramped over the RAMP_M upstream of the step."""
    window = int(RAMP_M) + 1
    sums = np.concatenate([[0.0], np.cumsum(river_bfe_ft(PROFILE_X))])
    mean = (sums[window:] - sums[:-window]) / window
    return np.interp(x, PROFILE_X[: len(mean)], mean)


def high_level_ft(x):
    """A smooth level at or above every BFE of the river and the coastal AE zone within
    HIGH_REACH_M of easting: the mean over +-HIGH_REACH_M of their highest over +-2 HIGH_REACH_M."""
    reach = int(HIGH_REACH_M)
    bfe = np.where(PROFILE_X >= COAST_X, COASTAL_AE_BFE, river_bfe_ft(PROFILE_X))
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(bfe, 2 * reach, mode="edge"),
                                                       4 * reach + 1)
    sums = np.concatenate([[0.0], np.cumsum(np.pad(windows.max(axis=1), reach, mode="edge"))])
    mean = (sums[2 * reach + 1:] - sums[: -2 * reach - 1]) / (2 * reach + 1)
    return np.interp(x, PROFILE_X, mean)


def channel_ft(r):
    """How far the ground lies below the river's level, by distance from its centreline."""
    return MIN_BELOW_BFE_FT + CHANNEL_FT * smoothstep(1.0 - r / FRINGE_M)


def coastal_ground_ft(x, r):
    """Ground east of the coast line: the river's floodplain sloping down to the beach across
    the coastal AE zone, the beach down to the shoreline across the VE zone, then the sea floor."""
    u = smoothstep((x - COAST_X) / (VE_FROM_X - COAST_X))
    coastal_ae = (1 - u) * (river_level_ft(COAST_X) - channel_ft(r)) + u * BEACH_FT
    beach = BEACH_FT + (SHORELINE_FT - BEACH_FT) * (x - VE_FROM_X) / (OCEAN_FROM_X - VE_FROM_X)
    sea = SHORELINE_FT + (SEA_FLOOR_FT - SHORELINE_FT) * (1 - np.exp(-(x - OCEAN_FROM_X) / 600))
    return np.select([x < VE_FROM_X, x < OCEAN_FROM_X], [coastal_ae, beach], sea)


def has_bfe(record: dict) -> bool:
    """A zone with a BFE: a static one, or an AE zone's, estimated from the BFE lines."""
    return record["STATIC_BFE"] != NO_VALUE or record["FLD_ZONE"] == "AE"


def high_ground_ft(x, d):
    """Ground outside the Special Flood Hazard Area, d metres from the nearest zone with a BFE:
    ABOVE_BFE_FT over the BFEs near it at their edge, rising 8 ft over the first km or so and
    2 ft a km on. The A zone's creek and the AO ponds are hollows in it."""
    return (high_level_ft(x) + ABOVE_BFE_FT + 8.0 * (1 - np.exp(-d / 500.0)) + 0.002 * d)


def estimated_bfe_grid(x, y, zone_record: dict, lines: list[dict], river: LineString):
    """estimated_bfe for many points of one zone at once (NaN where it gives none)."""
    near = [line for line in lines if line["geometry"].distance(zone_record["geometry"]) < 1.0]
    if not near:
        return np.full(len(x), np.nan)
    points = shapely.points(x, y)
    station = shapely.line_locate_point(river, points)
    line_station = np.array([river.project(line["geometry"].intersection(river))
                             for line in near])[:, None]
    distance = np.stack([shapely.distance(line["geometry"], points) for line in near])
    elev = np.array([line["ELEV"] for line in near])
    gap = np.abs(line_station - station)
    upstream = line_station > station
    gap_down, gap_up = np.where(upstream, np.inf, gap), np.where(upstream, gap, np.inf)
    down, up = gap_down.argmin(axis=0), gap_up.argmin(axis=0)  # first of equals, as min() does
    every = np.arange(len(x))
    d_down, d_up = distance[down, every], distance[up, every]
    estimate = np.round((elev[down] * d_up + elev[up] * d_down) / (d_down + d_up), 2)
    bracketed = np.isfinite(gap_down.min(axis=0)) & np.isfinite(gap_up.min(axis=0))
    return np.where(bracketed, estimate, np.nan)


def knoll_centre(zones: list[dict], grid: Grid) -> Point:
    """The LOMA candidate's centre (local frame): the centre of the cell at KNOLL_OFFSET_M from
    the river centreline at KNOLL_EASTING, well inside the BFE 10 ft reach's fringe."""
    river = river_centreline()
    target = Point(KNOLL_EASTING, crossing(river, KNOLL_EASTING).y + KNOLL_OFFSET_M)
    (point,) = cell_centres([target], grid)
    fringe = zone_with(zones, FLD_ZONE="AE", ZONE_SUBTY="", STATIC_BFE=REACH_BFES[1])
    room = fringe["geometry"].boundary.distance(point)
    assert fringe["geometry"].contains(point) and room > KNOLL_RADIUS_M + KNOLL_SKIRT_M, room
    return point


def cell_centres(points: list[Point], grid: Grid) -> list[Point]:
    """The centres (local frame) of the grid cells holding the points."""
    to_utm = Transformer.from_crs(LOCAL, UTM_18N, always_xy=True)
    from_utm = Transformer.from_crs(UTM_18N, LOCAL, always_xy=True)
    centres = []
    for point in points:
        row, col = grid.cell(*to_utm.transform(point.x, point.y))
        centres.append(Point(from_utm.transform(*(grid.transform * (col + 0.5, row + 0.5)))))
    return centres


@dataclass(frozen=True)
class Ground:
    """The ground model at the grid's cell centres (flat arrays, row by row)."""

    x: np.ndarray  # local frame
    y: np.ndarray
    ground_ft: np.ndarray  # NAVD88
    bfe_ft: np.ndarray  # the cell's zone's static or estimated BFE, NaN where none
    zone: np.ndarray  # index of the cell's zone in the zones, -1 outside them
    knoll: np.ndarray  # on the LOMA candidate knoll (above its BFE)


def ground_model(zones: list[dict], lines: list[dict], grid: Grid, knoll: Point) -> Ground:
    """Ground and BFE at every cell centre, zone by zone (vectorised within a zone).

    In a zone with a BFE the ground is MIN_BELOW_BFE_FT to about 6 ft below it (the river's
    floodplain and channel; the coast's down to the sea; VE and open water far below), but for
    the knoll; outside the Special Flood Hazard Area it is ABOVE_BFE_FT or more over the BFEs
    near it, rising away; the unstudied reach is a channel on the river's rising level below
    its banks; the tributary creek and AO ponds are hollows in the ground around them.
    """
    x, y = grid.centres_local()
    river = river_centreline()
    zone_index = np.full(len(x), -1)
    for number, record in enumerate(zones):
        free = np.flatnonzero(zone_index == -1)
        shapely.prepare(record["geometry"])
        zone_index[free[shapely.intersects_xy(record["geometry"], x[free], y[free])]] = number
    flooded = shapely.union_all([z["geometry"] for z in zones if has_bfe(z)]).boundary
    ground = np.full(len(x), np.nan)
    bfe = np.full(len(x), np.nan)
    knoll_cells = np.zeros(len(x), dtype=bool)

    def from_river(cells):
        return shapely.distance(river, shapely.points(x[cells], y[cells]))

    def inside(record, cells):
        return shapely.distance(record["geometry"].boundary, shapely.points(x[cells], y[cells]))

    def high(cells):
        return high_ground_ft(x[cells], shapely.distance(flooded, shapely.points(x[cells],
                                                                              y[cells])))

    for number, record in enumerate(zones):
        cells = np.flatnonzero(zone_index == number)
        cx, fld_zone, static = x[cells], record["FLD_ZONE"], record["STATIC_BFE"]
        if static != NO_VALUE:
            bfe[cells] = static
        elif fld_zone in {"A", "AE"}:
            bfe[cells] = estimated_bfe_grid(cx, y[cells], record, lines, river)
        if fld_zone in {"OPEN WATER", "VE"} or (fld_zone == "AE" and cx.min() >= COAST_X):
            ground[cells] = coastal_ground_ft(cx, from_river(cells))
        elif fld_zone == "AE":
            ground[cells] = river_level_ft(cx) - channel_ft(from_river(cells))
        elif fld_zone == "A":  # two parts: the unstudied reach, the tributary creek's hollow
            upper = cx < STUDIED_WEST_X + 1000
            ground[cells] = np.where(
                upper, river_level_ft(cx) - channel_ft(from_river(cells)),
                high(cells) - MIN_BELOW_BFE_FT - 2.5 * smoothstep(inside(record, cells) / 60.0))
        elif fld_zone == "AO":  # a hollow as deep as the zone's depth
            ground[cells] = (high(cells) - MIN_BELOW_BFE_FT
                             - record["DEPTH"] * smoothstep(inside(record, cells) / 60.0))
        elif fld_zone == "AH":  # a pond, up to 3 ft deep at the BFE
            ground[cells] = static - MIN_BELOW_BFE_FT - 2.5 * smoothstep(
                inside(record, cells) / 50.0)
        else:  # X and D
            ground[cells] = high(cells)
        if fld_zone == "AE" and static == REACH_BFES[1] and record["ZONE_SUBTY"] == "":
            rho = np.hypot(cx - knoll.x, y[cells] - knoll.y)
            top = static + KNOLL_TOP_FT - (KNOLL_TOP_FT - KNOLL_RIM_FT) * (
                rho / KNOLL_RADIUS_M) ** 2
            rim = static - MIN_BELOW_BFE_FT
            skirt = rim - (rim - ground[cells]) * smoothstep((rho - KNOLL_RADIUS_M)
                                                             / KNOLL_SKIRT_M)
            ground[cells] = np.where(rho <= KNOLL_RADIUS_M, top, np.minimum(skirt, rim))
            knoll_cells[cells] = rho <= KNOLL_RADIUS_M
    # Where a BFE estimated from the BFE lines dips below the river's level (a point nearer one
    # line than its stations say), the ground keeps below it too.
    wet = np.isfinite(bfe) & ~knoll_cells
    ground[wet] = np.minimum(ground[wet], bfe[wet] - MIN_BELOW_BFE_FT)
    outside = np.flatnonzero(zone_index == -1)  # the unmapped corner and the margin
    ox = x[outside]
    east = ox > COAST_X
    ground[outside[east]] = coastal_ground_ft(ox[east], from_river(outside[east]))
    ground[outside[~east]] = high(outside[~east])
    return Ground(x, y, ground, bfe, zone_index, knoll_cells)


def check_ground(zones: list[dict], lines: list[dict], grid: Grid, ground: Ground,
                 ground_ft: np.ndarray) -> None:
    """The rules the rasters promise, on the ground as stored (ground_ft, from the DEM's values).

    In zones with a BFE the ground is MIN_BELOW_BFE_FT or more below it, but on the knoll, which
    is 0.5 to 1 ft above; outside the Special Flood Hazard Area (X, D, the unmapped corner, the
    margin west of the coast) it is ABOVE_BFE_FT or more above the BFE of the nearest zone with
    one, checked at every third cell of every third row.
    """
    wet = np.isfinite(ground.bfe_ft) & ~ground.knoll
    below = ground.bfe_ft[wet] - ground_ft[wet]
    assert below.min() >= MIN_BELOW_BFE_FT - 1e-9, below.min()
    above = ground_ft[ground.knoll] - ground.bfe_ft[ground.knoll]
    assert ground.knoll.sum() > 30 and 0.5 <= above.min() and above.max() <= 1.0, above
    x, y = ground.x, ground.y
    river = river_centreline()
    with_bfe = [(n, z) for n, z in enumerate(zones) if has_bfe(z)]
    high = {n for n, z in enumerate(zones) if z["SFHA_TF"] == "F" and z["FLD_ZONE"] != "OPEN WATER"}
    rows, cols = np.divmod(np.arange(len(x)), grid.width)
    sampled = (rows % 3 == 0) & (cols % 3 == 0)
    dry = np.flatnonzero(sampled & (np.isin(ground.zone, list(high))
                                    | ((ground.zone == -1) & (x <= COAST_X))))
    points = shapely.points(x[dry], y[dry])
    distance = np.stack([shapely.distance(z["geometry"], points) for _, z in with_bfe])
    nearest = distance.argmin(axis=0)
    nearest_bfe = np.full(len(dry), np.nan)
    for k, (_, record) in enumerate(with_bfe):
        mine = nearest == k
        if record["STATIC_BFE"] != NO_VALUE:
            nearest_bfe[mine] = record["STATIC_BFE"]
        elif mine.any():
            edge = shapely.get_point(shapely.shortest_line(record["geometry"], points[mine]), 0)
            nearest_bfe[mine] = estimated_bfe_grid(shapely.get_x(edge), shapely.get_y(edge),
                                                   record, lines, river)
    known = np.isfinite(nearest_bfe)  # the unstudied A zone has no BFE: its nearest is skipped
    margin = ground_ft[dry][known] - nearest_bfe[known]
    assert margin.min() >= ABOVE_BFE_FT - 1e-9, margin.min()


def write_raster(path: Path, values: np.ndarray, grid: Grid, crs: str, unit: str,
                 description: str) -> None:
    """One Float32 band: tiled 256 x 256, DEFLATE with the floating-point predictor, no date."""
    path.unlink(missing_ok=True)
    with rasterio.open(
        path, "w", driver="GTiff", width=grid.width, height=grid.height, count=1,
        dtype="float32", crs=crs, transform=grid.transform, nodata=RASTER_NODATA, tiled=True,
        blockxsize=256, blockysize=256, compress="DEFLATE", predictor=3,
    ) as dst:
        dst.write(values.reshape(grid.height, grid.width).astype(np.float32), 1)
        dst.units = (unit,)
        dst.descriptions = (description,)


def write_rasters(zones: list[dict], layers: list[Layer]) -> None:
    """The DEM (metres NAVD88) and the 1% annual chance depth grid (feet), then their points."""
    lines = zone_layer(layers, "S_BFE")
    grid = raster_grid()
    knoll = knoll_centre(zones, grid)
    ground = ground_model(zones, lines, grid, knoll)
    # Rounded down where the ground is to be below a BFE, up elsewhere: the margins hold as stored.
    wet = np.isfinite(ground.bfe_ft) & ~ground.knoll
    steps = ground.ground_ft / FEET_PER_METRE / GROUND_STEP_M
    ground_m = (np.where(wet, np.floor(steps), np.ceil(steps)) * GROUND_STEP_M).astype(np.float32)
    stored_ft = ground_m.astype(np.float64) * FEET_PER_METRE
    check_ground(zones, lines, grid, ground, stored_ft)
    depth = ground.bfe_ft - stored_ft
    water = wet & (depth > 0)
    write_raster(OUT_DIR / DEM_NAME, ground_m, grid, DEM_CRS, "metre", "ground elevation")
    write_raster(OUT_DIR / DEPTH_NAME, np.where(water, depth, RASTER_NODATA), grid,
                 "EPSG:26918", "ft", "1% annual chance flood depth")
    check_raster_files()
    text = json.dumps(depth_points(zones, lines, grid, knoll), indent=2) + "\n"
    (OUT_DIR / DEPTH_POINTS_NAME).write_text(text, encoding="utf-8")


def check_raster_files() -> None:
    """The rasters read back as written: the DEM's compound CRS (GDAL reports it for a GeoTIFF
    1.1 file, which it writes for a compound CRS; GTIFF_REPORT_COMPD_CS says so for any), NAVD88
    height in metres, and both bands' unit and description."""
    with rasterio.Env(GTIFF_REPORT_COMPD_CS=True), rasterio.open(OUT_DIR / DEM_NAME) as dem:
        horizontal, vertical = CRS.from_wkt(dem.crs.to_wkt()).sub_crs_list
        assert (horizontal.to_epsg(), vertical.to_epsg()) == (26918, 5703), dem.crs
        assert vertical.axis_info[0].unit_name == "metre", vertical.axis_info
        assert (dem.units, dem.descriptions) == (("metre",), ("ground elevation",))
    with rasterio.open(OUT_DIR / DEPTH_NAME) as depth:
        assert CRS.from_wkt(depth.crs.to_wkt()).to_epsg() == 26918, depth.crs
        assert depth.units == ("ft",), depth.units


def zone_layer(layers: list[Layer], name: str) -> list[dict]:
    """The records of one layer of the package."""
    return next(layer.records for layer in layers if layer.name == name)


def depth_points(zones: list[dict], lines: list[dict], grid: Grid, knoll: Point) -> list[dict]:
    """Named points at cell centres, well inside their zones, with the rasters' values there
    read back from the files written (the DEM's as stored, to 3 decimals)."""
    river = river_centreline()
    edges = unary_union([z["geometry"].boundary for z in zones])

    def bank(x: float, offset: float) -> Point:
        return Point(x, crossing(river, x).y + offset)

    def fld(fld_zone: str, subtype: str = "", bfe: float = NO_VALUE) -> dict:
        return zone_with(zones, FLD_ZONE=fld_zone, ZONE_SUBTY=subtype, STATIC_BFE=bfe)

    moderate, minimal = "0.2 PCT ANNUAL CHANCE FLOOD HAZARD", "AREA OF MINIMAL FLOOD HAZARD"
    chosen = [
        ("ae_bfe_9", bank(-700.0, -200.0), fld("AE", bfe=9.0)),
        ("ae_bfe_10", bank(-2500.0, 200.0), fld("AE", bfe=10.0)),
        ("ae_estimated_bfe", bank(-4350.0, -200.0), fld("AE")),
        ("loma_candidate", knoll, fld("AE", bfe=10.0)),
        ("coastal_ae", Point(250.0, 1500.0), fld("AE", bfe=COASTAL_AE_BFE)),
        ("coastal_ve", Point(850.0, 0.0), fld("VE", bfe=14.0)),
        ("x_0_2_pct", bank(-2300.0, 500.0), fld("X", moderate)),
        ("x_minimal", Point(-5500.0, 1500.0), fld("X", minimal)),
        ("a_unstudied", bank(-7500.0, 0.0), fld("A")),
    ]
    names = [name for name, _, _ in chosen]
    expected = [record for _, _, record in chosen] + [None]
    centres = cell_centres([point for _, point, _ in chosen], grid)
    to_wgs84 = Transformer.from_crs(LOCAL, WGS84, always_xy=True)
    wgs84_to_utm = Transformer.from_crs(WGS84, UTM_18N, always_xy=True)
    lonlats = [to_wgs84.transform(p.x, p.y) for p in centres]
    # One more, 500 m north of the rasters, above the middle of their top row.
    off_east, off_north = grid.transform * (grid.width / 2, -500.0 / CELL_M)
    names.append("outside_dem")
    lonlats.append(Transformer.from_crs(UTM_18N, WGS84, always_xy=True).transform(off_east,
                                                                                 off_north))
    with rasterio.open(OUT_DIR / DEM_NAME) as dem, rasterio.open(OUT_DIR / DEPTH_NAME) as depth:
        dem_values, depth_values = dem.read(1), depth.read(1)
    points = []
    for name, (lon, lat), zone_record in zip(names, lonlats, expected, strict=True):
        lon, lat = round(lon, 7), round(lat, 7)
        east, north = wgs84_to_utm.transform(lon, lat)
        cell = grid.cell(east, north)
        point = from_wgs84(Point(lon, lat))
        record = covering(zones, point)
        assert record is zone_record, (name, record and record["FLD_AR_ID"])
        if cell is None:
            ground_m = depth_ft = None
        else:
            centre_east, centre_north = grid.transform * (cell[1] + 0.5, cell[0] + 0.5)
            assert math.hypot(east - centre_east, north - centre_north) < 0.05, name
            assert point.distance(edges) >= CLEARANCE_M, (name, point.distance(edges))
            ground_m = round(float(dem_values[cell]), 3)
            value = float(depth_values[cell])
            depth_ft = None if value == RASTER_NODATA else round(value, 3)
        static = record["STATIC_BFE"] if record else NO_VALUE
        bfe = static if static != NO_VALUE else estimated_bfe(point, record, lines, river)[0]
        if depth_ft is not None:  # the depth is the BFE less the ground (as stored)
            assert abs(depth_ft - (bfe - ground_m * FEET_PER_METRE)) < 0.01, name
        assert (depth_ft is None) == (bfe is None or name == "loma_candidate"), name
        points.append({
            "name": name, "lon": lon, "lat": lat,
            "zone": record["FLD_ZONE"] if record else None,
            "ground_m": ground_m, "depth_1pct_ft": depth_ft, "bfe_ft": bfe,
            "loma_candidate": name == "loma_candidate",
        })
    return points


def to_crs(geometry, crs: CRS):
    """Reproject a local-frame geometry (x/y order)."""
    transformer = Transformer.from_crs(LOCAL, crs, always_xy=True)
    return shapely.transform(geometry, transformer.transform, interleaved=False)


def from_wgs84(geometry):
    """A WGS84 (lon/lat) geometry in the local frame."""
    transformer = Transformer.from_crs(WGS84, LOCAL, always_xy=True)
    return shapely.transform(geometry, transformer.transform, interleaved=False)


def write_layer(path: Path, records: list[dict], crs: CRS, *,
                geometry_type: str | None = "MultiPolygon", **options) -> None:
    """Write records (geometry in the local frame) to one vector layer with pyogrio.

    With no geometry type the layer is a table, without geometry or CRS: a lone ``.dbf`` (and
    ``.cpg``) with the shapefile driver, a non-spatial table in a File Geodatabase.
    """
    fields = [key for key in records[0] if key != "geometry"]
    field_data = [np.array([r[f] for r in records]) for f in fields]
    if geometry_type is None:
        pyogrio.raw.write(str(path), None, field_data, fields, **options)
        return
    geometries = np.array(
        [shapely.to_wkb(to_crs(r["geometry"], crs)) for r in records], dtype=object
    )
    pyogrio.raw.write(
        str(path), geometries, field_data, fields, crs=crs.to_wkt(),
        geometry_type=geometry_type, promote_to_multi=True, **options,
    )


def write_zip(zip_path: Path, files: list[Path], root: Path | None = None) -> None:
    """A byte-for-byte reproducible zip (fixed timestamps, sorted names).

    Members are named by the files' own names, or, given ``root``, by their paths below it,
    folders kept (``34025C.gdb/a00000001.gdbtable``).
    """
    names = {(file.relative_to(root).as_posix() if root else file.name): file for file in files}
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(names):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, names[name].read_bytes())


@contextmanager
def reproducible_geodatabase():
    """GDAL's File Geodatabase writer with reproducible item UUIDs and quiet about dates.

    The UUIDs of GDB_Items are random unless OPENFILEGDB_REPRODUCIBLE_UUID is set, when they
    come from a fixed-seed generator: the same in every process that writes the same layers.
    Dates are kept as esriFieldTypeDate (date and time, midnight), as FEMA's own geodatabases
    hold them; the date-only type would need ArcGIS Pro 3.2 to read.
    """
    previous = pyogrio.get_gdal_config_option("OPENFILEGDB_REPRODUCIBLE_UUID")
    pyogrio.set_gdal_config_options({"OPENFILEGDB_REPRODUCIBLE_UUID": "YES"})
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Field .* of type Date will be written")
            yield
    finally:
        pyogrio.set_gdal_config_options({"OPENFILEGDB_REPRODUCIBLE_UUID": previous})


def write_package(layers: list[Layer]) -> None:
    """The package as zipped shapefiles and .dbf tables, and as a zipped File Geodatabase."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / PACKAGE_FOLDER
        folder.mkdir()
        for layer in layers:
            suffix = ".dbf" if layer.geometry_type is None else ".shp"
            write_layer(folder / f"{layer.name}{suffix}", layer.records, NJ_STATE_PLANE_FT,
                        geometry_type=layer.geometry_type, driver="ESRI Shapefile",
                        encoding="cp1252",
                        layer_options={"DBF_DATE_LAST_UPDATE": DBF_LAST_UPDATE})
        write_zip(OUT_DIR / f"{PACKAGE_NAME}.zip", list(folder.iterdir()), Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        gdb = Path(tmp) / GDB_NAME
        with reproducible_geodatabase():
            for layer in layers:
                write_layer(gdb, layer.records, NAD83, geometry_type=layer.geometry_type,
                            driver="OpenFileGDB", layer=layer.name)
        files = [path for path in gdb.rglob("*") if path.is_file()]
        write_zip(OUT_DIR / f"{PACKAGE_NAME}.gdb.zip", files, Path(tmp))


def main() -> None:
    """Write the GeoJSON, the zipped shapefile, the known points, the package and its points."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    zones = draw_zones()
    geojson_path = OUT_DIR / GEOJSON_NAME
    geojson_path.unlink(missing_ok=True)
    write_layer(geojson_path, zones, WGS84, driver="GeoJSON", layer="S_FLD_HAZ_AR",
                layer_options={"COORDINATE_PRECISION": "7", "RFC7946": "YES"})
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{SHAPEFILE_NAME}.shp"
        write_layer(shp, zones, NJ_STATE_PLANE_FT, driver="ESRI Shapefile", encoding="cp1252",
                    layer_options={"DBF_DATE_LAST_UPDATE": DBF_LAST_UPDATE})
        write_zip(OUT_DIR / f"{SHAPEFILE_NAME}.zip", list(Path(tmp).iterdir()))
    points = [
        {**{k: v for k, v in p.items() if k != "point"},
         "lon": round(to_crs(p["point"], WGS84).x, 6), "lat": round(to_crs(p["point"], WGS84).y, 6)}
        for p in known_points(zones)
    ]
    text = json.dumps(points, indent=2, ensure_ascii=False) + "\n"
    (OUT_DIR / KNOWN_POINTS_NAME).write_text(text, encoding="utf-8")
    layers = draw_package(zones)
    write_package(layers)
    text = json.dumps(package_points(zones, layers), indent=2, ensure_ascii=False) + "\n"
    (OUT_DIR / PACKAGE_POINTS_NAME).write_text(text, encoding="utf-8")
    write_rasters(zones, layers)
    print(f"{len(zones)} zones, a {len(layers)}-layer package, a DEM and a depth grid written"
          f" to {OUT_DIR}")


if __name__ == "__main__":
    main()
