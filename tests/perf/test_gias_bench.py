"""How fast the GIAS import runs on a national-sized extract (~50,000 rows). Prints figures; never fails on time.

`make bench` runs it on SQLite; with DATABASE_URL set, on PostgreSQL.
"""

import random
import time

import pytest
from django.db import connection

from portal.gias import import_gias_file, write_gias_csv
from portal.models import School

pytestmark = pytest.mark.django_db

ROWS = 50_000
TYPES = [
    ("Community school", "4", "Local authority maintained schools", "Primary"),
    ("Voluntary aided school", "4", "Local authority maintained schools", "Primary"),
    ("Academy converter", "10", "Academies", "Secondary"),
    ("Academy sponsor led", "10", "Academies", "Primary"),
    ("Free schools", "11", "Free Schools", "All-through"),
    ("Community special school", "5", "Special schools", "Not applicable"),
    ("Other independent school", "3", "Independent schools", "Not applicable"),
    ("Pupil referral unit", "4", "Local authority maintained schools", "Not applicable"),
]


def national_rows(seed: int = 2026) -> list[dict[str, str]]:
    """Invented schools spread over 150 LAs, including the partnership's three, with St Mary’s-style names."""
    rng = random.Random(seed)
    la_codes = ["860", "893", "885"] + [str(code) for code in range(201, 948, 5)][:147]
    rows = []
    for n in range(ROWS):
        type_name, group, group_name, phase = rng.choice(TYPES)
        la = la_codes[n % len(la_codes)]
        rows.append(
            {
                "URN": str(100000 + n),
                "LA (code)": la,
                "LA (name)": f"Authority {la}",
                "EstablishmentNumber": str(1000 + n // len(la_codes)),
                "EstablishmentName": f"St Mary’s {type_name} {n}",
                "TypeOfEstablishment (name)": type_name,
                "EstablishmentTypeGroup (code)": group,
                "EstablishmentTypeGroup (name)": group_name,
                "EstablishmentStatus (name)": "Closed" if n % 7 == 0 else "Open",
                "OpenDate": f"{rng.randint(1, 28):02d}-09-{rng.randint(1960, 2024)}",
                "PhaseOfEducation (name)": phase,
                "CensusDate": "16-01-2025",
                "NumberOfPupils": str(rng.randint(20, 2000)),
                "Trusts (name)": f"Trust {n % 900}" if group in ("10", "11") else "",
                "UKPRN": str(10000000 + n),
                "Street": f"{n % 300} High Street",
                "Town": "Exampleton",
                "Postcode": f"EX{n % 99} {n % 9}AB",
                "SchoolWebsite": f"www.school{n}.example.sch.uk",
                "TelephoneNum": f"01{n:09d}",
            }
        )
    return rows


def test_import_national_extract(tmp_path, councils):
    """Prints rows per second for a first import, a re-import with no change and one with 1% changed."""
    rows = national_rows()
    path = tmp_path / "edubasealldata.csv"
    with open(path, "wb") as out:
        write_gias_csv(rows, out)
    size_mb = path.stat().st_size / 1e6
    vendor = connection.vendor

    def timed(label: str, **kwargs):
        started = time.perf_counter()
        result = import_gias_file(path, **kwargs)
        seconds = time.perf_counter() - started
        print(
            f"\nGIAS import [{vendor}] {label}: {ROWS} rows ({size_mb:.1f} MB) in {seconds:.2f} s = "
            f"{ROWS / seconds:,.0f} rows/s (created {result.created}, updated {result.updated}, "
            f"unchanged {result.unchanged}, skipped {result.skipped_other_la}, rejected {len(result.rejected)})"
        )
        return result

    first = timed("first import")
    assert first.created == ROWS
    again = timed("re-import, nothing changed")
    assert again.unchanged == ROWS

    for row in rows[::100]:
        row["NumberOfPupils"] = str(int(row["NumberOfPupils"]) + 1)
    with open(path, "wb") as out:
        write_gias_csv(rows, out)
    changed = timed("re-import, 1% changed")
    assert changed.updated == ROWS // 100

    partnership = timed("--la 860 --la 893 --la 885", la_codes=["860", "893", "885"])
    assert partnership.unchanged == School.objects.filter(la_code__in=["860", "893", "885"]).count()
