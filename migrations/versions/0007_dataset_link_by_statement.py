"""Zones belong to their dataset through statement-level triggers instead of a foreign key.

PostgreSQL checks a foreign key with one query per inserted row: about 1 s of a 200,000-zone
import. The same rules now run once per statement over the transition table:

- inserting or updating zones locks their datasets (FOR KEY SHARE, as the foreign key did, so
  a concurrent delete waits) and refuses zones whose dataset does not exist (SQLSTATE 23503);
- deleting datasets deletes their zones (whose own trigger removes the pieces); truncating
  datasets truncates the zones.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 22:05:00
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DATASET_FK = "fk_flood_zones_dataset_id_datasets"

DATASET_LINK_TRIGGERS = """
CREATE FUNCTION flood_zones_check_dataset() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan bigint;
BEGIN
    PERFORM 1 FROM datasets AS d
    WHERE d.id IN (SELECT DISTINCT z.dataset_id FROM new_zones AS z)
    FOR KEY SHARE;
    SELECT z.dataset_id INTO orphan FROM new_zones AS z
    WHERE NOT EXISTS (SELECT 1 FROM datasets AS d WHERE d.id = z.dataset_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('flood zone refers to dataset %s, which does not exist', orphan),
            TABLE = 'flood_zones', COLUMN = 'dataset_id';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION datasets_delete_zones() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM flood_zones AS z USING old_datasets AS o WHERE z.dataset_id = o.id;
    RETURN NULL;
END $$;

CREATE FUNCTION datasets_truncate_zones() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE flood_zones;
    RETURN NULL;
END $$;

CREATE TRIGGER flood_zones_dataset_insert AFTER INSERT ON flood_zones
    REFERENCING NEW TABLE AS new_zones
    FOR EACH STATEMENT EXECUTE FUNCTION flood_zones_check_dataset();

CREATE TRIGGER flood_zones_dataset_update AFTER UPDATE ON flood_zones
    REFERENCING NEW TABLE AS new_zones
    FOR EACH STATEMENT EXECUTE FUNCTION flood_zones_check_dataset();

CREATE TRIGGER datasets_zones_delete AFTER DELETE ON datasets
    REFERENCING OLD TABLE AS old_datasets
    FOR EACH STATEMENT EXECUTE FUNCTION datasets_delete_zones();

CREATE TRIGGER datasets_zones_truncate AFTER TRUNCATE ON datasets
    FOR EACH STATEMENT EXECUTE FUNCTION datasets_truncate_zones();
"""

DROP_DATASET_LINK_TRIGGERS = """
DROP TRIGGER IF EXISTS datasets_zones_truncate ON datasets;
DROP TRIGGER IF EXISTS datasets_zones_delete ON datasets;
DROP TRIGGER IF EXISTS flood_zones_dataset_update ON flood_zones;
DROP TRIGGER IF EXISTS flood_zones_dataset_insert ON flood_zones;
DROP FUNCTION IF EXISTS datasets_truncate_zones();
DROP FUNCTION IF EXISTS datasets_delete_zones();
DROP FUNCTION IF EXISTS flood_zones_check_dataset();
"""


def upgrade():
    op.drop_constraint(DATASET_FK, "flood_zones", type_="foreignkey")
    op.execute(DATASET_LINK_TRIGGERS)


def downgrade():
    op.execute(DROP_DATASET_LINK_TRIGGERS)
    op.execute("DELETE FROM flood_zones AS z WHERE NOT EXISTS "
               "(SELECT 1 FROM datasets AS d WHERE d.id = z.dataset_id)")
    op.create_foreign_key(DATASET_FK, "flood_zones", "datasets", ["dataset_id"], ["id"],
                          ondelete="CASCADE")
