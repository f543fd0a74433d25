"""Raster layers of a dataset version: DEMs, depth and water-surface grids.

The cells stay in Cloud Optimized GeoTIFF files under GEOAPP_RASTER_DIR; a row says what the
cells mean (kind, event, vertical datum, unit), where the file covers (its footprint in
WGS 84, under a GiST index) and what it is (CRS, grid, nodata, checksum).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 21:30:00
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "raster_layers",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("event_percent", sa.Float(), nullable=True),
        sa.Column("vertical_datum", sa.String(length=32), nullable=True),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.String(length=80), nullable=False),
        sa.Column("crs_wkt", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("resolution_x", sa.Float(), nullable=False),
        sa.Column("resolution_y", sa.Float(), nullable=False),
        sa.Column("nodata", sa.Float(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source_filename", sa.String(length=255), nullable=True),
        sa.Column("footprint", Geometry("POLYGON", srid=4326, spatial_index=False),
                  nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("(kind = 'dem') = (event_percent IS NULL)",
                           name=op.f("ck_raster_layers_event_for_kind")),
        sa.CheckConstraint("kind IN ('dem', 'depth', 'wse')", name=op.f("ck_raster_layers_kind")),
        sa.CheckConstraint("unit IN ('m', 'ft', 'ftUS')", name=op.f("ck_raster_layers_unit")),
        sa.CheckConstraint("event_percent > 0 AND event_percent <= 100",
                           name=op.f("ck_raster_layers_event_range")),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE",
                                name=op.f("fk_raster_layers_dataset_id_datasets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raster_layers")),
        sa.UniqueConstraint("file_name", name=op.f("uq_raster_layers_file_name")),
    )
    op.create_index("idx_raster_layers_footprint", "raster_layers", ["footprint"], unique=False,
                    postgresql_using="gist")
    op.create_index(op.f("ix_raster_layers_dataset_id"), "raster_layers", ["dataset_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_table("raster_layers")
