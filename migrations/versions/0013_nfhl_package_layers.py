"""The rest of an NFHL package: panels, communities, LOMRs, BFE lines, cross sections, CBRS.

Each layer has its own table of the dataset version it came with (deleted with it); the
dataset keeps the SHA-256 of its source file and the package"s STUDY_INFO row.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 18:39:45.487701
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bfe_lines",
        sa.Column("dfirm_id", sa.String(length=32), nullable=True),
        sa.Column("bfe_ln_id", sa.String(length=64), nullable=True),
        sa.Column("elev", sa.Float(), nullable=True),
        sa.Column("len_unit", sa.String(length=32), nullable=True),
        sa.Column("v_datum", sa.String(length=32), nullable=True),
        sa.Column(
            "geom", Geometry("MULTILINESTRING", srid=4326, spatial_index=False), nullable=False
        ),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_bfe_lines_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bfe_lines")),
    )
    op.create_index(
        "idx_bfe_lines_geom", "bfe_lines", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(op.f("ix_bfe_lines_dataset_id"), "bfe_lines", ["dataset_id"], unique=False)
    op.create_table(
        "cbrs_units",
        sa.Column("dfirm_id", sa.String(length=32), nullable=True),
        sa.Column("cbrs_id", sa.String(length=32), nullable=True),
        sa.Column("cbrs_typ", sa.String(length=64), nullable=True),
        sa.Column("cbrs_dt", sa.Date(), nullable=True),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_cbrs_units_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cbrs_units")),
    )
    op.create_index(
        "idx_cbrs_units_geom", "cbrs_units", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(op.f("ix_cbrs_units_dataset_id"), "cbrs_units", ["dataset_id"], unique=False)
    op.create_table(
        "community_info",
        sa.Column("dfirm_id", sa.String(length=32), nullable=True),
        sa.Column("com_nfo_id", sa.String(length=64), nullable=True),
        sa.Column("in_id_dat", sa.Date(), nullable=True),
        sa.Column("in_nfip_dt", sa.Date(), nullable=True),
        sa.Column("in_frm_dat", sa.Date(), nullable=True),
        sa.Column("recent_dat", sa.Date(), nullable=True),
        sa.Column("repos_adr1", sa.String(length=128), nullable=True),
        sa.Column("repos_city", sa.String(length=64), nullable=True),
        sa.Column("repos_st", sa.String(length=32), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_community_info_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_info")),
    )
    op.create_index(
        op.f("ix_community_info_dataset_id"), "community_info", ["dataset_id"], unique=False
    )
    op.create_index(
        "ix_community_info_dataset_key",
        "community_info",
        ["dataset_id", "com_nfo_id"],
        unique=False,
    )
    op.create_table(
        "cross_sections",
        sa.Column("dfirm_id", sa.String(length=32), nullable=True),
        sa.Column("xs_ln_id", sa.String(length=64), nullable=True),
        sa.Column("xs_ltr", sa.String(length=16), nullable=True),
        sa.Column("xs_ln_typ", sa.String(length=64), nullable=True),
        sa.Column("wtr_nm", sa.String(length=128), nullable=True),
        sa.Column("stream_stn", sa.Float(), nullable=True),
        sa.Column("wsel_reg", sa.Float(), nullable=True),
        sa.Column("strmbed_el", sa.Float(), nullable=True),
        sa.Column("len_unit", sa.String(length=32), nullable=True),
        sa.Column("v_datum", sa.String(length=32), nullable=True),
        sa.Column(
            "geom", Geometry("MULTILINESTRING", srid=4326, spatial_index=False), nullable=False
        ),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_cross_sections_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cross_sections")),
    )
    op.create_index(
        "idx_cross_sections_geom", "cross_sections", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        op.f("ix_cross_sections_dataset_id"), "cross_sections", ["dataset_id"], unique=False
    )
    op.create_table(
        "firm_panels",
        sa.Column("dfirm_id", sa.String(length=32), nullable=True),
        sa.Column("firm_pan", sa.String(length=32), nullable=True),
        sa.Column("panel", sa.String(length=16), nullable=True),
        sa.Column("suffix", sa.String(length=8), nullable=True),
        sa.Column("eff_date", sa.Date(), nullable=True),
        sa.Column("panel_typ", sa.String(length=64), nullable=True),
        sa.Column("pnp_reason", sa.String(length=254), nullable=True),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_firm_panels_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firm_panels")),
    )
    op.create_index(
        "idx_firm_panels_geom", "firm_panels", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(op.f("ix_firm_panels_dataset_id"), "firm_panels", ["dataset_id"], unique=False)
    op.create_table(
        "lomrs",
        sa.Column("dfirm_id", sa.String(length=32), nullable=True),
        sa.Column("lomr_id", sa.String(length=64), nullable=True),
        sa.Column("case_no", sa.String(length=32), nullable=True),
        sa.Column("eff_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("scale", sa.String(length=32), nullable=True),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_lomrs_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lomrs")),
    )
    op.create_index("idx_lomrs_geom", "lomrs", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_lomrs_dataset_id"), "lomrs", ["dataset_id"], unique=False)
    op.create_table(
        "political_areas",
        sa.Column("dfirm_id", sa.String(length=32), nullable=True),
        sa.Column("cid", sa.String(length=16), nullable=True),
        sa.Column("comm_no", sa.String(length=16), nullable=True),
        sa.Column("pol_name1", sa.String(length=128), nullable=True),
        sa.Column("pol_name2", sa.String(length=128), nullable=True),
        sa.Column("pol_name3", sa.String(length=128), nullable=True),
        sa.Column("co_fips", sa.String(length=8), nullable=True),
        sa.Column("st_fips", sa.String(length=8), nullable=True),
        sa.Column("com_nfo_id", sa.String(length=64), nullable=True),
        sa.Column("ani_tf", sa.Boolean(), nullable=True),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_political_areas_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_political_areas")),
    )
    op.create_index(
        "idx_political_areas_geom",
        "political_areas",
        ["geom"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        op.f("ix_political_areas_dataset_id"), "political_areas", ["dataset_id"], unique=False
    )
    op.add_column("datasets", sa.Column("source_sha256", sa.String(length=64), nullable=True))
    op.add_column(
        "datasets", sa.Column("study_info", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("datasets", "study_info")
    op.drop_column("datasets", "source_sha256")
    # Their indexes go with them.
    for table in (
        "political_areas",
        "lomrs",
        "firm_panels",
        "cross_sections",
        "community_info",
        "cbrs_units",
        "bfe_lines",
    ):
        op.drop_table(table)
