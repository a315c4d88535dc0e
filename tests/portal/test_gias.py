"""The GIAS import: reading extracts by column name, rejecting bad rows, refusing non-GIAS files."""

import codecs
import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.gias import GIAS_COLUMNS, GiasFileError, RejectedRow, import_gias_file, write_gias_csv
from portal.models import School
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "gias"
SAMPLE = FIXTURES / "edubasealldata_sample.csv"
EDUBASE_2015 = FIXTURES / "edubase_2015_sample.csv"
SAMPLE_URNS = {124301, 124302, 145001, 123401, 149002, 123402, 116901, 116902, 140001, 116000, 125001}


def make_row(urn: str, changes: dict[str, str] | None = None) -> dict[str, str]:
    """A valid GIAS row for an open maintained primary school in Staffordshire, with `changes` applied."""
    row = {
        "URN": urn,
        "LA (code)": "860",
        "LA (name)": "Staffordshire",
        "EstablishmentNumber": str(2000 + int("0" + "".join(c for c in urn if c.isdigit())) % 1000),
        "EstablishmentName": f"School {urn} Primary",
        "TypeOfEstablishment (name)": "Community school",
        "EstablishmentTypeGroup (code)": "4",
        "EstablishmentTypeGroup (name)": "Local authority maintained schools",
        "EstablishmentStatus (name)": "Open",
        "PhaseOfEducation (name)": "Primary",
        "CensusDate": "16-01-2025",
        "NumberOfPupils": "210",
        "Town": "Stafford",
        "Postcode": "ST16 1AA",
        "SchoolWebsite": f"www.school{urn}.staffs.sch.uk",
    }
    row.update(changes or {})
    return row


def gias_file(rows, *, columns=None) -> io.BytesIO:
    """An in-memory GIAS extract."""
    stream = io.BytesIO()
    write_gias_csv(rows, stream, columns=columns)
    stream.seek(0)
    return stream


def snapshot() -> list[tuple]:
    """Every school's full row, to prove that nothing was written."""
    return list(School.objects.order_by("urn").values_list())


# --- A good file -----------------------------------------------------------------------------------------------


def test_good_file_creates_schools_with_windows_1252_names_and_derived_fields(councils):
    """The sample extract (Windows-1252) creates every school with exact names, LAESTAB, council and derivations."""
    assert "St Mary\x92s".encode("latin-1") in SAMPLE.read_bytes()  # the curly apostrophe as cp1252 writes it

    result = import_gias_file(SAMPLE)

    assert (result.created, result.updated, result.unchanged, result.rejected) == (11, 0, 0, [])
    assert set(School.objects.values_list("urn", flat=True)) == SAMPLE_URNS
    st_marys = School.objects.get(urn=124301)
    assert st_marys.name == "St Mary\u2019s Catholic Primary School"
    assert st_marys.laestab == "8603401"
    assert st_marys.council == councils["staffordshire"]
    assert (st_marys.funding_route, st_marys.phase) == ("maintained", "primary")
    assert (st_marys.number_on_roll, st_marys.census_date) == (208, date(2025, 1, 16))
    assert st_marys.email_domain == "stmarys-rc.staffs.sch.uk"
    assert (st_marys.telephone, st_marys.ukprn, st_marys.town) == ("01785220000", "10010000", "Stafford")
    cafe = School.objects.get(urn=125001)
    assert cafe.name == "Caf\u00e9 Lane Primary School"
    assert cafe.council is None  # Warwickshire is not a partnership council
    academy = School.objects.get(urn=145001)
    assert (academy.trust_name, academy.open_date) == ("Chase Learning Trust", date(2011, 9, 1))
    assert academy.email_domain == "chaseheights.org.uk"  # scheme and path dropped
    closed = School.objects.get(urn=116000)
    assert (closed.status, closed.close_date, closed.number_on_roll) == ("Closed", date(2015, 8, 31), None)
    assert closed.email_domain == ""  # a closed school's staff join nobody automatically
    for school in School.objects.all():
        school.full_clean()


def test_shuffled_columns_and_unknown_extra_columns_import_the_same(councils):
    """Column order does not matter and columns the import does not know are ignored."""
    rows = [make_row("100001"), make_row("100002", {"LA (code)": "893", "LA (name)": "Shropshire"})]
    columns = list(reversed(GIAS_COLUMNS)) + ["QABName (name)", "FSM"]
    for row in rows:
        row["QABName (name)"], row["FSM"] = "Not applicable", "42"

    result = import_gias_file(gias_file(rows, columns=columns))

    assert (result.created, result.rejected) == (2, [])
    school = School.objects.get(urn=100002)
    assert (school.la_code, school.laestab, school.council) == ("893", "8932002", councils["shropshire"])
    assert (school.number_on_roll, school.postcode, school.phase) == (210, "ST16 1AA", "primary")


def test_old_edubase_header_imports(councils):
    """An EduBase-era extract (no "(code)" type group, WebsiteAddress, TelephoneSTD + TelephoneNum) imports."""
    result = import_gias_file(EDUBASE_2015)

    assert (result.created, result.rejected) == (11, [])
    academy = School.objects.get(urn=145001)
    assert (academy.type_group_code, academy.funding_route, academy.phase) == (10, "academy", "secondary")
    special = School.objects.get(urn=116902)
    assert (special.type_group_code, special.funding_route, special.phase) == (5, "other", "special")
    st_marys = School.objects.get(urn=124301)
    assert st_marys.telephone == "01785220000"
    assert st_marys.website == "www.stmarys-rc.staffs.sch.uk"
    assert st_marys.email_domain == "stmarys-rc.staffs.sch.uk"


def test_header_names_match_ignoring_case_spaces_and_a_byte_order_mark(councils):
    """A header re-saved by a spreadsheet (UTF-8 with BOM, other case and spacing) still reads by name."""
    rows = [make_row("100001", {"EstablishmentName": "École Saint-Exupéry"})]
    text = gias_file(rows).read().decode("cp1252")
    text = text.replace('"LA (code)"', '"la (Code)"').replace('"Postcode"', '"PostCode"')
    result = import_gias_file(io.BytesIO(codecs.BOM_UTF8 + text.encode("utf-8")))

    assert (result.created, result.rejected) == (1, [])
    school = School.objects.get(urn=100001)
    assert (school.name, school.la_code, school.postcode) == ("École Saint-Exupéry", "860", "ST16 1AA")


# --- Bad rows --------------------------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_line_numbers_and_the_rest_import(councils):
    """Each unreadable row is rejected with its line and reason; the good rows around them are imported."""
    rows = [
        make_row("100001"),
        make_row("10O002"),  # letter O, not zero
        make_row("100003", {"OpenDate": "31-02-2020"}),
        make_row("100004", {"NumberOfPupils": "two hundred"}),
        make_row("100005", {"LA (code)": "86"}),
        make_row("100006", {"EstablishmentName": "  "}),
        make_row("100007", {"Postcode": "ST16 1AA EXTRA"}),
        make_row("100001", {"EstablishmentName": "Duplicate"}),
        make_row("100009", {"CloseDate": "2020-08-31", "NumberOfPupils": "-3"}),
        make_row("100010"),
    ]
    result = import_gias_file(gias_file(rows))

    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert set(School.objects.values_list("urn", flat=True)) == {100001, 100010}
    assert School.objects.get(urn=100001).name == "School 100001 Primary"
    assert result.rejected == [
        RejectedRow(3, "10O002", "URN '10O002' is not a URN (a whole number)"),
        RejectedRow(4, "100003", "OpenDate '31-02-2020' is not a date written dd-mm-yyyy"),
        RejectedRow(5, "100004", "NumberOfPupils 'two hundred' is not a whole number"),
        RejectedRow(6, "100005", "LA (code) '86' is not three digits"),
        RejectedRow(7, "100006", "EstablishmentName is blank"),
        RejectedRow(8, "100007", "Postcode is longer than 10 characters"),
        RejectedRow(9, "100001", "URN 100001 appears again (first on line 2)"),
        RejectedRow(
            10,
            "100009",
            "CloseDate '2020-08-31' is not a date written dd-mm-yyyy; NumberOfPupils '-3' is not a whole number",
        ),
    ]


def test_line_numbers_count_lines_of_the_file_when_a_field_spans_lines(councils):
    """A quoted field with a line break keeps later rows' line numbers true to the file."""
    rows = [make_row("100001", {"Street": "Unit 4\r\nOld Mill"}), make_row("bad")]
    result = import_gias_file(gias_file(rows))

    assert result.rejected == [RejectedRow(4, "bad", "URN 'bad' is not a URN (a whole number)")]


def test_short_row_is_rejected(councils):
    """A row with fewer fields than the header is rejected rather than read into the wrong columns."""
    data = gias_file([make_row("100001")]).read() + b'"100002","860","Staffordshire"\r\n'
    result = import_gias_file(io.BytesIO(data))

    assert result.created == 1
    assert result.rejected == [RejectedRow(3, "100002", f"it has 3 fields; the header has {len(GIAS_COLUMNS)}")]


# --- Files that are not GIAS extracts --------------------------------------------------------------------------


def _utf16_extract() -> bytes:
    return gias_file([make_row("100001")]).read().decode("cp1252").encode("utf-16")


def _utf16_without_bom() -> bytes:
    return gias_file([make_row("100001")]).read().decode("cp1252").encode("utf-16-le")


def _late_undecodable_byte() -> bytes:
    # Good rows, then a byte neither UTF-8 nor Windows-1252 defines near the end.
    rows = [make_row(str(100001 + n)) for n in range(50)] + [make_row("100999", {"EstablishmentName": "X"})]
    return gias_file(rows).read().replace(b'"X"', b'"X\x81"')


def _unbalanced_quote_late() -> bytes:
    rows = [make_row(str(100001 + n)) for n in range(20)]
    return gias_file(rows).read() + b'"100999","860","Stafford"shire"\r\n'


NOT_GIAS = {
    "empty": (b"", "The file is empty"),
    "blank lines": (b"\r\n\r\n  \r\n", "The file is empty"),
    "utf-16": (_utf16_extract(), "UTF-16"),
    "utf-16 without BOM": (_utf16_without_bom(), "binary (or UTF-16 text)"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    "zip": (b"PK\x03\x04\x14\x00\x00\x00" + b"edubasealldata.csv" * 3, "ZIP archive"),
    "csv without URN": (b'"Name","Town"\r\n"Oak School","Stafford"\r\n', "no URN column"),
    "missing essentials": (
        b'"URN","EstablishmentName"\r\n"100001","Oak School"\r\n',
        "lacks columns every GIAS extract has: LA (code), LA (name), EstablishmentNumber",
    ),
    "undecodable late": (_late_undecodable_byte(), "not Windows-1252 or UTF-8 text"),
    "broken quoting late": (_unbalanced_quote_late(), "not readable CSV near line 22"),
}


@pytest.mark.parametrize("name", NOT_GIAS)
def test_non_gias_file_is_refused_and_nothing_is_written(name, councils):
    """A file that is not a GIAS extract is refused with one sentence and the directory is left as it was."""
    data, message = NOT_GIAS[name]
    SchoolFactory(urn=100001, name="Before the import")
    before = snapshot()

    with pytest.raises(GiasFileError) as refused:
        import_gias_file(io.BytesIO(data))

    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert snapshot() == before


def test_encoding_is_checked_over_the_whole_file_before_anything_is_written(monkeypatch, councils):
    """An undecodable byte far past the first block read still refuses the file, with nothing written."""
    import portal.gias

    monkeypatch.setattr(portal.gias, "_CHUNK", 1024)
    data = _late_undecodable_byte()
    assert data.index(b"\x81") > 10 * 1024

    with pytest.raises(GiasFileError, match="not Windows-1252 or UTF-8 text"):
        import_gias_file(io.BytesIO(data))
    assert School.objects.count() == 0


def test_progress_bar_is_drawn_on_request(capsys, councils):
    """progress=True draws tqdm bars on stderr; the default draws nothing."""
    import_gias_file(SAMPLE, progress=False)
    assert capsys.readouterr().err == ""
    import_gias_file(SAMPLE, progress=True)
    assert "Reading GIAS file" in capsys.readouterr().err


def test_missing_path_is_refused(tmp_path):
    """A path that does not exist is refused with a message naming it."""
    with pytest.raises(GiasFileError, match="There is no file at .*nowhere.csv"):
        import_gias_file(tmp_path / "nowhere.csv")


# --- Re-imports ------------------------------------------------------------------------------------------------


def test_reimport_of_the_same_file_changes_nothing(councils):
    """Importing the same extract twice counts every school unchanged and writes nothing."""
    import_gias_file(SAMPLE)
    stamps = dict(School.objects.values_list("urn", "updated_at"))

    with CaptureQueriesContext(connection) as queries:
        result = import_gias_file(SAMPLE)

    assert (result.created, result.updated, result.unchanged, result.rejected) == (0, 0, 11, [])
    assert dict(School.objects.values_list("urn", "updated_at")) == stamps
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


def test_changed_row_updates_only_that_school(councils):
    """A file where one school's number on roll changed updates that school alone."""
    rows = [make_row("100001"), make_row("100002"), make_row("100003")]
    import_gias_file(gias_file(rows))
    stamps = dict(School.objects.values_list("urn", "updated_at"))

    rows[1]["NumberOfPupils"] = "233"
    result = import_gias_file(gias_file(rows))

    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert School.objects.get(urn=100002).number_on_roll == 233
    after = dict(School.objects.values_list("urn", "updated_at"))
    assert after[100002] > stamps[100002]
    assert (after[100001], after[100003]) == (stamps[100001], stamps[100003])


def test_conversion_to_academy_rederives_funding_route(councils):
    """A school whose type changes in GIAS gets its funding route derived again."""
    import_gias_file(gias_file([make_row("100001")]))
    changes = {
        "TypeOfEstablishment (name)": "Academy converter",
        "EstablishmentTypeGroup (code)": "10",
        "EstablishmentTypeGroup (name)": "Academies",
        "Trusts (name)": "Oak Learning Trust",
    }
    result = import_gias_file(gias_file([make_row("100001", changes)]))

    school = School.objects.get(urn=100001)
    assert result.updated == 1
    assert (school.funding_route, school.type_group_code, school.trust_name) == ("academy", 10, "Oak Learning Trust")


def test_email_domain_set_by_an_administrator_is_never_overwritten(councils):
    """A domain an administrator set survives a re-import; a school without one gets its website's host."""
    SchoolFactory(urn=100001, email_domain="oakfield.example")
    SchoolFactory(urn=100002, email_domain="")

    result = import_gias_file(gias_file([make_row("100001"), make_row("100002")]))

    assert result.updated == 2
    assert School.objects.get(urn=100001).email_domain == "oakfield.example"
    assert School.objects.get(urn=100002).email_domain == "school100002.staffs.sch.uk"


def test_email_domain_is_not_taken_from_a_website_other_schools_share(councils):
    """A website host shared by two open schools (a trust's site) or held by another school gives no domain."""
    SchoolFactory(urn=900001, email_domain="heldalready.org.uk")
    rows = [
        make_row("100001", {"SchoolWebsite": "https://www.oaktrust.org.uk/oakfield"}),
        make_row("100002", {"SchoolWebsite": "http://oaktrust.org.uk/elmfield"}),
        make_row("100003", {"SchoolWebsite": "www.heldalready.org.uk"}),
        make_row("100004", {"SchoolWebsite": "not a website"}),
    ]
    import_gias_file(gias_file(rows))

    assert dict(School.objects.filter(urn__lt=900000).values_list("urn", "email_domain")) == {
        100001: "",
        100002: "",
        100003: "",
        100004: "",
    }


# --- Limiting to LAs -------------------------------------------------------------------------------------------


def test_la_codes_limit_the_import(councils):
    """Only schools of the named LAs are imported; the others are counted as skipped."""
    result = import_gias_file(SAMPLE, la_codes=["860", "885"])

    assert (result.created, result.skipped_other_la, result.rejected) == (7, 4, [])
    assert set(School.objects.values_list("la_code", flat=True)) == {"860", "885"}


def test_la_codes_must_be_three_digits():
    """A malformed LA code is a programming error, refused before the file is read."""
    with pytest.raises(ValueError, match="three digits"):
        import_gias_file(SAMPLE, la_codes=["86"])


# --- Funding route and phase -----------------------------------------------------------------------------------

DERIVATIONS = [
    # type of establishment, type group code, GIAS phase -> funding route, phase
    ("Community school", "4", "Primary", "maintained", "primary"),
    ("Voluntary aided school", "4", "Secondary", "maintained", "secondary"),
    ("Foundation school", "4", "Middle deemed primary", "maintained", "primary"),
    ("Local authority nursery school", "4", "Nursery", "maintained", "nursery"),
    ("Pupil referral unit", "4", "Not applicable", "maintained", "pru"),
    ("Community special school", "5", "Not applicable", "maintained", "special"),
    ("Foundation special school", "5", "Not applicable", "maintained", "special"),
    ("Non-maintained special school", "5", "Not applicable", "other", "special"),
    ("Academy converter", "10", "Secondary", "academy", "secondary"),
    ("Academy sponsor led", "10", "All-through", "academy", "all_through"),
    ("Academy special converter", "10", "Not applicable", "academy", "special"),
    ("Academy alternative provision converter", "10", "Not applicable", "academy", "pru"),
    ("Free schools", "11", "Primary", "academy", "primary"),
    ("Free schools 16 to 19", "11", "16 plus", "academy", "sixteen_plus"),
    ("University technical college", "11", "16 plus", "academy", "sixteen_plus"),
    ("Other independent school", "3", "Not applicable", "independent", "not_applicable"),
    ("Further education", "1", "16 plus", "other", "sixteen_plus"),
    ("Other independent special school", "5", "Not applicable", "independent", "special"),
    ("Non-maintained special school", "5", "Not applicable", "other", "special"),
]


@pytest.mark.parametrize(("type_name", "group", "phase_name", "route", "phase"), DERIVATIONS)
def test_funding_route_and_phase_are_derived_from_gias_types(type_name, group, phase_name, route, phase, councils):
    """Each GIAS establishment type gets the funding route and pricing phase councils charge by."""
    changes = {
        "TypeOfEstablishment (name)": type_name,
        "EstablishmentTypeGroup (code)": group,
        "PhaseOfEducation (name)": phase_name,
    }
    import_gias_file(gias_file([make_row("100001", changes)]))

    school = School.objects.get(urn=100001)
    assert (school.funding_route, school.phase) == (route, phase)


def test_type_group_is_looked_up_from_the_type_when_its_code_is_blank(councils):
    """A blank type group code is filled from DfE's table of establishment types."""
    changes = {
        "TypeOfEstablishment (name)": "Academy converter",
        "EstablishmentTypeGroup (code)": "",
        "EstablishmentTypeGroup (name)": "",
    }
    import_gias_file(gias_file([make_row("100001", changes)]))

    school = School.objects.get(urn=100001)
    assert (school.type_group_code, school.type_group, school.funding_route) == (10, "Academies", "academy")


# --- Writing GIAS-shaped files ---------------------------------------------------------------------------------


def test_write_gias_csv_writes_the_real_extracts_shape():
    """The writer quotes every field, ends lines with CRLF, encodes Windows-1252 and formats dates dd-mm-yyyy."""
    stream = io.BytesIO()
    write_gias_csv([{"URN": 100001, "EstablishmentName": "St Mary’s", "OpenDate": date(2011, 9, 1)}], stream)

    header, line, end = stream.getvalue().split(b"\r\n")
    assert header.startswith(b'"URN","LA (code)","LA (name)","EstablishmentNumber","EstablishmentName"')
    assert line.startswith(b'"100001","","","","St Mary\x92s",')
    assert b'"01-09-2011"' in line
    assert end == b""


def test_write_gias_csv_refuses_a_misspelt_column():
    """A key that is not a column raises instead of silently writing nothing."""
    with pytest.raises(ValueError, match="EstablishmentNmae"):
        write_gias_csv([{"URN": "1", "EstablishmentNmae": "Oak"}], io.BytesIO())


# --- The management command ------------------------------------------------------------------------------------


def test_command_prints_a_summary(councils):
    """import_gias prints created, updated, unchanged, skipped and rejected counts."""
    out = io.StringIO()
    call_command("import_gias", str(SAMPLE), "--la", "860", "--la", "893", stdout=out)

    assert out.getvalue().splitlines()[1:] == [
        "  created: 6",
        "  updated: 0",
        "  unchanged: 0",
        "  skipped (other LA): 5",
        "  rejected: 0",
    ]


def test_command_lists_rejected_rows_up_to_a_cap(tmp_path, councils):
    """Rejected rows are listed with line and reason, at most 50, then 'and N more'."""
    path = tmp_path / "bad.csv"
    with open(path, "wb") as out:
        write_gias_csv([make_row(str(100001 + n), {"OpenDate": "soon"}) for n in range(53)], out)
    out = io.StringIO()
    call_command("import_gias", str(path), stdout=out)

    lines = out.getvalue().splitlines()
    assert "  rejected: 53" in lines
    assert "    line 2 (URN 100001): OpenDate 'soon' is not a date written dd-mm-yyyy" in lines
    assert "    line 51 (URN 100050): OpenDate 'soon' is not a date written dd-mm-yyyy" in lines
    assert not any("line 52 " in line for line in lines)
    assert lines[-1] == "    ... and 3 more"


def test_command_refuses_a_non_gias_file(tmp_path, councils):
    """A refused file raises CommandError with the one-sentence reason and writes nothing."""
    path = tmp_path / "export.csv"
    path.write_bytes(_utf16_extract())
    with pytest.raises(CommandError, match="UTF-16"):
        call_command("import_gias", str(path), stdout=io.StringIO())
    assert School.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "There is no file at "),
        (b"", "The file is empty"),
        (b'"Name","Town"\r\n"Oak School","Stafford"\r\n', "no URN column"),
    ],
)
def test_manage_py_exits_with_status_1_and_one_line(tmp_path, content, message):
    """Run as a program, a refused file or missing path ends with status 1 and one line, no traceback."""
    path = tmp_path / "input.csv"
    if content is not None:
        path.write_bytes(content)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "import_gias", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
