"""The report's map: active zones in a Web Mercator frame as SVG path data."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import Select, case, func, select

from geoapp.db.models import FloodZone
from geoapp.db.queries.scope import dataset_is_active
from geoapp.db.queries.shapes import SRID
from geoapp.nfhl.status import RiskStatus


def report_map_zones(frame: tuple[float, float, float, float], tolerance_m: float
                     ) -> Select[Any]:
    """Active zones inside a Web Mercator frame, clipped to it, as SVG path data.

    The frame is transformed to the table's SRID for the index; each zone is clipped before
    it is projected and shifted so the frame's south-west corner is the origin (ST_AsSVG
    writes y downwards, as SVG wants). Higher-risk zones come last, so they are drawn on top.
    """
    xmin, ymin, _, _ = frame
    box = func.ST_MakeEnvelope(*frame, 3857, type_=Geometry)
    search = func.ST_Transform(box, SRID, type_=Geometry)
    clipped = func.ST_ClipByBox2D(FloodZone.geom, func.Box2D(search), type_=Geometry)
    shifted = func.ST_Translate(func.ST_Transform(clipped, 3857, type_=Geometry), -xmin, -ymin,
                                type_=Geometry)
    drawn = func.ST_Simplify(shifted, tolerance_m, True, type_=Geometry)
    shapes = (
        select(FloodZone.id, FloodZone.fld_zone, FloodZone.risk_status,
               drawn.label("geom"))
        .join(FloodZone.dataset)
        .where(dataset_is_active(), func.ST_Intersects(FloodZone.geom, search))
        .subquery("shapes")
    )
    label = func.ST_PointOnSurface(shapes.c.geom, type_=Geometry)
    drawing_order = case({RiskStatus.HIGH_RISK: 3, RiskStatus.OPEN_WATER: 2,
                          RiskStatus.MODERATE_RISK: 1},
                         value=shapes.c.risk_status, else_=0)
    return (
        select(shapes.c.fld_zone, shapes.c.risk_status,
               func.ST_AsSVG(shapes.c.geom, 0, 1).label("path"),
               func.ST_Area(shapes.c.geom).label("area"),
               func.ST_X(label).label("label_x"), func.ST_Y(label).label("label_y"))
        .where(func.ST_Dimension(shapes.c.geom) == 2)
        .order_by(drawing_order, shapes.c.id)
    )
