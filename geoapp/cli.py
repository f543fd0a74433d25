"""Command line: `flask zones ...`, `flask users ...`, `flask tokens ...`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from geoapp import PROJECT_DIR, accounts
from geoapp.errors import AppError
from geoapp.extensions import db
from geoapp.models import ROLES
from geoapp.sources import read_layer
from geoapp.zones import create_dataset, dataset_named

SAMPLE_FILE = PROJECT_DIR / "data" / "sample" / "manasquan_nfhl.geojson"
SAMPLE_NAME = "Manasquan River, NJ (synthetic sample)"
SAMPLE_EFFECTIVE_DATE = dt.date(2024, 6, 20)

zones_cli = AppGroup("zones", help="Flood zone datasets.")
users_cli = AppGroup("users", help="User accounts.")
tokens_cli = AppGroup("tokens", help="API tokens.")


def fail(error: AppError) -> None:
    """Print a domain error as a CLI error (exit code 1)."""
    raise click.ClickException(error.message)


@zones_cli.command("load-sample")
@click.option(
    "--path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=SAMPLE_FILE,
    show_default=True,
    help="GeoJSON file to load.",
)
@click.option("--name", default=SAMPLE_NAME, show_default=True, help="Dataset name.")
def load_sample(path: Path, name: str) -> None:
    """Load the sample flood map once (does nothing when it is already loaded)."""
    existing = dataset_named(db.session, name)
    if existing is not None:
        click.echo(f"sample already loaded: dataset {existing.id} ({existing.feature_count} zones)")
        return
    try:
        layer = read_layer(path)
        dataset = create_dataset(
            db.session,
            name=name,
            features=layer.features(),
            source_filename=path.name,
            source_crs=layer.source_crs,
            effective_date=SAMPLE_EFFECTIVE_DATE,
        )
        db.session.commit()
    except AppError as error:
        db.session.rollback()
        fail(error)
    click.echo(f"loaded dataset {dataset.id} '{name}': {dataset.feature_count} zones")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
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
        fail(error)
    click.echo(f"created {user.role} {user.email} (id {user.id})")


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
        fail(error)
    click.echo(issued.secret)
    click.echo(
        f"token {issued.token.id} for {user.email}; store it now, it is not shown again", err=True
    )


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    for group in (zones_cli, users_cli, tokens_cli):
        app.cli.add_command(group)
