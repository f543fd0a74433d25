"""Command line: `flask zones ...`, `flask users ...`, `flask tokens ...`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError, ProgrammingError
from tqdm import tqdm

from geoapp import PROJECT_DIR
from geoapp.cli import serve
from geoapp.db.models import Dataset
from geoapp.db.queries.datasets import dataset_named
from geoapp.db.vocabulary import Role
from geoapp.errors import AppError
from geoapp.extensions import db
from geoapp.ingest import files, jobs, runs
from geoapp.ingest.request import ImportRequest
from geoapp.users import accounts, audit

SAMPLE_FILE = PROJECT_DIR / "data" / "sample" / "manasquan_nfhl.geojson"
# The same zones with the rest of their NFHL package (panels, communities, LOMR, CBRS, BFE
# lines, cross sections): what `make run` loads.
SAMPLE_PACKAGE = PROJECT_DIR / "data" / "sample" / "manasquan_nfhl_package.zip"
SAMPLE_NAME = "Manasquan River, NJ (synthetic sample)"
SAMPLE_EFFECTIVE_DATE = dt.date(2024, 6, 20)
# The sample's rasters, which agree with its zones and BFEs: (file, kind, event, dataset name).
SAMPLE_RASTERS = (
    ("manasquan_dem.tif", "dem", None, "Manasquan River, NJ: ground elevation (synthetic DEM)"),
    ("manasquan_depth_1pct.tif", "depth", "1",
     "Manasquan River, NJ: 1% annual chance depth (synthetic)"),
)

UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for a missing table


class DatabaseCommands(AppGroup):
    """Commands whose database failures are told in one line rather than a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; an unreachable or unmigrated database becomes a CLI error."""
        try:
            return super().invoke(ctx)
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0]
            raise click.ClickException(f"cannot reach the database: {reason}") from None
        except ProgrammingError as error:
            if getattr(error.orig, "pgcode", None) != UNDEFINED_TABLE:
                raise
            raise click.ClickException(
                "the database has no FloodManager tables yet: run `flask db upgrade` "
                "(or `make migrate`) first") from None


zones_cli = DatabaseCommands("zones", help="Flood zone datasets.")
users_cli = DatabaseCommands("users", help="User accounts.")
tokens_cli = DatabaseCommands("tokens", help="API tokens.")
rasters_cli = DatabaseCommands("rasters", help="Elevation and flood-depth rasters.")


def fail(error: AppError) -> None:
    """Print a domain error as a CLI error (exit code 1)."""
    raise click.ClickException(error.message)


def audited(action: str, status: int, target_type: str, target_id: int | None = None,
            **details: str) -> None:
    """Record a write command (or its refusal) in the audit log, on its own commit."""
    audit.record_command(db.session, f"cli.{action}", status, target_type=target_type,
                         target_id=target_id, details=details)
    db.session.commit()


@zones_cli.command("load-sample")
@click.option(
    "--path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=SAMPLE_PACKAGE,
    show_default=True,
    help="Flood map file to load (the sample NFHL package by default).",
)
@click.option("--name", default=SAMPLE_NAME, show_default=True, help="Dataset name.")
@click.option("--rasters/--no-rasters", default=True, show_default=True,
              help="Also load the sample's DEM and 1% depth grid.")
def load_sample(path: Path, name: str, rasters: bool) -> None:
    """Load the sample flood map once (does nothing when it is already loaded)."""
    if rasters:
        load_sample_rasters()
    existing = dataset_named(db.session, name)
    if existing is not None:
        click.echo(f"sample already loaded: dataset {existing.id} ({existing.feature_count} zones)")
        return
    try:
        # The sample must be clean: any refused feature fails the load (repair off).
        request = ImportRequest.parse(
            {"name": name, "effective_date": SAMPLE_EFFECTIVE_DATE, "repair": False}
        )
        dataset = runs.create_pending(db.session, request, path.name, None)
        runs.run_import(db.session, dataset, path, request,
                        files.UnpackLimits.from_config(current_app.config))
    except AppError as error:
        db.session.rollback()
        audited("zones.load-sample", error.status, "dataset", file=path.name)
        fail(error)
    audited("zones.load-sample", 201, "dataset", dataset.id, file=path.name)
    layers = len(((dataset.import_report or {}).get("package") or {}).get("layers", {}))
    click.echo(f"loaded dataset {dataset.id} '{name}': {dataset.feature_count} zones"
               + (f" and {layers} other NFHL layers" if layers else ""))


def load_sample_rasters() -> None:
    """Import the sample's rasters that are not loaded yet (each its own dataset)."""
    app = current_app._get_current_object()
    for file_name, kind, event, name in SAMPLE_RASTERS:
        path = SAMPLE_FILE.parent / file_name
        if not path.exists() or dataset_named(db.session, name) is not None:
            continue
        dataset = audited_raster_import(app, path, {
            "name": name, "kind": kind, "event": event,
            "effective_date": SAMPLE_EFFECTIVE_DATE}, "zones.load-sample")
        click.echo(f"loaded dataset {dataset.id} '{name}': a {kind} raster")


def audited_raster_import(app: Flask, path: Path, fields: dict[str, Any], action: str
                          ) -> Dataset:
    """Import a raster file as a new dataset version (committed), audited as `action`; a
    refusal is a CLI error."""
    try:
        request = ImportRequest.parse(fields)
        dataset = runs.create_pending(db.session, request, path.name, None)
        runs.run_import(db.session, dataset, path, request,
                        files.UnpackLimits.from_config(app.config),
                        raster_target=jobs.raster_target(app))
    except AppError as error:
        db.session.rollback()
        audited(action, error.status, "dataset", file=path.name)
        fail(error)
    audited(action, 201, "dataset", dataset.id, file=path.name)
    return dataset


@zones_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--name", help="Dataset name (default: the file name); an existing name gets a "
              "new version.")
@click.option("--layer", help="Layer to import (default: the only one, or S_FLD_HAZ_AR).")
@click.option("--source-crs", help="CRS of a file that declares none, e.g. EPSG:3424.")
@click.option("--encoding", help="Text encoding of a .dbf without .cpg, e.g. cp1252.")
@click.option("--effective-date", help="Effective date of the map, YYYY-MM-DD.")
@click.option("--field-map", help='JSON mapping of NFHL fields to source fields, e.g. '
              '\'{"FLD_ZONE": "ZONE"}\'.')
@click.option("--repair/--no-repair", default=True, show_default=True,
              help="Repair invalid polygons (else refuse the whole import).")
def import_file(path: Path, name: str | None, layer: str | None, source_crs: str | None,
                encoding: str | None, effective_date: str | None, field_map: str | None,
                repair: bool) -> None:
    """Import a flood zone file (zipped shapefile or FileGDB, GeoPackage, GeoJSON, KML, ...)."""
    try:
        request = ImportRequest.parse({
            "name": name or path.stem, "layer": layer, "source_crs": source_crs,
            "encoding": encoding, "effective_date": effective_date, "field_map": field_map,
            "repair": repair,
        })
        dataset = runs.create_pending(db.session, request, path.name, None)
        with tqdm(total=0, unit=" features", desc="importing") as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            report = runs.run_import(db.session, dataset, path, request,
                                     files.UnpackLimits.from_config(current_app.config),
                                     progress)
    except AppError as error:
        db.session.rollback()
        audited("zones.import", error.status, "dataset", file=path.name)
        fail(error)
    audited("zones.import", 201, "dataset", dataset.id, file=path.name)
    click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    click.echo(f"dataset {dataset.id} '{dataset.name}': {report.imported} zones imported", err=True)


@rasters_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", required=True, type=click.Choice(["dem", "depth", "wse"]),
              help="dem: ground elevation; depth: water depth of an event; wse: water-surface "
              "elevation of an event.")
@click.option("--name", required=True, help="Dataset name; an existing name gets a new version.")
@click.option("--event", help="The event's annual chance in percent (1 for the 1% flood); "
              "for depth and wse.")
@click.option("--vertical-datum", help="Vertical datum of the values (e.g. NAVD88), when the "
              "file does not say.")
@click.option("--unit", help="Unit of the values (m, ft or ftUS), when the file does not say.")
@click.option("--effective-date", help="Effective date, YYYY-MM-DD.")
def import_raster(path: Path, kind: str, name: str, event: str | None,
                  vertical_datum: str | None, unit: str | None,
                  effective_date: str | None) -> None:
    """Import a GeoTIFF (DEM, depth or water-surface grid), stored as a Cloud Optimized GeoTIFF."""
    dataset = audited_raster_import(current_app._get_current_object(), path, {
        "name": name, "kind": kind, "event": event, "vertical_datum": vertical_datum,
        "unit": unit, "effective_date": effective_date}, "rasters.import")
    click.echo(json.dumps(dataset.import_report, indent=2, ensure_ascii=False))
    click.echo(f"dataset {dataset.id} '{dataset.name}': {kind} raster imported", err=True)


@click.command("worker")
@click.option("--concurrency", default=1, show_default=True, help="Jobs run at once.")
@click.option("--stalled-after", default=30.0, show_default=True,
              help="Seconds without a heartbeat after which a worker's jobs are retried "
              "(checked every GEOAPP_WORKER_SWEEP_S seconds).")
def worker(concurrency: int, stalled_after: float) -> None:
    """Run the background worker that performs queued imports and exports."""
    jobs.run_worker(current_app._get_current_object(), concurrency, stalled_after)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]),
              default=Role.VIEWER.value, show_default=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when omitted.",
)
def create_user(email: str, role: str, password: str) -> None:
    """Create a user account."""
    try:
        user = accounts.create_user(db.session, email, password, role)
        db.session.commit()
    except AppError as error:
        db.session.rollback()
        audited("users.create", error.status, "user", email=email, role=role)
        fail(error)
    audited("users.create", 201, "user", user.id, email=user.email, role=user.role)
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@users_cli.command("set-password")
@click.argument("email")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when omitted.",
)
def set_password(email: str, password: str) -> None:
    """Set a user's password; all their sign-ins end (API tokens stay valid)."""
    try:
        user = accounts.find_user(db.session, email)
        revoked = accounts.set_password(db.session, user, password)
        db.session.commit()
    except AppError as error:
        db.session.rollback()
        audited("users.set-password", error.status, "user", email=email)
        fail(error)
    audited("users.set-password", 200, "user", user.id, email=user.email)
    click.echo(f"password of {user.email} changed; {revoked} sign-in(s) ended")


@users_cli.command("sign-out-everywhere")
@click.argument("email")
def sign_out_everywhere(email: str) -> None:
    """End every sign-in of a user (session and remember cookies); API tokens stay valid."""
    try:
        user = accounts.find_user(db.session, email)
        revoked = accounts.revoke_all_sign_ins(db.session, user)
        db.session.commit()
    except AppError as error:
        db.session.rollback()
        audited("users.sign-out-everywhere", error.status, "user", email=email)
        fail(error)
    audited("users.sign-out-everywhere", 200, "user", user.id, email=user.email)
    click.echo(f"{revoked} sign-in(s) of {user.email} ended")


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="A label to tell tokens apart.")
def create_token(email: str, name: str) -> None:
    """Create an API token for a user and print it (it is shown only this once)."""
    try:
        user = accounts.find_user(db.session, email)
        issued = accounts.create_token(db.session, user, name)
        db.session.commit()
    except AppError as error:
        db.session.rollback()
        audited("tokens.create", error.status, "token", owner=email)
        fail(error)
    audited("tokens.create", 201, "token", issued.token.id, owner=user.email)
    click.echo(issued.secret)
    click.echo(
        f"token {issued.token.id} for {user.email}; store it now, it is not shown again", err=True
    )


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    for group in (zones_cli, rasters_cli, users_cli, tokens_cli, worker, serve.serve):
        app.cli.add_command(group)
