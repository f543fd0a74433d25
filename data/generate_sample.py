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

Run: ``python data/generate_sample.py``.
"""

from __future__ import annotations

import json
import math
import tempfile
import zipfile
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from shapely.ops import unary_union

OUT_DIR = Path(__file__).resolve().parent / "sample"
GEOJSON_NAME = "manasquan_nfhl.geojson"
SHAPEFILE_NAME = "manasquan_nfhl_nj_stateplane"
KNOWN_POINTS_NAME = "known_points.json"

# Local metric frame centred on the Manasquan Inlet.
INLET_LON, INLET_LAT = -74.0345, 40.1020
LOCAL = CRS.from_proj4(
    f"+proj=aeqd +lat_0={INLET_LAT} +lon_0={INLET_LON} +datum=WGS84 +units=m +no_defs"
)
WGS84 = CRS.from_epsg(4326)
NJ_STATE_PLANE_FT = CRS.from_epsg(3424)

DFIRM_ID = "34025C"
NOTE = "Synthetic sample – not an official FEMA product"

EXTENT = box(-9000, -3000, 2500, 3000)
UNMAPPED_CORNER = box(-9000, -3000, -6500, -1800)
COAST_X = 0.0
VE_FROM_X = 500.0
OCEAN_FROM_X = 1200.0
RIVER_WEST_X = -9000.0
STUDIED_WEST_X = -6000.0
REACH_LIMITS = (0.0, -2000.0, -4000.0, STUDIED_WEST_X)  # east to west
REACH_BFES = (9.0, 10.0, -9999.0)  # the westmost studied reach has no static BFE
SEGMENT_M = 20.0  # spacing of the river centreline vertices


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
        zone(x_band(COAST_X, VE_FROM_X), "AE", bfe=11.0),
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


def to_crs(geometry, crs: CRS):
    """Reproject a local-frame geometry (x/y order)."""
    transformer = Transformer.from_crs(LOCAL, crs, always_xy=True)
    return shapely.transform(geometry, transformer.transform, interleaved=False)


def write_layer(path: Path, zones: list[dict], crs: CRS, **options) -> None:
    """Write the zones to one vector file with pyogrio."""
    fields = [key for key in zones[0] if key != "geometry"]
    geometries = np.array(
        [shapely.to_wkb(to_crs(z["geometry"], crs)) for z in zones], dtype=object
    )
    field_data = [np.array([z[f] for z in zones]) for f in fields]
    pyogrio.raw.write(
        str(path), geometries, field_data, fields, crs=crs.to_wkt(),
        geometry_type="MultiPolygon", promote_to_multi=True, **options,
    )


def write_zip(zip_path: Path, files: list[Path]) -> None:
    """A byte-for-byte reproducible zip (fixed timestamps, sorted names)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(files):
            info = zipfile.ZipInfo(file.name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())


def main() -> None:
    """Write the GeoJSON, the zipped shapefile and the known points."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    zones = draw_zones()
    geojson_path = OUT_DIR / GEOJSON_NAME
    geojson_path.unlink(missing_ok=True)
    write_layer(geojson_path, zones, WGS84, driver="GeoJSON", layer="S_FLD_HAZ_AR",
                layer_options={"COORDINATE_PRECISION": "7", "RFC7946": "YES"})
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{SHAPEFILE_NAME}.shp"
        write_layer(shp, zones, NJ_STATE_PLANE_FT, driver="ESRI Shapefile", encoding="cp1252")
        write_zip(OUT_DIR / f"{SHAPEFILE_NAME}.zip", list(Path(tmp).iterdir()))
    points = [
        {**{k: v for k, v in p.items() if k != "point"},
         "lon": round(to_crs(p["point"], WGS84).x, 6), "lat": round(to_crs(p["point"], WGS84).y, 6)}
        for p in known_points(zones)
    ]
    text = json.dumps(points, indent=2, ensure_ascii=False) + "\n"
    (OUT_DIR / KNOWN_POINTS_NAME).write_text(text, encoding="utf-8")
    print(f"{len(zones)} zones written to {OUT_DIR}")


if __name__ == "__main__":
    main()
