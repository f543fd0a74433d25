"""Pieces of large zones cut by the importer; small zones dumped without ST_Subdivide; lz4.

- The insert trigger writes a zone of at most 128 vertices as its own polygon(s) (ST_Dump;
  ST_Subdivide returned it unchanged anyway, at a cost per row), and cuts larger zones with
  ST_Subdivide unless the writing transaction set `geoapp.importer_cuts_pieces` to `on`:
  the bulk importer then writes those pieces itself (geoapp.ingest.pieces), faster and overlapped
  with the load.
- Zone geometries are compressed with lz4 where the server has it: about 3x faster than
  pglz to write and to read for zones of 100,000 vertices.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 21:30:00
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INSERT_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION flood_zone_pieces_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO flood_zone_pieces (zone_id, risk_status, geom)
    SELECT z.id, z.risk_status, part.geom
    FROM new_zones AS z
    CROSS JOIN LATERAL ST_Dump(z.geom) AS part
    WHERE ST_NPoints(z.geom) <= 128;
    IF coalesce(current_setting('geoapp.importer_cuts_pieces', true), '') <> 'on' THEN
        INSERT INTO flood_zone_pieces (zone_id, risk_status, geom)
        SELECT z.id, z.risk_status, part.geom
        FROM new_zones AS z
        CROSS JOIN LATERAL ST_Subdivide(z.geom, 128) AS piece(geom)
        CROSS JOIN LATERAL ST_Dump(piece.geom) AS part
        WHERE ST_NPoints(z.geom) > 128 AND GeometryType(part.geom) = 'POLYGON';
    END IF;
    RETURN NULL;
END $$;
"""

OLD_INSERT_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION flood_zone_pieces_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO flood_zone_pieces (zone_id, risk_status, geom)
    SELECT z.id, z.risk_status, part.geom
    FROM new_zones AS z
    CROSS JOIN LATERAL ST_Subdivide(z.geom, 128) AS piece(geom)
    CROSS JOIN LATERAL ST_Dump(piece.geom) AS part
    WHERE GeometryType(part.geom) = 'POLYGON';
    RETURN NULL;
END $$;
"""

LZ4_AVAILABLE = (
    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
)
COMPRESSED_COLUMNS = ("geom", "geom_overview")


def set_compression(method: str) -> None:
    for column in COMPRESSED_COLUMNS:
        op.execute(f"ALTER TABLE flood_zones ALTER COLUMN {column} SET COMPRESSION {method}")


def upgrade():
    op.execute(INSERT_TRIGGER_FUNCTION)
    if op.get_bind().exec_driver_sql(LZ4_AVAILABLE).scalar():
        set_compression("lz4")


def downgrade():
    if op.get_bind().exec_driver_sql(LZ4_AVAILABLE).scalar():
        set_compression("default")
    op.execute(OLD_INSERT_TRIGGER_FUNCTION)
