"""Data versions: a counter per table bumped by triggers, for ETag and Last-Modified headers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:19:26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# One row per watched table; a statement-level trigger bumps it once per writing statement,
# so a 100,000-row COPY costs one update, and readers compare a single integer.
VERSION_TRIGGERS = """
CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions (name, version, changed_at) VALUES (TG_TABLE_NAME, 1, now())
    ON CONFLICT (name) DO UPDATE
        SET version = data_versions.version + 1, changed_at = now();
    RETURN NULL;
END $$;

CREATE TRIGGER flood_zones_data_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON flood_zones
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();

CREATE TRIGGER datasets_data_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON datasets
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();

INSERT INTO data_versions (name, version) VALUES ('flood_zones', 1), ('datasets', 1);
"""

DROP_VERSION_TRIGGERS = """
DROP TRIGGER IF EXISTS datasets_data_version ON datasets;
DROP TRIGGER IF EXISTS flood_zones_data_version ON flood_zones;
DROP FUNCTION IF EXISTS bump_data_version();
"""


def upgrade():
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_versions")),
    )
    op.execute(VERSION_TRIGGERS)


def downgrade():
    op.execute(DROP_VERSION_TRIGGERS)
    op.drop_table("data_versions")
