"""Small pieces of the package polygons (panels, communities, LOMRs, CBRS units), for lookups.

A point is tested against a community boundary of 100,000 vertices in milliseconds; against
its pieces of at most 128 vertices, under a GiST index, in microseconds. The import writes
them; this migration cuts those of packages already imported.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 20:05:00
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The polygon layers and their tables, as they were when this migration was written.
POLYGON_LAYERS = {"S_FIRM_PAN": "firm_panels", "S_POL_AR": "political_areas",
                  "S_LOMR": "lomrs", "S_CBRS": "cbrs_units"}


def upgrade() -> None:
    op.create_table(
        "package_pieces",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
        sa.Column("geom", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE",
                                name=op.f("fk_package_pieces_dataset_id_datasets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_pieces")),
    )
    op.create_index("idx_package_pieces_geom", "package_pieces", ["geom"], unique=False,
                    postgresql_using="gist")
    op.create_index(op.f("ix_package_pieces_dataset_id"), "package_pieces", ["dataset_id"],
                    unique=False)
    for layer, table in POLYGON_LAYERS.items():
        # Constants of this file, never input.
        op.execute(
            "INSERT INTO package_pieces (dataset_id, layer, row_id, geom) "  # noqa: S608
            f"SELECT dataset_id, '{layer}', id, (ST_Dump(ST_Subdivide(geom, 128))).geom "
            f"FROM {table}")


def downgrade() -> None:
    op.drop_table("package_pieces")
