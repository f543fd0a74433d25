"""Initial schema: PostGIS, datasets, flood zones with their subdivided pieces, accounts.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 03:07:12.749512
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Statement-level triggers with transition tables keep flood_zone_pieces in step with
# flood_zones for every writer (ORM, COPY, raw SQL) at set-based cost; deletes cascade by FK.
# Pieces of at most 128 vertices make point-in-polygon tests cheap on huge zones.
PIECES_TRIGGERS = """
CREATE FUNCTION flood_zone_pieces_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO flood_zone_pieces (zone_id, risk_status, geom)
    SELECT z.id, z.risk_status, part.geom
    FROM new_zones AS z
    CROSS JOIN LATERAL ST_Subdivide(z.geom, 128) AS piece(geom)
    CROSS JOIN LATERAL ST_Dump(piece.geom) AS part
    WHERE GeometryType(part.geom) = 'POLYGON';
    RETURN NULL;
END $$;

CREATE FUNCTION flood_zone_pieces_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Zones whose geometry changed are re-cut; zones whose status alone changed are re-tagged.
    WITH changed AS (
        SELECT n.id, n.geom, n.risk_status,
               ST_AsEWKB(o.geom) <> ST_AsEWKB(n.geom) AS reshaped
        FROM new_zones AS n JOIN old_zones AS o ON o.id = n.id
        WHERE ST_AsEWKB(o.geom) <> ST_AsEWKB(n.geom) OR o.risk_status <> n.risk_status
    ), retagged AS (
        UPDATE flood_zone_pieces AS p SET risk_status = c.risk_status
        FROM changed AS c WHERE p.zone_id = c.id AND NOT c.reshaped
    ), removed AS (
        DELETE FROM flood_zone_pieces AS p USING changed AS c WHERE p.zone_id = c.id AND c.reshaped
    )
    INSERT INTO flood_zone_pieces (zone_id, risk_status, geom)
    SELECT c.id, c.risk_status, part.geom
    FROM changed AS c
    CROSS JOIN LATERAL ST_Subdivide(c.geom, 128) AS piece(geom)
    CROSS JOIN LATERAL ST_Dump(piece.geom) AS part
    WHERE c.reshaped AND GeometryType(part.geom) = 'POLYGON';
    RETURN NULL;
END $$;

CREATE TRIGGER flood_zone_pieces_insert AFTER INSERT ON flood_zones
    REFERENCING NEW TABLE AS new_zones
    FOR EACH STATEMENT EXECUTE FUNCTION flood_zone_pieces_after_insert();

CREATE TRIGGER flood_zone_pieces_update AFTER UPDATE ON flood_zones
    REFERENCING OLD TABLE AS old_zones NEW TABLE AS new_zones
    FOR EACH STATEMENT EXECUTE FUNCTION flood_zone_pieces_after_update();
"""

DROP_PIECES_TRIGGERS = """
DROP TRIGGER IF EXISTS flood_zone_pieces_update ON flood_zones;
DROP TRIGGER IF EXISTS flood_zone_pieces_insert ON flood_zones;
DROP FUNCTION IF EXISTS flood_zone_pieces_after_update();
DROP FUNCTION IF EXISTS flood_zone_pieces_after_insert();
"""


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), server_default="viewer", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("role IN ('viewer', 'analyst', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), server_default="", nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_geospatial_table(
        "datasets",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source_filename", sa.String(length=255), nullable=True),
        sa.Column("source_crs", sa.String(length=255), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("feature_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "bbox",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="ready", nullable=False),
        sa.Column("superseded_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'importing', 'ready', 'failed', 'retired')",
            name=op.f("ck_datasets_status"),
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_id"],
            ["users.id"],
            name=op.f("fk_datasets_imported_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
    )
    op.create_geospatial_table(
        "flood_zones",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("fld_ar_id", sa.String(length=64), nullable=True),
        sa.Column("dfirm_id", sa.String(length=32), nullable=True),
        sa.Column("fld_zone", sa.String(length=32), nullable=False),
        sa.Column("zone_subty", sa.String(length=128), nullable=True),
        sa.Column("sfha_tf", sa.Boolean(), nullable=True),
        sa.Column("static_bfe", sa.Float(), nullable=True),
        sa.Column("depth", sa.Float(), nullable=True),
        sa.Column("velocity", sa.Float(), nullable=True),
        sa.Column("vel_unit", sa.String(length=32), nullable=True),
        sa.Column("v_datum", sa.String(length=32), nullable=True),
        sa.Column("len_unit", sa.String(length=32), nullable=True),
        sa.Column(
            "risk_status",
            sa.String(length=16),
            sa.Computed(
                "CASE WHEN (upper(btrim(coalesce(fld_zone, ''))) IN ('', 'AREA NOT INCLUDED')) THEN 'unmapped' WHEN (upper(btrim(coalesce(fld_zone, ''))) = 'OPEN WATER') THEN 'open_water' WHEN (upper(btrim(coalesce(fld_zone, ''))) = 'D') THEN 'undetermined' WHEN (upper(btrim(coalesce(fld_zone, ''))) ~ '(^|/)\\s*(A|AE|AH|AO|A99|AR|V|VE|[AV]([1-9]|[12][0-9]|30))\\s*(/|$)') THEN 'high_risk' WHEN (upper(btrim(coalesce(fld_zone, ''))) IN ('B', 'X500') OR left(upper(btrim(coalesce(fld_zone, ''))), 1) = 'X' AND (strpos(upper(coalesce(zone_subty, '')), '0.2 PCT') > 0 OR strpos(upper(coalesce(zone_subty, '')), '500') > 0 OR strpos(upper(coalesce(zone_subty, '')), 'REDUCED FLOOD RISK DUE TO LEVEE') > 0 OR strpos(upper(coalesce(zone_subty, '')), 'FUTURE') > 0)) THEN 'moderate_risk' WHEN (upper(btrim(coalesce(fld_zone, ''))) IN ('X', 'C')) THEN 'minimal_risk' WHEN coalesce(sfha_tf, false) THEN 'high_risk' ELSE 'undetermined' END",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_flood_zones_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flood_zones")),
    )
    op.create_geospatial_index(
        "idx_flood_zones_geom",
        "flood_zones",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_flood_zones_dataset_id"), "flood_zones", ["dataset_id"], unique=False)
    op.create_geospatial_table(
        "flood_zone_pieces",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("zone_id", sa.BigInteger(), nullable=False),
        sa.Column("risk_status", sa.String(length=16), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["flood_zones.id"],
            name=op.f("fk_flood_zone_pieces_zone_id_flood_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flood_zone_pieces")),
    )
    op.create_geospatial_index(
        "idx_flood_zone_pieces_geom",
        "flood_zone_pieces",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "ix_flood_zone_pieces_high_risk_geom",
        "flood_zone_pieces",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text("risk_status = 'high_risk'"),
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_flood_zone_pieces_zone_id"), "flood_zone_pieces", ["zone_id"], unique=False
    )
    op.execute(PIECES_TRIGGERS)


def downgrade():
    op.execute(DROP_PIECES_TRIGGERS)
    op.drop_index(op.f("ix_flood_zone_pieces_zone_id"), table_name="flood_zone_pieces")
    op.drop_geospatial_index(
        "ix_flood_zone_pieces_high_risk_geom",
        table_name="flood_zone_pieces",
        postgresql_using="gist",
        postgresql_where=sa.text("risk_status = 'high_risk'"),
        column_name="geom",
    )
    op.drop_geospatial_index(
        "idx_flood_zone_pieces_geom",
        table_name="flood_zone_pieces",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("flood_zone_pieces")
    op.drop_index(op.f("ix_flood_zones_dataset_id"), table_name="flood_zones")
    op.drop_geospatial_index(
        "idx_flood_zones_geom",
        table_name="flood_zones",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("flood_zones")
    op.drop_geospatial_table("datasets")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
