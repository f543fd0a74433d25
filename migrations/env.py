"""Alembic environment for FloodManager, run through Flask-Migrate (`flask db ...`).

GeoAlchemy2's alembic helpers make autogenerate emit spatial columns and their GiST indexes
the way PostGIS needs them; tables that PostGIS itself owns are left out of comparisons.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
target_metadata = target_db.metadata

# Tables created by extensions, not by our models: autogenerate must not try to drop them.
FOREIGN_TABLES = {"spatial_ref_sys", "layer", "topology"}
# The job queue's tables belong to procrastinate (created by migration 0003 from its schema).
QUEUE_TABLE_PREFIX = "procrastinate_"


def include_object(obj, name, obj_type, reflected, compare_to):
    """Skip extension-owned tables, then let GeoAlchemy2 filter its spatial indexes."""
    if obj_type == "table" and reflected and compare_to is None and (
        name in FOREIGN_TABLES or name.startswith(QUEUE_TABLE_PREFIX)
    ):
        return False
    return alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to)


def process_revision_directives(migration_context, revision, directives):
    """Write no empty revision on autogenerate, and route the rest through GeoAlchemy2."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")
        return
    alembic_helpers.writer(migration_context, revision, directives)


def configure_args():
    """Options shared by online and offline runs."""
    args = dict(current_app.extensions["migrate"].configure_args)
    args.update(
        target_metadata=target_metadata,
        include_object=include_object,
        process_revision_directives=process_revision_directives,
        render_item=alembic_helpers.render_item,
        render_as_batch=False,
    )
    return args


def run_migrations_offline():
    """Emit SQL to stdout (`flask db upgrade --sql`)."""
    context.configure(
        url=target_db.engine.url.render_as_string(hide_password=False),
        literal_binds=True,
        **configure_args(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Apply migrations on the application's database."""
    with target_db.engine.connect() as connection:
        context.configure(connection=connection, **configure_args())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
