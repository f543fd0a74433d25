"""Uploaded files made safe to hand to GDAL: content sniffed, archives unpacked under limits.

Refused: empty files, files whose content is not what their extension says, zip entries with
absolute paths, `..` or symbolic links, archives that would unpack beyond a size or ratio limit
(zip bombs; sizes are counted while extracting, not taken from the headers).
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geoapp.errors import InvalidInput, PayloadTooLarge

# Vector formats GDAL reads for us, by extension.
SINGLE_FILE_SUFFIXES = {".gpkg", ".geojson", ".json", ".kml", ".fgb"}
ARCHIVE_SUFFIXES = {".zip", ".kmz"}
SUFFIXES = SINGLE_FILE_SUFFIXES | ARCHIVE_SUFFIXES | {".shp"}

ZIP_MAGIC = b"PK\x03\x04"
KNOWN_MAGIC = {  # first bytes of formats people mistake for ours, for a helpful message
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip file",
}
COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class UnpackLimits:
    """Bounds on what one upload may unpack to."""

    max_uncompressed_bytes: int = 4 << 30
    max_ratio: float = 200.0
    max_entries: int = 10_000


def describe(head: bytes) -> str:
    """What some leading bytes look like, for error messages."""
    for magic, name in KNOWN_MAGIC.items():
        if head.startswith(magic):
            return name
    if head.startswith(ZIP_MAGIC):
        return "a zip archive"
    return "something else"


def check_content(path: Path) -> None:
    """Refuse an empty file or one whose first bytes contradict its extension."""
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(f"{path.name} is empty (0 bytes)", code="empty_file")
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(64)
    text_head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    expected = {
        ".zip": head.startswith(ZIP_MAGIC),
        ".kmz": head.startswith(ZIP_MAGIC),
        ".gpkg": head.startswith(b"SQLite format 3\x00"),
        ".geojson": text_head.startswith(b"{"),
        ".json": text_head.startswith(b"{"),
        ".kml": text_head.startswith(b"<"),
        ".fgb": head.startswith(b"fgb"),
        ".shp": head[:4] == b"\x00\x00\x27\x0a",
    }
    if suffix not in expected:
        raise InvalidInput(
            f"{path.name}: unsupported file type; send a zipped shapefile or File Geodatabase, "
            "a GeoPackage, GeoJSON, KML/KMZ or FlatGeobuf",
            code="unsupported_format",
        )
    if not expected[suffix]:
        raise InvalidInput(
            f"{path.name} is not a {suffix[1:]} file (its content looks like {describe(head)})",
            code="wrong_content",
        )


def safe_member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    """The relative path of a zip entry, or InvalidInput for absolute, `..` and link entries."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/") or ":" in path.parts[0] or ".." in path.parts:
        raise InvalidInput(
            f"the archive holds an unsafe path ({info.filename!r}); nothing was imported",
            code="unsafe_archive",
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise InvalidInput(
            f"the archive holds a symbolic link ({info.filename!r}); nothing was imported",
            code="unsafe_archive",
        )
    return path


def extract_zip(archive: Path, target: Path, limits: UnpackLimits) -> None:
    """Unpack a zip into `target`, checking every entry and counting the bytes written."""
    try:
        handle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise InvalidInput(f"{archive.name} is not a readable zip archive",
                           code="wrong_content") from None
    with handle:
        members = handle.infolist()
        if len(members) > limits.max_entries:
            raise PayloadTooLarge(f"the archive has {len(members)} entries; the limit is "
                                  f"{limits.max_entries}")
        declared = sum(m.file_size for m in members)
        packed = max(sum(m.compress_size for m in members), 1)
        if declared > limits.max_uncompressed_bytes or declared / packed > limits.max_ratio:
            raise PayloadTooLarge(
                f"the archive would unpack to {declared:,} bytes ({declared / packed:.0f}x its "
                f"size); the limits are {limits.max_uncompressed_bytes:,} bytes and "
                f"{limits.max_ratio:.0f}x", code="archive_too_large")
        written = 0
        for member in members:
            relative = safe_member_path(member)
            destination = target.joinpath(*relative.parts)
            if member.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with handle.open(member) as source, destination.open("wb") as sink:
                while chunk := source.read(COPY_CHUNK):
                    written += len(chunk)
                    # Headers can lie: count what actually comes out.
                    if written > min(limits.max_uncompressed_bytes, packed * limits.max_ratio):
                        raise PayloadTooLarge(
                            "the archive unpacks to more than its limit "
                            f"({limits.max_uncompressed_bytes:,} bytes, "
                            f"{limits.max_ratio:.0f}x); nothing was imported",
                            code="archive_too_large")
                    sink.write(chunk)


SHP_HEADER_BYTES = 100  # its bytes 24-27 hold the file's length in 16-bit words, big-endian
DBF_HEADER_BYTES = 12  # record count (bytes 4-7), header and record sizes (8-9, 10-11), LE


def sibling_file(shp: Path, suffix: str) -> Path | None:
    """A shapefile's companion (".dbf", ".cpg", ...) in lower or upper case, if present."""
    for candidate in (shp.with_suffix(suffix.lower()), shp.with_suffix(suffix.upper())):
        if candidate.is_file():
            return candidate
    return None


def check_shapefile_complete(shp: Path) -> None:
    """Refuse a .shp or .dbf shorter than its header says (an interrupted copy or download).

    GDAL would read the lost shapes as empty and stop quietly before lost attribute records;
    a record count cannot tell instead, as deleted .dbf records are legitimately skipped.
    """
    with shp.open("rb") as handle:
        header = handle.read(SHP_HEADER_BYTES)
    if len(header) == SHP_HEADER_BYTES:
        expected = int.from_bytes(header[24:28], "big") * 2
    else:
        expected = SHP_HEADER_BYTES
    refuse_if_short(shp, expected)
    dbf = sibling_file(shp, ".dbf")
    if dbf is not None:
        with dbf.open("rb") as handle:
            header = handle.read(DBF_HEADER_BYTES)
        records = int.from_bytes(header[4:8], "little")
        header_size = int.from_bytes(header[8:10], "little")
        record_size = int.from_bytes(header[10:12], "little")
        refuse_if_short(dbf, max(header_size + records * record_size, DBF_HEADER_BYTES))


def refuse_if_short(path: Path, expected: int) -> None:
    """InvalidInput when a file is smaller than its header announces."""
    actual = path.stat().st_size
    if actual < expected:
        raise InvalidInput(
            f"{path.name} is cut short: {actual:,} bytes where its header announces "
            f"{expected:,}; copy or download it again", code="truncated_file")


def find_source(directory: Path, layer: str | None = None) -> Path:
    """The vector dataset inside an unpacked archive: a .gdb folder, a shapefile, or a file."""
    gdbs = sorted(p for p in directory.rglob("*.gdb") if p.is_dir())
    if gdbs:
        return gdbs[0]
    shapefiles = sorted(directory.rglob("*.shp"), key=lambda p: (len(p.parts), str(p)))
    if len(shapefiles) > 1:
        wanted = (layer or "S_FLD_HAZ_AR").lower()
        named = [p for p in shapefiles if p.stem.lower() == wanted]
        if not named:
            names = ", ".join(p.stem for p in shapefiles)
            raise InvalidInput(
                f"the archive holds several shapefiles ({names}); choose one with `layer`",
                code="layer_required")
        shapefiles = named
    if shapefiles:
        shp = shapefiles[0]
        if sibling_file(shp, ".shx") is None:
            raise InvalidInput(
                f"{shp.name} comes without its .shx index; zip the .shp, .shx, .dbf, .prj "
                "(and .cpg) together", code="incomplete_shapefile")
        check_shapefile_complete(shp)
        return shp
    others = sorted(p for p in directory.rglob("*")
                    if p.is_file() and p.suffix.lower() in SINGLE_FILE_SUFFIXES)
    if not others:
        raise InvalidInput(
            "the archive holds no shapefile, File Geodatabase, GeoPackage, GeoJSON, KML or "
            "FlatGeobuf", code="no_vector_data")
    return others[0]


def prepare(upload: Path, workdir: Path, limits: UnpackLimits, layer: str | None = None) -> Path:
    """The path GDAL should open for an uploaded file, unpacking archives into `workdir`."""
    if upload.is_dir():  # a File Geodatabase folder given on the command line
        return upload
    check_content(upload)
    suffix = upload.suffix.lower()
    if suffix == ".shp":
        check_shapefile_complete(upload)
    if suffix in ARCHIVE_SUFFIXES:
        target = workdir / "unpacked"
        target.mkdir(parents=True, exist_ok=True)
        extract_zip(upload, target, limits)
        if suffix == ".kmz":
            kml = sorted(target.rglob("*.kml"))
            if not kml:
                raise InvalidInput(f"{upload.name} holds no KML document", code="no_vector_data")
            return kml[0]
        return find_source(target, layer)
    return upload


def remove_tree(path: Path) -> None:
    """Delete a working directory, whatever is in it."""
    shutil.rmtree(path, ignore_errors=True)
