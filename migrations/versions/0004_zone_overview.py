"""Zone overview geometry: a simplified copy kept by the database, for low-zoom tiles.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 17:55:00
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Must match geoapp.db.models.OVERVIEW_SQL (autogenerate does not compare generated expressions).
OVERVIEW_SQL = (
    "CASE WHEN ST_NPoints(geom) > 256 "
    "THEN ST_Multi(ST_SimplifyPreserveTopology(geom, 0.0002)) END"
)


def upgrade():
    op.add_column(
        "flood_zones",
        sa.Column(
            "geom_overview",
            Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
            sa.Computed(OVERVIEW_SQL, persisted=True),
            nullable=True,
        ),
    )


def downgrade():
    op.drop_column("flood_zones", "geom_overview")
