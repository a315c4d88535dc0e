"""The schools directory's source: the DfE "Get Information About Schools" (GIAS) establishment extract.

``import_gias_file`` reads an extract (``edubasealldataYYYYMMDD.csv``: Windows-1252, every field quoted,
dates dd-mm-yyyy, ~135 columns, ~50,000 rows for England) and creates or updates ``School`` rows by URN.
``write_gias_csv`` writes the same shape, for demo data and tests.

How a file is read
    Columns are found by name, never by position: the header has gained, lost and moved columns over the
    years (the Ofsted and RSC columns went in 2023, QAB and FSM came later). Names are matched ignoring case
    and spaces, and ``COLUMN_ALIASES`` maps the few that were renamed. EduBase extracts from before GIAS
    (2017) carried only the ``(name)`` half of most coded fields, the website as ``WebsiteAddress`` and the
    telephone split into ``TelephoneSTD`` + ``TelephoneNum``; they import too, the type group being looked
    up from its name or the establishment type when the ``(code)`` column is absent.

What is refused, what is rejected
    A file that is not a GIAS extract (empty, binary, UTF-16, a ZIP, not CSV, no ``URN`` column, missing
    the columns the directory needs) raises ``GiasFileError`` with one sentence, before anything is written.
    A row that cannot be read (bad URN, date, number on roll, LA code ...) becomes a ``RejectedRow`` with its
    line number and reason, and the other rows import.

Transaction policy
    The whole file is read and checked first, with no writes; then every write happens in one transaction,
    so an import either lands completely or not at all (a crash half-way leaves yesterday's directory, not
    a mixture). It stays fast on the national file because the writes are set-based: existing schools are
    fetched by URN in a few large queries, each row is compared field by field in Python (an unchanged row
    costs no query and keeps its ``updated_at``), and new and changed rows go to the database with
    ``bulk_create`` / ``bulk_update`` in batches. Row values are validated here, field by field, as
    ``clean_fields`` would (lengths, digits, dates), because calling ``full_clean`` 50,000 times would add
    a uniqueness query per row; URN uniqueness is kept by the prefetch plus the in-file duplicate check.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from portal.models import Council, School
from portal.models.schools import derive_funding_route, derive_phase

# The columns ``write_gias_csv`` writes, in the order of the real extract: the ones the directory reads plus a
# few neighbours, so that demo and test files look like the real thing (the import ignores the extras).
GIAS_COLUMNS: list[str] = [
    "URN",
    "LA (code)",
    "LA (name)",
    "EstablishmentNumber",
    "EstablishmentName",
    "TypeOfEstablishment (code)",
    "TypeOfEstablishment (name)",
    "EstablishmentTypeGroup (code)",
    "EstablishmentTypeGroup (name)",
    "EstablishmentStatus (code)",
    "EstablishmentStatus (name)",
    "ReasonEstablishmentOpened (name)",
    "OpenDate",
    "ReasonEstablishmentClosed (name)",
    "CloseDate",
    "PhaseOfEducation (code)",
    "PhaseOfEducation (name)",
    "StatutoryLowAge",
    "StatutoryHighAge",
    "Gender (name)",
    "ReligiousCharacter (name)",
    "SchoolCapacity",
    "CensusDate",
    "NumberOfPupils",
    "NumberOfBoys",
    "NumberOfGirls",
    "Trusts (code)",
    "Trusts (name)",
    "UKPRN",
    "LastChangedDate",
    "Street",
    "Locality",
    "Address3",
    "Town",
    "County (name)",
    "Postcode",
    "SchoolWebsite",
    "TelephoneNum",
    "HeadTitle (name)",
    "HeadFirstName",
    "HeadLastName",
    "GOR (name)",
    "DistrictAdministrative (name)",
    "UrbanRural (name)",
    "Easting",
    "Northing",
    "Country (name)",
    "UPRN",
]

# Older names for a current column. Matching already ignores case and spaces ("PostCode", "LA (Code)").
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "SchoolWebsite": ("WebsiteAddress",),  # EduBase extracts before GIAS
    "TelephoneNum": ("TelephoneNumber",),
    "EstablishmentName": ("SchoolName",),
}
# EduBase split the number: the dialling code lived in its own column and is put back in front.
TELEPHONE_STD_COLUMN = "TelephoneSTD"

# A file without these is not an extract the directory can be built from.
ESSENTIAL_COLUMNS = (
    "URN",
    "LA (code)",
    "LA (name)",
    "EstablishmentNumber",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentStatus (name)",
    "PhaseOfEducation (name)",
)

# Columns copied into a School text field as they are (after trimming).
TEXT_COLUMNS: dict[str, str] = {
    "LA (name)": "la_name",
    "EstablishmentName": "name",
    "TypeOfEstablishment (name)": "type_of_establishment",
    "EstablishmentTypeGroup (name)": "type_group",
    "EstablishmentStatus (name)": "status",
    "PhaseOfEducation (name)": "phase_of_education",
    "Street": "street",
    "Locality": "locality",
    "Town": "town",
    "Postcode": "postcode",
    "TelephoneNum": "telephone",
    "SchoolWebsite": "website",
    "UKPRN": "ukprn",
    "Trusts (name)": "trust_name",
}
DATE_COLUMNS: dict[str, str] = {"CensusDate": "census_date", "OpenDate": "open_date", "CloseDate": "close_date"}

# DfE's establishment type groups, and the group of each establishment type (GIAS reference data), used
# when a file has no "EstablishmentTypeGroup (code)" column or leaves it blank.
TYPE_GROUP_NAMES: dict[int, str] = {
    1: "Colleges",
    2: "Universities",
    3: "Independent schools",
    4: "Local authority maintained schools",
    5: "Special schools",
    6: "Welsh schools",
    9: "Other types",
    10: "Academies",
    11: "Free Schools",
    13: "Online provider",
}
_GROUP_BY_GROUP_NAME = {name.lower(): code for code, name in TYPE_GROUP_NAMES.items()}
_GROUP_BY_TYPE_NAME: dict[str, int] = {
    **dict.fromkeys(
        [
            "community school",
            "voluntary aided school",
            "voluntary controlled school",
            "foundation school",
            "pupil referral unit",
            "local authority nursery school",
        ],
        4,
    ),
    **dict.fromkeys(
        [
            "community special school",
            "non-maintained special school",
            "other independent special school",
            "foundation special school",
        ],
        5,
    ),
    **dict.fromkeys(["city technology college", "other independent school"], 3),
    **dict.fromkeys(["further education", "sixth form centres"], 1),
    "higher education institutions": 2,
    "welsh establishment": 6,
    **dict.fromkeys(
        [
            "secure units",
            "offshore schools",
            "service children's education",
            "miscellaneous",
            "special post 16 institution",
            "british schools overseas",
            "institution funded by other government department",
        ],
        9,
    ),
    **dict.fromkeys(
        [
            "academy sponsor led",
            "academy special sponsor led",
            "academy converter",
            "academy alternative provision converter",
            "academy alternative provision sponsor led",
            "academy special converter",
            "academy 16-19 converter",
            "academy 16 to 19 sponsor led",
            "academy secure 16 to 19",
        ],
        10,
    ),
    **dict.fromkeys(
        [
            "free schools",
            "free schools special",
            "free schools alternative provision",
            "free schools 16 to 19",
            "university technical college",
            "studio schools",
        ],
        11,
    ),
    "online provider": 13,
}

# Every School field an import sets: what is compared to tell an unchanged school from an updated one.
_COMPARED = [
    "urn",
    "la_code",
    *TEXT_COLUMNS.values(),
    "establishment_number",
    "laestab",
    *DATE_COLUMNS.values(),
    "number_on_roll",
    "type_group_code",
    "funding_route",
    "phase",
    "council_id",
    "email_domain",
]
_MAX_LENGTHS = {f.attname: f.max_length for f in School._meta.concrete_fields if getattr(f, "max_length", None)}
_DOMAIN_RE = re.compile(r"^(?=.{4,120}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_CHUNK = 1 << 20
PREFETCH_SIZE = 5000
BATCH_SIZE = 1000


class GiasFileError(Exception):
    """The file as a whole is refused (not a GIAS extract, unreadable): nothing was written."""


@dataclass
class RejectedRow:
    line: int
    urn: str
    reason: str


@dataclass
class GiasImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_other_la: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    urn: int
    values: dict  # School attribute -> value, for the columns this file has
    type_group_code: int | None


# --- Public API ------------------------------------------------------------------------------------------------


def import_gias_file(source, *, la_codes: Collection[str] | None = None, progress: bool = False) -> GiasImportResult:
    """Create or update schools from a GIAS extract; ``la_codes`` limits it to those local authorities.

    ``source`` is a path or a binary file object. Raises ``GiasFileError`` (nothing written) when the file is
    not a GIAS extract; rows that cannot be read are returned in ``result.rejected``.
    """
    wanted = _check_la_codes(la_codes)
    result = GiasImportResult()
    with _binary(source) as raw:
        encoding = _sniff_encoding(raw)
        rows = list(_read_rows(raw, encoding, wanted, result, progress=progress))
    _save(rows, result, progress=progress)
    return result


def write_gias_csv(rows: Iterable[dict[str, str]], stream, *, columns: Iterable[str] | None = None) -> None:
    """Write rows as a GIAS extract: Windows-1252, every field quoted, CRLF line ends, dates dd-mm-yyyy.

    ``stream`` is a binary file object (or a text one opened with ``newline=""``). Rows are keyed by column
    name; missing columns are written blank, and a key that is not a column raises ``ValueError`` so that a
    misspelt column never goes unnoticed. ``columns`` (default ``GIAS_COLUMNS``) sets the header, e.g. for
    a shuffled or older one. A character Windows-1252 lacks raises ``UnicodeEncodeError``, as GIAS cannot
    hold it either.
    """
    header = list(columns) if columns is not None else GIAS_COLUMNS
    known = set(header)
    text = stream if isinstance(stream, io.TextIOBase) else io.TextIOWrapper(stream, encoding="cp1252", newline="")
    try:
        writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            unknown = set(row) - known
            if unknown:
                raise ValueError(f"Not a column of this file: {', '.join(sorted(unknown))}")
            writer.writerow([_format_cell(row.get(name)) for name in header])
        text.flush()
    finally:
        if text is not stream:
            text.detach()  # hand the caller's stream back open


# --- Reading the file -------------------------------------------------------------------------------------------


def _check_la_codes(la_codes: Collection[str] | None) -> frozenset[str] | None:
    if la_codes is None:
        return None
    codes = frozenset(str(code).strip() for code in la_codes)
    bad = sorted(code for code in codes if not re.fullmatch(r"\d{3}", code))
    if bad:
        raise ValueError(f"An LA code is three digits, e.g. 860; got {', '.join(bad)}.")
    return codes


@contextmanager
def _binary(source) -> Iterator:
    if isinstance(source, str | os.PathLike):
        try:
            handle = open(source, "rb")  # noqa: SIM115 - closed below, after the reading is done
        except FileNotFoundError:
            raise GiasFileError(f"There is no file at {source}.") from None
        except IsADirectoryError:
            raise GiasFileError(f"{source} is a folder, not a GIAS extract.") from None
        except OSError as exc:
            raise GiasFileError(f"{source} cannot be opened: {exc.strerror}.") from None
        with handle:
            yield handle
        return
    if isinstance(source, io.TextIOBase):
        raise TypeError("import_gias_file needs a path or a binary file object, not a text stream.")
    if not source.seekable():
        # The file is read twice (encoding check, then rows): keep a copy of a pipe or upload stream.
        source = io.BytesIO(source.read())
    source.seek(0)
    yield source


def _sniff_encoding(raw) -> str:
    """Check the whole file is text in an encoding GIAS uses and say which; raise GiasFileError otherwise.

    GIAS writes Windows-1252; a file re-saved by a spreadsheet may be UTF-8. Anything that is valid UTF-8
    is read as UTF-8 (a Windows-1252 file with accented letters or curly quotes almost never is).
    """
    head = raw.read(_CHUNK)
    if not head.strip():
        raise GiasFileError("The file is empty: a GIAS extract starts with a header row naming its columns.")
    if head.startswith(b"PK\x03\x04"):
        raise GiasFileError(
            "The file is a ZIP archive (or an Excel workbook), not a GIAS extract: "
            "unzip the download and import the edubasealldata CSV inside."
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise GiasFileError("The file is UTF-16 text; a GIAS extract is a Windows-1252 CSV file, as downloaded.")
    utf8 = codecs.getincrementaldecoder("utf-8")()
    cp1252 = codecs.getincrementaldecoder("cp1252")()
    utf8_ok = cp1252_ok = True
    chunk = head
    while chunk:
        if b"\x00" in chunk:
            raise GiasFileError(
                "The file is binary (or UTF-16 text), not a GIAS extract, which is Windows-1252 CSV text."
            )
        if utf8_ok:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                utf8_ok = False
        if cp1252_ok:
            try:
                cp1252.decode(chunk)
            except UnicodeDecodeError:
                cp1252_ok = False
        chunk = raw.read(_CHUNK)
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:  # the file ends inside a character
            utf8_ok = False
    raw.seek(0)
    if utf8_ok:
        return "utf-8-sig"  # also reads plain ASCII, and drops the byte-order mark spreadsheets add
    if cp1252_ok:
        return "cp1252"
    raise GiasFileError("The file is not Windows-1252 or UTF-8 text, so it is not a GIAS extract.")


def _key(name: str) -> str:
    return re.sub(r"\s+", "", name).lower()


def _column_positions(header: list[str]) -> dict[str, int]:
    """Map each column we read to its position in this file's header."""
    positions = {}
    for index, name in enumerate(header):
        positions.setdefault(_key(name), index)  # a repeated column: the first one counts
    found = {}
    for column in [*GIAS_COLUMNS, TELEPHONE_STD_COLUMN]:
        for name in (column, *COLUMN_ALIASES.get(column, ())):
            if _key(name) in positions:
                found[column] = positions[_key(name)]
                break
    if "URN" not in found:
        raise GiasFileError("The file has no URN column, so it is not a GIAS establishment extract.")
    missing = [column for column in ESSENTIAL_COLUMNS if column not in found]
    if missing:
        raise GiasFileError(f"The file lacks columns every GIAS extract has: {', '.join(missing)}.")
    return found


def _read_rows(raw, encoding: str, wanted, result: GiasImportResult, *, progress: bool) -> Iterator[_Row]:
    total = _size(raw)
    with tqdm(
        total=total, unit="B", unit_scale=True, desc="Reading GIAS file", disable=not progress, leave=False
    ) as bar:
        text = io.TextIOWrapper(io.BufferedReader(_Counting(raw, bar), _CHUNK), encoding=encoding, newline="")
        reader = csv.reader(text, strict=True)
        try:
            header = next(reader, None)
            if not header or not any(cell.strip() for cell in header):
                raise GiasFileError("The file has no header row, so it is not a GIAS establishment extract.")
            positions = _column_positions(header)
            seen: dict[int, int] = {}
            last_line = reader.line_num
            for cells in reader:
                line, last_line = last_line + 1, reader.line_num
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                row = _parse_row(cells, line, len(header), positions, wanted, result)
                if row is None:
                    continue
                if row.urn in seen:
                    result.rejected.append(
                        RejectedRow(line, str(row.urn), f"URN {row.urn} appears again (first on line {seen[row.urn]})")
                    )
                    continue
                seen[row.urn] = line
                yield row
        except csv.Error as exc:
            raise GiasFileError(f"The file is not readable CSV near line {reader.line_num}: {exc}.") from None
        finally:
            text.detach()


def _parse_row(cells, line, width, positions, wanted, result) -> _Row | None:
    """One data row: a _Row, or None when it is rejected or belongs to another LA (recorded in result)."""

    def cell(column: str) -> str | None:
        index = positions.get(column)
        return None if index is None else cells[index].strip()

    urn_text = cell("URN")
    if len(cells) != width:
        result.rejected.append(RejectedRow(line, urn_text or "", f"it has {len(cells)} fields; the header has {width}"))
        return None
    problems = []
    urn = None
    if not urn_text:
        problems.append("URN is blank")
    elif not urn_text.isdigit() or len(urn_text) > 9 or int(urn_text) == 0:
        problems.append(f"URN {urn_text!r} is not a URN (a whole number)")
    else:
        urn = int(urn_text)
    la_code = cell("LA (code)")
    if not re.fullmatch(r"\d{3}", la_code):
        problems.append(f"LA (code) {la_code!r} is not three digits")
    elif wanted is not None and la_code not in wanted:
        result.skipped_other_la += 1
        return None

    values: dict = {"la_code": la_code}
    for column, attr in TEXT_COLUMNS.items():
        value = cell(column)
        if value is not None:
            values[attr] = value
    std = cell(TELEPHONE_STD_COLUMN)
    if std and values.get("telephone") and not values["telephone"].startswith("0"):
        values["telephone"] = std + values["telephone"]
    if not values["name"]:
        problems.append("EstablishmentName is blank")
    if not values["la_name"]:
        problems.append("LA (name) is blank")

    number = cell("EstablishmentNumber")
    if number and not (number.isdigit() and len(number) <= 4):
        problems.append(f"EstablishmentNumber {number!r} is not up to four digits")
        number = ""
    values["establishment_number"] = number.zfill(4) if number else ""
    values["laestab"] = f"{la_code}{values['establishment_number']}" if number else ""

    for column, attr in DATE_COLUMNS.items():
        text = cell(column)
        if text is not None:
            try:
                values[attr] = _parse_date(text)
            except ValueError:
                problems.append(f"{column} {text!r} is not a date written dd-mm-yyyy")

    pupils = cell("NumberOfPupils")
    if pupils is not None:
        if not pupils:
            values["number_on_roll"] = None
        elif pupils.isdigit() and len(pupils) <= 7:
            values["number_on_roll"] = int(pupils)
        else:
            problems.append(f"NumberOfPupils {pupils!r} is not a whole number")

    group_text = cell("EstablishmentTypeGroup (code)")
    group_code = None
    if group_text:
        if group_text.isdigit() and len(group_text) <= 4:
            group_code = int(group_text)
        else:
            problems.append(f"EstablishmentTypeGroup (code) {group_text!r} is not a number")
    else:
        group_code = _GROUP_BY_GROUP_NAME.get(values.get("type_group", "").lower()) or _GROUP_BY_TYPE_NAME.get(
            values["type_of_establishment"].lower()
        )
        if group_code and not values.get("type_group"):
            values["type_group"] = TYPE_GROUP_NAMES[group_code]
    values["type_group_code"] = group_code

    for attr, value in values.items():
        limit = _MAX_LENGTHS.get(attr)
        if limit and isinstance(value, str) and len(value) > limit:
            problems.append(f"{_column_for(attr)} is longer than {limit} characters")
    if problems:
        result.rejected.append(RejectedRow(line, urn_text or "", "; ".join(problems)))
        return None
    return _Row(line=line, urn=urn, values=values, type_group_code=group_code)


def _column_for(attr: str) -> str:
    for column, name in (*TEXT_COLUMNS.items(), ("EstablishmentNumber", "establishment_number")):
        if name == attr:
            return column
    return attr


def _parse_date(text: str) -> date | None:
    """dd-mm-yyyy as GIAS writes it (dd/mm/yyyy after a spreadsheet has been at it); blank is no date."""
    if not text:
        return None
    if len(text) == 10 and text[2] == text[5] and text[2] in "-/" and (text[:2] + text[3:5] + text[6:]).isdigit():
        return date(int(text[6:]), int(text[3:5]), int(text[:2]))  # the usual case, without a regex
    parts = re.split(r"[-/]", text)
    if len(parts) != 3 or len(parts[2]) != 4 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    day, month, year = (int(p) for p in parts)
    return date(year, month, day)


def _size(raw) -> int | None:
    try:
        return os.fstat(raw.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        end = raw.seek(0, io.SEEK_END)
        raw.seek(0)
        return end


class _Counting(io.RawIOBase):
    """A read-only view of a binary file that moves a progress bar by the bytes read."""

    def __init__(self, raw, bar):
        self._raw, self._bar = raw, bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._bar.update(len(data))
        return len(data)


# --- Writing the schools ----------------------------------------------------------------------------------------


def email_domain_from_website(website: str) -> str:
    """The host of a school's website without "www.", when it looks like a domain people have email at."""
    text = (website or "").strip()
    if not text:
        return ""
    if "://" not in text:
        text = "http://" + text
    try:
        host = (urlsplit(text).hostname or "").rstrip(".")
    except ValueError:
        return ""
    host = host.removeprefix("www.")
    return host if _DOMAIN_RE.match(host) else ""


def _is_closed(values: dict) -> bool:
    return values.get("status", "").lower() == "closed"


@transaction.atomic
def _save(rows: list[_Row], result: GiasImportResult, *, progress: bool) -> None:
    councils = dict(Council.objects.values_list("la_code", "pk"))
    # Existing schools as plain dicts: building 50,000 model instances only to find most unchanged is the
    # slowest part of a re-import; an instance is made only for a school that changed.
    existing: dict[int, dict] = {}
    urns = [row.urn for row in rows]
    for start in range(0, len(urns), PREFETCH_SIZE):
        for current in School.objects.filter(urn__in=urns[start : start + PREFETCH_SIZE]).values("id", *_COMPARED):
            existing[current["urn"]] = current

    # A staff member whose email is at a school's domain joins it without approval, so a domain is only
    # taken from a website that no other open school in the file uses and no other school already holds:
    # a trust's shared site or a hosting platform's domain must not let one school's staff into another.
    candidate = {row.urn: email_domain_from_website(row.values.get("website", "")) for row in rows}
    in_file = Counter(candidate[row.urn] for row in rows if not _is_closed(row.values))
    held = dict(School.objects.exclude(email_domain="").values_list("email_domain", "urn"))

    def usable_domain(row: _Row) -> str:
        domain = candidate[row.urn]
        if not domain or _is_closed(row.values) or in_file[domain] > 1:
            return ""
        return domain if held.get(domain, row.urn) == row.urn else ""

    now = timezone.now()
    to_create, to_update, changed_fields = [], [], set()
    for row in tqdm(rows, desc="Comparing schools", unit=" schools", disable=not progress, leave=False):
        current = existing.get(row.urn)
        values = dict(row.values)
        type_name = values["type_of_establishment"]
        values["funding_route"] = derive_funding_route(row.type_group_code, type_name)
        values["phase"] = derive_phase(values["phase_of_education"], row.type_group_code, type_name)
        values["council_id"] = councils.get(values["la_code"])
        if current is None or not current["email_domain"]:  # never replace a domain an administrator set
            domain = usable_domain(row)
            if domain:
                values["email_domain"] = domain
        if current is None:
            to_create.append(School(urn=row.urn, **values))
            continue
        changed = [attr for attr, value in values.items() if current[attr] != value]
        if not changed:
            result.unchanged += 1
            continue
        # bulk_update writes every listed column of every object, so the instance carries all current values.
        school = School(**{**current, **values})
        school.updated_at = now  # bulk_update does not run auto_now
        changed_fields.update(changed)
        to_update.append(school)

    School.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    if to_update:
        # Only the columns that changed somewhere, so a typical re-import sends small UPDATE statements.
        School.objects.bulk_update(to_update, [*sorted(changed_fields), "updated_at"], batch_size=BATCH_SIZE // 2)
    result.created, result.updated = len(to_create), len(to_update)


# --- Writing files ----------------------------------------------------------------------------------------------


def _format_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    return str(value)
