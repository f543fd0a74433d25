"""Receiving an upload: files made safe to hand to GDAL, content sniffed, archives unpacked.

Refused: empty files, files whose content is not what their extension says (a .kml must be a
KML document, a .geojson a JSON object, ...), KML that links to other documents (NetworkLink,
external styles or schemas), GeoJSON whose "crs" is a link rather than a name, DTDs and
entities, zip entries with absolute paths, `..`, symbolic links or GDAL virtual datasets
(.vrt), archives that would unpack beyond a size or ratio limit (zip bombs; sizes are counted
while extracting, not taken from the headers). The member of an archive that will be opened
is checked like a file of its own, before and after unpacking. Each extension names the GDAL
driver(s) allowed to open it (EXPECTED_DRIVERS): the pipeline refuses a file GDAL opened with
another one. geoapp.ingest.gdal_safety keeps every other driver out of the process.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from geoapp.errors import InvalidInput, PayloadTooLarge
from geoapp.nfhl import layers as nfhl_layers

# Vector formats GDAL reads for us, by extension.
SINGLE_FILE_SUFFIXES = {".gpkg", ".geojson", ".json", ".kml", ".fgb"}
ARCHIVE_SUFFIXES = {".zip", ".kmz"}
SUFFIXES = SINGLE_FILE_SUFFIXES | ARCHIVE_SUFFIXES | {".shp"}
# The only GDAL drivers allowed to open each kind of source (".gdb" is a folder).
EXPECTED_DRIVERS = {
    ".shp": frozenset({"ESRI Shapefile"}),
    # A table of a shapefile package without geometry (L_COMM_INFO.dbf, STUDY_INFO.dbf).
    ".dbf": frozenset({"ESRI Shapefile"}),
    ".gdb": frozenset({"OpenFileGDB"}),
    ".gpkg": frozenset({"GPKG"}),
    ".geojson": frozenset({"GeoJSON"}),
    ".json": frozenset({"GeoJSON"}),
    ".kml": frozenset({"LIBKML", "KML"}),
    ".fgb": frozenset({"FlatGeobuf"}),
}
# Archive members refused outright: files GDAL would open as a description of other files.
REFUSED_MEMBER_SUFFIXES = {".vrt": "a GDAL virtual dataset (.vrt)"}

ZIP_MAGIC = b"PK\x03\x04"
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
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

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> UnpackLimits:
        """The limits set by GEOAPP_UPLOAD_MAX_UNPACKED_MB and GEOAPP_UPLOAD_MAX_RATIO."""
        return cls(max_uncompressed_bytes=config["GEOAPP_UPLOAD_MAX_UNPACKED_MB"] * 1024 * 1024,
                   max_ratio=config["GEOAPP_UPLOAD_MAX_RATIO"])


def describe(head: bytes) -> str:
    """What some leading bytes look like, for error messages."""
    for magic, name in KNOWN_MAGIC.items():
        if head.startswith(magic):
            return name
    if head.startswith(ZIP_MAGIC):
        return "a zip archive"
    return "something else"


def check_content(path: Path) -> None:
    """Refuse an empty file or one whose content contradicts its extension."""
    with path.open("rb") as handle:
        check_stream(path.name, path.stat().st_size, handle)


def check_stream(name: str, size: int, stream: IO[bytes]) -> None:
    """Refuse the content of a file (or archive member) called `name` that is not as named."""
    if size == 0:
        raise InvalidInput(f"{name} is empty (0 bytes)", code="empty_file")
    suffix = PurePosixPath(name).suffix.lower()
    head = stream.read(HEAD_BYTES)
    text_head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    expected = {
        ".zip": head.startswith(ZIP_MAGIC),
        ".kmz": head.startswith(ZIP_MAGIC),
        ".gpkg": head.startswith(b"SQLite format 3\x00"),
        ".geojson": text_head.startswith(b"{"),
        ".json": text_head.startswith(b"{"),
        ".kml": kml_root(text_head, name),
        ".fgb": head.startswith(b"fgb"),
        ".shp": head[:4] == b"\x00\x00\x27\x0a",
        # TIFF and BigTIFF, either byte order (a raster: geoapp.ingest.rasters).
        ".tif": head[:4] in TIFF_MAGIC,
        ".tiff": head[:4] in TIFF_MAGIC,
    }
    if suffix not in expected:
        raise InvalidInput(
            f"{name}: unsupported file type; send a zipped shapefile or File Geodatabase, "
            "a GeoPackage, GeoJSON, KML/KMZ or FlatGeobuf (or a GeoTIFF raster)",
            code="unsupported_format",
        )
    if not expected[suffix]:
        raise InvalidInput(
            f"{name} is not a {suffix[1:]} file (its content looks like {describe(head)})",
            code="wrong_content",
        )
    if suffix == ".kml":
        refuse_references(name, chunks(head, stream), KML_REFERENCES)
    elif suffix in (".geojson", ".json"):
        refuse_references(name, chunks(head, stream), GEOJSON_REFERENCES)


HEAD_BYTES = 64 * 1024
SCAN_CHUNK = 1 << 20
# A reference is looked for in windows overlapping by this much, so none is cut in two.
SCAN_OVERLAP = 8 * 1024
XML_NAME = rb"(?:[A-Za-z_][\w.-]*:)?"


def kml_root(text: bytes, name: str) -> bool:
    """Whether XML text starts (after its prolog) with a `kml` root element; no DTD allowed."""
    position = 0
    while True:
        while position < len(text) and text[position:position + 1].isspace():
            position += 1
        rest = text[position:]
        if rest.startswith(b"<?"):
            end = rest.find(b"?>")
        elif rest.startswith(b"<!--"):
            end = rest.find(b"-->")
        elif rest.startswith(b"<!"):
            raise InvalidInput(f"{name} declares a DTD or entities (<!DOCTYPE ...>), which "
                               "KML does not use; nothing was imported", code="wrong_content")
        else:
            return re.match(rb"<" + XML_NAME + rb"kml[\s>/]", rest) is not None
        if end < 0:
            return False
        position += end + 2


def chunks(head: bytes, stream: IO[bytes]) -> Iterable[bytes]:
    """The whole content of a stream whose first bytes were already read."""
    yield head
    while chunk := stream.read(SCAN_CHUNK):
        yield chunk


@dataclass(frozen=True)
class Reference:
    """A pointer to another document that content must not hold.

    Patterns begin with a literal (fast to search); `after` are the bytes allowed just before
    a match (None: any), which tells an element's start tag from other text.
    """

    pattern: re.Pattern[bytes]
    why: str
    after: bytes | None = None


def refuse_references(name: str, content: Iterable[bytes], checks: list[Reference]) -> None:
    """InvalidInput when the content holds one of the references `checks` look for."""
    tail = b""
    remaining = iter(content)
    pending = next(remaining, b"")
    while pending:
        following = next(remaining, b"")
        window = tail + pending
        for check in checks:
            for found in check.pattern.finditer(window):
                before = window[found.start() - 1:found.start()]
                if check.after is not None and (not before or before not in check.after):
                    continue
                reason = why_refused(found, check.why, final=not following)
                if reason:
                    raise InvalidInput(f"{name}: {reason}; nothing was imported",
                                       code="external_reference")
        tail, pending = window[-SCAN_OVERLAP:], following


def why_refused(found: re.Match[bytes], why: str, final: bool) -> str | None:
    """The reason a found reference is refused, or None when it is harmless (or seen later)."""
    if why != "geojson crs":
        return why
    start = found.end() - 1
    described = json_object_at(found.string, start)
    if described is None and not final and start + SCAN_OVERLAP > len(found.string):
        return None  # cut by the end of this window: the next one holds it whole
    crs = None
    if described is not None:
        try:
            crs = json.loads(described)
        except ValueError:
            crs = None
    if isinstance(crs, dict) and crs_is_named(crs):
        return None
    return ('its "crs" is not a CRS name (links and files are not followed); name the CRS, '
            'e.g. "crs": {"type": "name", "properties": {"name": "EPSG:3424"}}, or give '
            "source_crs")


# What a GeoJSON "crs" may name: an authority code, an OGC URN or an OGC CRS URL.
CRS_NAME = re.compile(r"(?:urn:ogc:def:crs:[A-Za-z0-9.:_-]+|[A-Za-z][A-Za-z0-9_]*:{1,2}"
                      r"[A-Za-z0-9._]+|https?://www\.opengis\.net/def/crs/[A-Za-z0-9._/-]+)")


def crs_is_named(crs: dict[str, object]) -> bool:
    """Whether a GeoJSON (2008) crs member names its CRS rather than pointing elsewhere."""
    properties = crs.get("properties")
    if not isinstance(properties, dict):
        return False
    kind = str(crs.get("type", "")).lower()
    if kind == "name":
        return isinstance(properties.get("name"), str) and CRS_NAME.fullmatch(
            properties["name"].strip()) is not None
    if kind == "epsg":
        return isinstance(properties.get("code"), int)
    return False


def json_object_at(text: bytes, start: int) -> bytes | None:
    """The JSON object beginning at text[start] ("{"), or None if it does not end in view."""
    depth, in_string, escaped = 0, False, False
    for position in range(start, min(len(text), start + SCAN_OVERLAP)):
        byte = text[position]
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte == 0x7B:  # {
            depth += 1
        elif byte == 0x7D:  # }
            depth -= 1
            if depth == 0:
                return text[start:position + 1]
    return None


# Start tags (`<NetworkLink`, `<kml:styleUrl`) follow "<" or a namespace prefix's ":".
TAG_START = b"<:"
KML_REFERENCES = [
    Reference(re.compile(rb"<!(?:DOCTYPE|ENTITY)"), "it declares a DTD or entities, which "
              "KML does not use"),
    Reference(re.compile(rb"NetworkLink[\s>/]"), "it holds a NetworkLink to another "
              "document; links are not followed, send the linked document itself", TAG_START),
    Reference(re.compile(rb"styleUrl\s*>\s*(?!#)[^<\s]"), "a styleUrl points to another "
              "document; only styles inside the file (#id) may be used", TAG_START),
    Reference(re.compile(rb"schemaUrl\s*=\s*[\"'](?!#)"), "a schemaUrl points to another "
              "document; only schemas inside the file (#id) may be used", b" \t\r\n"),
]
GEOJSON_REFERENCES = [Reference(re.compile(rb'"crs"\s*:\s*\{'), "geojson crs")]


def safe_member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    """The relative path of a zip entry, or InvalidInput for unsafe and refused entries.

    Refused: absolute paths, `..`, symbolic links, and files GDAL would read as a
    description of other files (.vrt).
    """
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
    refused = REFUSED_MEMBER_SUFFIXES.get(path.suffix.lower())
    if refused is not None:
        raise InvalidInput(
            f"the archive holds {refused} ({path.name!r}), which would make GDAL read other "
            "files; nothing was imported", code="unsafe_archive")
    return path


def open_zip(archive: Path) -> zipfile.ZipFile:
    """A zip archive opened for reading, or InvalidInput if it is not one."""
    try:
        return zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise InvalidInput(f"{archive.name} is not a readable zip archive",
                           code="wrong_content") from None


def check_declared_sizes(members: list[zipfile.ZipInfo], limits: UnpackLimits) -> int:
    """Refuse an archive whose headers announce too many entries or bytes; its packed size."""
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
    return packed


def check_archive(archive: Path, limits: UnpackLimits, layer: str | None = None) -> None:
    """Refuse an archive before unpacking it: unsafe entries, or a source not as named.

    The member that will be opened is chosen as after unpacking and its content checked.
    """
    with open_zip(archive) as handle:
        members = handle.infolist()
        check_declared_sizes(members, limits)
        files = {safe_member_path(m): m for m in members if not m.is_dir()}
        chosen = choose_member(list(files), layer, archive.suffix.lower() == ".kmz",
                               archive.name)
        member = files.get(chosen)
        if member is not None:  # a file (a .gdb is a folder of tables GDAL reads itself)
            with handle.open(member) as stream:
                check_stream(chosen.name, member.file_size, stream)


def extract_zip(archive: Path, target: Path, limits: UnpackLimits) -> None:
    """Unpack a zip into `target`, checking every entry and counting the bytes written."""
    with open_zip(archive) as handle:
        members = handle.infolist()
        packed = check_declared_sizes(members, limits)
        relatives = [safe_member_path(member) for member in members]
        written = 0
        for member, relative in zip(members, relatives, strict=True):
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
        check_table_complete(dbf)


def check_table_complete(dbf: Path) -> None:
    """Refuse a .dbf shorter than its header's record count and sizes say."""
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


def choose_member(files: list[PurePosixPath], layer: str | None, kmz: bool = False,
                  archive: str = "the archive") -> PurePosixPath:
    """Which of an archive's files (relative paths) to open: a .gdb folder, a shapefile, a file.

    A KMZ opens its first KML document.
    """
    if kmz:
        kml = sorted(f for f in files if f.suffix.lower() == ".kml")
        if not kml:
            raise InvalidInput(f"{archive} holds no KML document", code="no_vector_data")
        return kml[0]
    gdbs = sorted({parent for f in files for parent in f.parents
                   if parent.suffix.lower() == ".gdb"})
    if gdbs:
        return gdbs[0]
    shapefiles = sorted((f for f in files if f.suffix.lower() == ".shp"),
                        key=lambda p: (len(p.parts), str(p)))
    if shapefiles and layer is None and (missing := nfhl_layers.missing_zone_layer(
            [p.stem for p in files if p.suffix.lower() in (".shp", ".dbf")])):
        # NFHL layers without the flood hazard areas (one shapefile and tables, say).
        raise InvalidInput(missing, code="missing_zone_layer")
    if len(shapefiles) > 1:
        wanted = (layer or nfhl_layers.ZONE_LAYER).lower()
        named = [p for p in shapefiles if p.stem.lower() == wanted]
        if not named and layer is None:
            # An NFHL package names its zone layer with a prefix at times (34025C_S_FLD_HAZ_AR).
            named = [p for p in shapefiles
                     if nfhl_layers.package_layer_name(p.stem) == nfhl_layers.ZONE_LAYER]
        if not named:
            names = ", ".join(p.stem for p in shapefiles)
            raise InvalidInput(
                f"the archive holds several shapefiles ({names}); choose one with `layer`",
                code="layer_required")
        shapefiles = named
    if shapefiles:
        return shapefiles[0]
    others = sorted(f for f in files if f.suffix.lower() in SINGLE_FILE_SUFFIXES)
    if not others:
        raise InvalidInput(
            "the archive holds no shapefile, File Geodatabase, GeoPackage, GeoJSON, KML or "
            "FlatGeobuf", code="no_vector_data")
    return others[0]


def find_source(directory: Path, layer: str | None = None, kmz: bool = False,
                archive: str = "the archive") -> Path:
    """The vector dataset inside an unpacked archive, its content checked."""
    files = [PurePosixPath(p.relative_to(directory).as_posix())
             for p in directory.rglob("*") if p.is_file()]
    source = directory.joinpath(*choose_member(files, layer, kmz, archive).parts)
    if source.is_dir():
        return source
    check_content(source)
    if source.suffix.lower() == ".shp":
        if sibling_file(source, ".shx") is None:
            raise InvalidInput(
                f"{source.name} comes without its .shx index; zip the .shp, .shx, .dbf, .prj "
                "(and .cpg) together", code="incomplete_shapefile")
        check_shapefile_complete(source)
    return source


def expected_drivers(source: Path) -> frozenset[str]:
    """The GDAL drivers allowed to open a source, by its extension."""
    drivers = EXPECTED_DRIVERS.get(source.suffix.lower())
    if drivers is None or source.is_dir() != (source.suffix.lower() == ".gdb"):
        raise InvalidInput(
            f"{source.name}: unsupported file type; send a zipped shapefile or File "
            "Geodatabase, a GeoPackage, GeoJSON, KML/KMZ or FlatGeobuf",
            code="unsupported_format")
    return drivers


def check_upload(upload: Path, limits: UnpackLimits, layer: str | None = None) -> None:
    """Refuse an uploaded file, or an archive, that is not what its name says."""
    check_content(upload)
    if upload.suffix.lower() in ARCHIVE_SUFFIXES:
        check_archive(upload, limits, layer)


def package_root(upload: Path, workdir: Path) -> Path | None:
    """Where the other layers of a package are, beside the zones `prepare` chose: the
    unpacked archive or the folder given; None for a single file."""
    if upload.suffix.lower() in ARCHIVE_SUFFIXES:
        return workdir / "unpacked"
    if upload.is_dir() and upload.suffix.lower() != ".gdb":
        return upload
    return None


def prepare(upload: Path, workdir: Path, limits: UnpackLimits, layer: str | None = None) -> Path:
    """The path GDAL should open for an uploaded file, unpacking archives into `workdir`."""
    if upload.is_dir():
        if upload.suffix.lower() != ".gdb":  # a folder of shapefiles (an NFHL package)
            return find_source(upload, layer, archive=upload.name)
        expected_drivers(upload)  # a File Geodatabase folder given on the command line
        return upload
    check_content(upload)
    suffix = upload.suffix.lower()
    if suffix == ".shp":
        check_shapefile_complete(upload)
    if suffix in ARCHIVE_SUFFIXES:
        target = workdir / "unpacked"
        target.mkdir(parents=True, exist_ok=True)
        extract_zip(upload, target, limits)
        return find_source(target, layer, suffix == ".kmz", upload.name)
    return upload


# An absolute path (or /vsi... path) inside a message from GDAL or the system.
PATH_IN_TEXT = re.compile(r"(?<![\w.])/[^\s'\"`<>|,;:()\[\]{}]*")


def public_reason(error: BaseException | str) -> str:
    """A GDAL (or OS) error message with every server path cut down to the file's name."""

    def name_only(found: re.Match[str]) -> str:
        return PurePosixPath(found.group()).name or "(a folder)"

    return PATH_IN_TEXT.sub(name_only, str(error)).strip()


def remove_tree(path: Path) -> None:
    """Delete a working directory, whatever is in it."""
    shutil.rmtree(path, ignore_errors=True)
