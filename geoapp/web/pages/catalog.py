"""Pages for GIS analysts: the datasets (list, detail, delete, download) and the upload form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from geoapp.db.models import Dataset
from geoapp.db.queries import datasets as datasets_sql
from geoapp.db.queries import rasters as rasters_sql
from geoapp.db.vocabulary import Role
from geoapp.errors import AppError, NotFound
from geoapp.extensions import db
from geoapp.ingest import exports, jobs, rasters
from geoapp.ingest.request import ImportRequest
from geoapp.web import uploads
from geoapp.web.auth import require_role
from geoapp.web.basemap import current_basemap
from geoapp.web.folium_maps import build_extent_map, render_parts

bp = Blueprint("datasets", __name__)


class UploadForm(FlaskForm):
    """The fields of an import (the file travels as `file`, checked by the pipeline)."""

    file = FileField("File")
    name = StringField("Dataset name", validators=[DataRequired(), Length(max=200)])
    effective_date = DateField("Effective date", validators=[Optional()])
    source_crs = StringField("Source CRS (only if the file has none)",
                             validators=[Optional(), Length(max=100)])
    encoding = StringField("Text encoding of a .dbf (overrides its .cpg)",
                           validators=[Optional(), Length(max=40)])
    layer = StringField("Layer", validators=[Optional(), Length(max=200)])
    field_map = TextAreaField("Field mapping (JSON, for non-NFHL schemas)",
                              validators=[Optional(), Length(max=2000)])
    repair = BooleanField("Repair invalid polygons", default=True)
    kind = SelectField("What the file holds", default="zones", choices=[
        SelectChoice("zones", "Flood zones (an NFHL layer or package)"),
        SelectChoice("dem", "Ground elevation raster (DEM, GeoTIFF)"),
        SelectChoice("depth", "Flood depth grid of an event (GeoTIFF)"),
        SelectChoice("wse", "Water-surface elevation grid of an event (GeoTIFF)")])
    event = StringField("Event of a depth or water-surface grid: annual chance in percent "
                        "(1 for the 1% flood)", validators=[Optional(), Length(max=10)])
    vertical_datum = StringField("Vertical datum of a raster (if the file does not say), "
                                 "e.g. NAVD88", validators=[Optional(), Length(max=32)])
    unit = StringField("Unit of a raster's values (if the file does not say): m, ft or ftUS",
                       validators=[Optional(), Length(max=10)])


def form_fields(form: UploadForm) -> dict[str, Any]:
    """The form's values, for ImportRequest.parse."""
    return {name: getattr(form, name).data for name in
            ("name", "effective_date", "source_crs", "encoding", "layer", "field_map", "repair",
             "kind", "event", "vertical_datum", "unit")}


@bp.route("/upload", methods=["GET", "POST"])
@require_role(Role.ANALYST)
def upload() -> ResponseReturnValue:
    """Upload a flood map file for import."""
    uploads.raise_upload_limit()
    form = UploadForm()
    error = None
    if form.validate_on_submit():
        try:
            import_request = ImportRequest.parse(form_fields(form), current_app.json.loads)
            dataset = uploads.accept(request.files.get("file"), import_request)
            return redirect(url_for("datasets.detail", dataset_id=dataset.id))
        except AppError as exc:
            db.session.rollback()
            error = exc.message
    status = 400 if (error or form.errors) else 200
    return render_template("datasets/upload.html", form=form, error=error,
                           max_mb=current_app.config["GEOAPP_UPLOAD_MAX_MB"]), status


@bp.get("/datasets")
def index() -> ResponseReturnValue:
    """Every dataset with its state."""
    datasets = db.session.scalars(datasets_sql.datasets_newest_first()).all()
    return render_template("datasets/index.html", datasets=datasets)


@bp.get("/datasets/<int:dataset_id>")
def detail(dataset_id: int) -> ResponseReturnValue:
    """One dataset: import report, zone breakdown, extent map, downloads."""
    dataset = db.session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    extent = db.session.execute(datasets_sql.dataset_extent(dataset_id)).one()
    parts = {}
    if extent[0] is not None:
        parts = render_parts(build_extent_map(tuple(float(v) for v in extent),
                                              current_basemap()))
    exported_by_worker = dataset.feature_count > current_app.config[
        "GEOAPP_EXPORT_INLINE_MAX_ZONES"]
    layers = db.session.scalars(rasters_sql.rasters_of_datasets([dataset_id])).all()
    return render_template("datasets/detail.html", dataset=dataset, rasters=layers,
                           report=dataset.import_report or {}, formats=list(exports.FORMATS),
                           exported_by_worker=exported_by_worker, **parts)


@bp.post("/datasets/<int:dataset_id>/delete")
@require_role(Role.ANALYST)
def delete(dataset_id: int) -> ResponseReturnValue:
    """Delete a dataset and its zones."""
    dataset = db.session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    name = dataset.name
    rasters.delete_dataset(db.session, dataset, jobs.raster_target(current_app).store)
    flash(f"Deleted {name}.")
    return redirect(url_for("datasets.index"))
