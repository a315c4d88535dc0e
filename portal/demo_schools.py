"""Demo schools: a GIAS-shaped extract generated from a seed, then loaded by the real GIAS importer.

The rows go through ``portal.gias.write_gias_csv`` and ``import_gias_file`` exactly as a downloaded
extract would, so the demo proves the import path (and a second run finds every school unchanged).

Names, addresses and people are invented. URNs start at 990001, outside the range the DfE has issued, so a
real extract imported later never overwrites a demo school. Telephone numbers are from Ofcom's range kept
for drama (01632 960xxx), and websites use the reserved ``.example`` domain, so no real school, phone or
inbox is ever named. Towns, postcode districts, LA codes and establishment types are real, so the directory
and pricing behave as they will with real data: a mix of maintained schools, academies, free schools,
special schools, a pupil referral unit, independent schools and colleges, in every phase.
"""

import random
import re
from dataclasses import dataclass
from datetime import date

from django.utils.text import slugify

# Named in the issue and used by the demo users (see portal/demo.py): their URNs are fixed.
OAKFIELD_URN = 990001
SEVERN_VALLEY_URN = 990002
MALVERN_HILLS_URN = 990003
FIRST_GENERATED_URN = 990101

CENSUS_DATE = date(2026, 1, 15)  # the spring school census
LAST_CHANGED = date(2026, 10, 14)
PARTNERSHIP_LAS = {"860": "Staffordshire", "893": "Shropshire", "885": "Worcestershire"}
OTHER_LAS = {"861": "Stoke-on-Trent", "894": "Telford and Wrekin", "884": "Herefordshire", "332": "Dudley"}


@dataclass(frozen=True)
class Town:
    name: str
    district: str  # GIAS "DistrictAdministrative (name)"
    postcodes: tuple[str, ...]  # postcode districts (the outward code)
    rural: bool = False


TOWNS: dict[str, tuple[Town, ...]] = {
    "860": (
        Town("Stafford", "Stafford", ("ST16", "ST17", "ST18")),
        Town("Lichfield", "Lichfield", ("WS13", "WS14")),
        Town("Tamworth", "Tamworth", ("B77", "B78", "B79")),
        Town("Burton upon Trent", "East Staffordshire", ("DE13", "DE14", "DE15")),
        Town("Cannock", "Cannock Chase", ("WS11", "WS12")),
        Town("Leek", "Staffordshire Moorlands", ("ST13",), rural=True),
        Town("Newcastle-under-Lyme", "Newcastle-under-Lyme", ("ST5",)),
        Town("Stone", "Stafford", ("ST15",), rural=True),
        Town("Uttoxeter", "East Staffordshire", ("ST14",), rural=True),
        Town("Rugeley", "Cannock Chase", ("WS15",)),
        Town("Cheadle", "Staffordshire Moorlands", ("ST10",), rural=True),
        Town("Penkridge", "South Staffordshire", ("ST19",), rural=True),
    ),
    "893": (
        Town("Shrewsbury", "Shropshire", ("SY1", "SY2", "SY3")),
        Town("Oswestry", "Shropshire", ("SY10", "SY11")),
        Town("Ludlow", "Shropshire", ("SY8",), rural=True),
        Town("Bridgnorth", "Shropshire", ("WV15", "WV16"), rural=True),
        Town("Market Drayton", "Shropshire", ("TF9",), rural=True),
        Town("Whitchurch", "Shropshire", ("SY13",), rural=True),
        Town("Church Stretton", "Shropshire", ("SY6",), rural=True),
        Town("Wem", "Shropshire", ("SY4",), rural=True),
        Town("Shifnal", "Shropshire", ("TF11",), rural=True),
        Town("Much Wenlock", "Shropshire", ("TF13",), rural=True),
        Town("Ellesmere", "Shropshire", ("SY12",), rural=True),
        Town("Bishop's Castle", "Shropshire", ("SY9",), rural=True),
    ),
    "885": (
        Town("Worcester", "Worcester", ("WR1", "WR2", "WR3", "WR4", "WR5")),
        Town("Malvern", "Malvern Hills", ("WR13", "WR14")),
        Town("Evesham", "Wychavon", ("WR11",)),
        Town("Pershore", "Wychavon", ("WR10",), rural=True),
        Town("Droitwich Spa", "Wychavon", ("WR9",)),
        Town("Kidderminster", "Wyre Forest", ("DY10", "DY11")),
        Town("Stourport-on-Severn", "Wyre Forest", ("DY13",)),
        Town("Bewdley", "Wyre Forest", ("DY12",), rural=True),
        Town("Redditch", "Redditch", ("B97", "B98")),
        Town("Bromsgrove", "Bromsgrove", ("B60", "B61")),
        Town("Tenbury Wells", "Malvern Hills", ("WR15",), rural=True),
        Town("Upton-upon-Severn", "Malvern Hills", ("WR8",), rural=True),
    ),
    "861": (Town("Stoke-on-Trent", "Stoke-on-Trent", ("ST1", "ST3", "ST4", "ST6")),),
    "894": (
        Town("Telford", "Telford and Wrekin", ("TF1", "TF2", "TF3", "TF7")),
        Town("Newport", "Telford and Wrekin", ("TF10",)),
    ),
    "884": (Town("Hereford", "Herefordshire", ("HR1", "HR2", "HR4")),),
    "332": (Town("Stourbridge", "Dudley", ("DY8", "DY9")),),
}

TRUSTS: dict[str, tuple[str, ...]] = {
    "860": ("Trent Valley Learning Trust", "Cannock Chase Schools Partnership", "Three Spires Academy Trust"),
    "893": ("Severn Valley Learning Trust", "Shropshire Hills Academy Trust", "Marches Learning Partnership"),
    "885": ("Malvern Vale Education Trust", "Wyre Forest Schools Trust", "St Wulstan Catholic Academy Trust"),
    "861": ("Potteries Learning Trust",),
    "894": ("Wrekin Schools Trust",),
    "884": ("Wye Valley Academy Trust",),
    "332": ("Black Country Learning Trust",),
}
CATHOLIC_TRUSTS = {"St Wulstan Catholic Academy Trust"}


@dataclass(frozen=True)
class Kind:
    """One kind of establishment, with the GIAS values that go with it."""

    type_code: int
    type_name: str
    group_code: int
    phase_code: int
    phase_name: str
    ages: tuple[int, int]
    pupils: tuple[int, int] | None  # range of numbers on roll; None when GIAS leaves it blank (colleges)
    name_pattern: str  # "{stem}" or "{saint}" is filled in
    number_base: int | None  # first digit of the establishment number, None when GIAS gives none
    religious: str = "Does not apply"
    opened_as: str = "Not applicable"
    trust: bool = False


GROUP_NAMES = {
    1: "Colleges",
    3: "Independent schools",
    4: "Local authority maintained schools",
    5: "Special schools",
    10: "Academies",
    11: "Free Schools",
}
PHASES = {
    0: "Not applicable",
    1: "Nursery",
    2: "Primary",
    3: "Middle deemed primary",
    4: "Secondary",
    5: "Middle deemed secondary",
    6: "16 plus",
    7: "All-through",
}


def _kind(type_code, type_name, group, phase, ages, pupils, pattern, base, **extra) -> Kind:
    return Kind(type_code, type_name, group, phase, PHASES[phase], ages, pupils, pattern, base, **extra)


KINDS: dict[str, Kind] = {
    "community_primary": _kind(1, "Community school", 4, 2, (4, 11), (90, 430), "{stem} Primary School", 2),
    "community_infant": _kind(1, "Community school", 4, 2, (4, 7), (80, 270), "{stem} Infant School", 2),
    "community_junior": _kind(1, "Community school", 4, 2, (7, 11), (110, 360), "{stem} Junior School", 2),
    "vc_primary": _kind(
        3,
        "Voluntary controlled school",
        4,
        2,
        (4, 11),
        (60, 320),
        "{saint} CofE (VC) Primary School",
        3,
        religious="Church of England",
    ),
    "va_primary": _kind(
        2,
        "Voluntary aided school",
        4,
        2,
        (4, 11),
        (100, 420),
        "{saint} Catholic Primary School",
        3,
        religious="Roman Catholic",
    ),
    "foundation_primary": _kind(5, "Foundation school", 4, 2, (3, 11), (180, 460), "{stem} Primary School", 5),
    "nursery": _kind(15, "Local authority nursery school", 4, 1, (2, 5), (50, 120), "{stem} Nursery School", 1),
    "academy_primary": _kind(
        34,
        "Academy converter",
        10,
        2,
        (4, 11),
        (120, 470),
        "{stem} Primary Academy",
        2,
        opened_as="Academy Converter",
        trust=True,
    ),
    "church_academy_primary": _kind(
        34,
        "Academy converter",
        10,
        2,
        (4, 11),
        (90, 330),
        "{saint} CofE Primary Academy",
        3,
        religious="Church of England",
        opened_as="Academy Converter",
        trust=True,
    ),
    "sponsored_primary": _kind(
        28,
        "Academy sponsor led",
        10,
        2,
        (4, 11),
        (150, 420),
        "{stem} Primary Academy",
        2,
        opened_as="Academy Sponsor Led",
        trust=True,
    ),
    "free_primary": _kind(
        35, "Free schools", 11, 2, (4, 11), (140, 420), "{stem} Free School", 2, opened_as="New Provision", trust=True
    ),
    "community_secondary": _kind(1, "Community school", 4, 4, (11, 16), (520, 1050), "{stem} High School", 4),
    "va_secondary": _kind(
        2,
        "Voluntary aided school",
        4,
        4,
        (11, 18),
        (650, 1250),
        "{saint} Catholic High School",
        4,
        religious="Roman Catholic",
    ),
    "academy_secondary": _kind(
        34,
        "Academy converter",
        10,
        4,
        (11, 18),
        (700, 1650),
        "{stem} Academy",
        4,
        opened_as="Academy Converter",
        trust=True,
    ),
    "sponsored_secondary": _kind(
        28,
        "Academy sponsor led",
        10,
        4,
        (11, 16),
        (480, 1100),
        "{stem} Academy",
        4,
        opened_as="Academy Sponsor Led",
        trust=True,
    ),
    "all_through_academy": _kind(
        34,
        "Academy converter",
        10,
        7,
        (4, 18),
        (1150, 1900),
        "{stem} All-Through Academy",
        4,
        opened_as="Academy Converter",
        trust=True,
    ),
    "middle_primary": _kind(1, "Community school", 4, 3, (8, 12), (240, 480), "{stem} Middle School", 2),
    "middle_secondary": _kind(
        34,
        "Academy converter",
        10,
        5,
        (9, 13),
        (320, 640),
        "{stem} Middle School",
        4,
        opened_as="Academy Converter",
        trust=True,
    ),
    "community_special": _kind(7, "Community special school", 5, 0, (2, 19), (60, 220), "{stem} School", 7),
    "academy_special": _kind(
        44,
        "Academy special converter",
        10,
        0,
        (3, 19),
        (70, 190),
        "{stem} Academy",
        7,
        opened_as="Academy Converter",
        trust=True,
    ),
    "non_maintained_special": _kind(
        8, "Non-maintained special school", 5, 0, (5, 19), (40, 110), "{stem} House School", 7
    ),
    "pru": _kind(14, "Pupil referral unit", 4, 0, (11, 16), (20, 70), "{stem} Short Stay School", 1),
    "independent": _kind(11, "Other independent school", 3, 7, (3, 18), (160, 780), "{stem} School", 6),
    "college": _kind(18, "Further education", 1, 6, (16, 99), None, "{stem} College", None),
    "utc": _kind(
        40, "University technical college", 11, 4, (14, 19), (280, 560), "{stem} UTC", 4, opened_as="New Provision"
    ),
}

# How many of each kind every partnership council gets. 43 each, 129 in all, before the named schools.
PARTNERSHIP_MIX: dict[str, int] = {
    "community_primary": 9,
    "community_infant": 1,
    "community_junior": 1,
    "vc_primary": 3,
    "va_primary": 2,
    "foundation_primary": 1,
    "nursery": 1,
    "academy_primary": 6,
    "church_academy_primary": 1,
    "sponsored_primary": 2,
    "free_primary": 1,
    "community_secondary": 1,
    "va_secondary": 1,
    "academy_secondary": 4,
    "sponsored_secondary": 1,
    "middle_primary": 1,
    "middle_secondary": 1,
    "community_special": 1,
    "academy_special": 1,
    "pru": 1,
    "independent": 1,
    "college": 1,
}
# A few kinds only one council has, as in real life.
EXTRA_BY_LA = {"860": ("all_through_academy", "utc"), "893": ("non_maintained_special",), "885": ()}
OTHER_LA_MIX = ("community_primary", "academy_secondary")

_PREFIXES = (  # noqa: SIM905 - a line of words reads better than a column of strings
    "Ash Beech Elm Holly Willow Birch Hazel Rowan Cedar Maple Thorn Fern Heath Moor Mill Kings Church "
    "Castle Abbey Meadow Spring Red Fox Lark Marsh Bridge Chapel Manor Grange Orchard Brook Wood Hill "
    "Green West North South East Swan Wren"
).split()
_SUFFIXES = (  # noqa: SIM905 - a line of words reads better than a column of strings
    "field wood mead bank croft gate hurst brook dale ley well hill lands"
).split()
# Names kept for the named schools, so that no generated school is mistaken for one of them.
_RESERVED_STEMS = {"Oakfield", "Kingsmead"}
_SAINTS = (
    "St Chad's",
    "St Mary's",
    "St Michael's",
    "St Peter's",
    "St John's",
    "Holy Trinity",
    "Christ Church",
    "St Oswald's",
    "St Editha's",
    "St Wulstan's",
    "St Joseph's",
    "Our Lady's",
    "St Bartholomew's",
    "All Saints",
    "St Laurence's",
    "St Milburga's",
    "St Werburgh's",
    "St Giles'",
    "St Andrew's",
    "St Leonard's",
    "St Luke's",
    "St Matthew's",
    "St Anne's",
    "St Thomas'",
)
_FIRST_NAMES = (  # noqa: SIM905 - a line of words reads better than a column of strings
    "Sarah Helen Claire Rachel Joanne Emma Nicola Karen Amanda Louise David Mark Paul Andrew Richard "
    "Simon Gareth Jonathan Neil Stephen Priya Aisha Tomasz Marek Bethan"
).split()
_LAST_NAMES = (  # noqa: SIM905 - a line of words reads better than a column of strings
    "Bennett Walker Hughes Price Edwards Turner Cooper Morris Ward Bailey Harris Clarke Jones Evans "
    "Griffiths Lloyd Pritchard Morgan Parry Khan Patel Nowak Shaw Fletcher Dawson"
).split()
_TITLES = ("Mrs", "Mr", "Ms", "Dr", "Miss")
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in the inward code
_STREETS = (
    "School Lane",
    "Church Street",
    "Station Road",
    "Park Road",
    "Mill Lane",
    "High Street",
    "Meadow Way",
    "Queens Drive",
    "Orchard Close",
    "Victoria Road",
    "Chapel Street",
    "Brook Lane",
    "Green Lane",
    "Manor Road",
    "Westfield Avenue",
    "Castle Street",
)


def _stems(rng: random.Random) -> list[str]:
    stems = [
        prefix + suffix
        for prefix in _PREFIXES
        for suffix in _SUFFIXES
        # No doubled sounds ("Ashhurst", "Hilllands") or echoes ("Meadowmead").
        if not prefix.lower().endswith(suffix)
        and not prefix.lower().startswith(suffix)
        and not suffix.startswith(prefix.lower()[-1])
    ]
    stems = [stem for stem in stems if stem not in _RESERVED_STEMS]
    rng.shuffle(stems)
    return stems


def _postcode(rng: random.Random, town: Town) -> str:
    letters = rng.choice(_INWARD_LETTERS) + rng.choice(_INWARD_LETTERS)
    return f"{rng.choice(town.postcodes)} {rng.randint(1, 9)}{letters}"


def website_for(name: str) -> str:
    """A ``.example`` website from a school's name: "St Chad's CofE (VC) Primary School" -> st-chads-primary."""
    slug = slugify(name.replace("'", ""))
    slug = re.sub(r"-(cofe|vc|catholic)(?=-)", "", slug).removesuffix("-school")
    return f"www.{slug}.example"


class _Builder:
    """Builds GIAS rows, handing out URNs, establishment numbers and names without repeats."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.stems = _stems(self.rng)
        self.saints = list(_SAINTS)
        self.rng.shuffle(self.saints)
        self.next_urn = FIRST_GENERATED_URN
        self.numbers: dict[tuple[str, int], list[int]] = {}
        self.trust_codes: dict[str, str] = {}

    def _establishment_number(self, la_code: str, base: int | None) -> str:
        if base is None:
            return ""
        pool = self.numbers.get((la_code, base))
        if pool is None:
            pool = self.rng.sample(range(1, 1000), 400)
            self.numbers[(la_code, base)] = pool
        return f"{base}{pool.pop():03d}"

    def _trust(self, la_code: str, kind: Kind) -> str:
        if not kind.trust:
            return ""
        trusts = TRUSTS[la_code]
        if kind.religious == "Roman Catholic":
            catholic = [name for name in trusts if name in CATHOLIC_TRUSTS]
            trusts = catholic or trusts
        else:
            trusts = [name for name in trusts if name not in CATHOLIC_TRUSTS]
        return self.rng.choice(trusts)

    def _name(self, kind: Kind) -> str:
        if "{saint}" in kind.name_pattern:
            saint = self.saints.pop() if self.saints else self.stems.pop()
            return kind.name_pattern.format(saint=saint)
        return kind.name_pattern.format(stem=self.stems.pop())

    def row(self, la_code: str, la_name: str, kind_key: str, **fixed) -> dict:
        """One GIAS row for a school of this kind in this LA; ``fixed`` overrides any column."""
        rng = self.rng
        kind = KINDS[kind_key]
        town = rng.choice(TOWNS[la_code])
        if "URN" in fixed:
            urn = fixed.pop("URN")
        else:
            urn, self.next_urn = self.next_urn, self.next_urn + 1
        name = fixed.pop("EstablishmentName", None) or self._name(kind)
        pupils = rng.randint(*kind.pupils) if kind.pupils else None
        trust = self._trust(la_code, kind)
        is_academy = kind.group_code in (10, 11)
        boys = None if pupils is None else pupils // 2 + rng.randint(-pupils // 20, pupils // 20)
        row = {
            "URN": urn,
            "LA (code)": la_code,
            "LA (name)": la_name,
            "EstablishmentNumber": self._establishment_number(la_code, kind.number_base),
            "EstablishmentName": name,
            "TypeOfEstablishment (code)": kind.type_code,
            "TypeOfEstablishment (name)": kind.type_name,
            "EstablishmentTypeGroup (code)": kind.group_code,
            "EstablishmentTypeGroup (name)": GROUP_NAMES[kind.group_code],
            "EstablishmentStatus (code)": 1,
            "EstablishmentStatus (name)": "Open",
            "ReasonEstablishmentOpened (name)": kind.opened_as,
            "OpenDate": date(rng.randint(2011, 2024), 9, 1) if is_academy else None,
            "ReasonEstablishmentClosed (name)": "Not applicable",
            "PhaseOfEducation (code)": kind.phase_code,
            "PhaseOfEducation (name)": kind.phase_name,
            "StatutoryLowAge": kind.ages[0],
            "StatutoryHighAge": kind.ages[1],
            "Gender (name)": "Mixed",
            "ReligiousCharacter (name)": kind.religious,
            "SchoolCapacity": None if pupils is None else round(pupils * rng.uniform(1.0, 1.2) / 5) * 5,
            "CensusDate": CENSUS_DATE if pupils is not None else None,
            "NumberOfPupils": pupils,
            "NumberOfBoys": boys,
            "NumberOfGirls": None if pupils is None else pupils - boys,
            "Trusts (code)": "",
            "Trusts (name)": trust,
            "UKPRN": str(rng.randint(10_000_000, 10_099_999)) if kind.phase_code in (4, 5, 6, 7) or is_academy else "",
            "LastChangedDate": LAST_CHANGED,
            "Street": f"{rng.randint(1, 120)} {rng.choice(_STREETS)}" if rng.random() < 0.3 else rng.choice(_STREETS),
            "Locality": "",
            "Address3": "",
            "Town": town.name,
            "County (name)": PARTNERSHIP_LAS.get(la_code, "Not recorded"),
            "Postcode": _postcode(rng, town),
            # About one school in twelve has no website in GIAS, so no email domain either.
            "SchoolWebsite": "" if rng.random() < 0.08 else website_for(name),
            "TelephoneNum": f"01632 960{rng.randint(0, 999):03d}",
            "HeadTitle (name)": rng.choice(_TITLES),
            "HeadFirstName": rng.choice(_FIRST_NAMES),
            "HeadLastName": rng.choice(_LAST_NAMES),
            "GOR (name)": "West Midlands",
            "DistrictAdministrative (name)": town.district,
            "UrbanRural (name)": "(England/Wales) Rural town and fringe"
            if town.rural
            else "(England/Wales) Urban city and town",
            "Country (name)": "United Kingdom",
        }
        row.update(fixed)
        trust = row["Trusts (name)"]
        if trust and trust not in self.trust_codes:
            self.trust_codes[trust] = str(4100 + len(self.trust_codes) * 37)
        row["Trusts (code)"] = self.trust_codes.get(trust, "")
        return row


def demo_gias_rows(*, seed: int) -> list[dict]:
    """The demo extract: the named schools, a realistic mix in each council, and a few from elsewhere."""
    build = _Builder(seed)
    rows = [
        build.row(
            "860",
            "Staffordshire",
            "community_primary",
            URN=OAKFIELD_URN,
            EstablishmentName="Oakfield Primary School",
            Town="Stafford",
            Street="Oakfield Road",
            Postcode="ST17 4QR",
            NumberOfPupils=312,
            NumberOfBoys=158,
            NumberOfGirls=154,
            SchoolCapacity=315,
            SchoolWebsite="www.oakfield-primary.example",
            **{"DistrictAdministrative (name)": "Stafford", "UrbanRural (name)": "(England/Wales) Urban city and town"},
        ),
        build.row(
            "893",
            "Shropshire",
            "academy_secondary",
            URN=SEVERN_VALLEY_URN,
            EstablishmentName="Severn Valley Academy",
            Town="Bridgnorth",
            Street="Severn Street",
            Postcode="WV16 4BN",
            NumberOfPupils=1184,
            NumberOfBoys=601,
            NumberOfGirls=583,
            SchoolCapacity=1250,
            SchoolWebsite="www.severn-valley.example",
            OpenDate=date(2015, 4, 1),
            **{"Trusts (name)": "Severn Valley Learning Trust", "DistrictAdministrative (name)": "Shropshire"},
        ),
        build.row(
            "885",
            "Worcestershire",
            "community_special",
            URN=MALVERN_HILLS_URN,
            EstablishmentName="Malvern Hills Special School",
            Town="Malvern",
            Street="Wells Road",
            Postcode="WR14 4JG",
            NumberOfPupils=126,
            NumberOfBoys=84,
            NumberOfGirls=42,
            SchoolCapacity=130,
            SchoolWebsite="www.malvern-hills-special.example",
            **{"DistrictAdministrative (name)": "Malvern Hills"},
        ),
    ]
    # Kingsmead converted to an academy: GIAS closes the old school and opens the academy under a new URN.
    kingsmead_number = build._establishment_number("860", 4)
    rows.append(
        build.row(
            "860",
            "Staffordshire",
            "community_secondary",
            EstablishmentName="Kingsmead High School",
            Town="Lichfield",
            Postcode="WS14 9QT",
            EstablishmentNumber=kingsmead_number,
            SchoolWebsite="",
            NumberOfPupils=None,
            NumberOfBoys=None,
            NumberOfGirls=None,
            CensusDate=None,
            CloseDate=date(2016, 8, 31),
            **{
                "EstablishmentStatus (code)": 2,
                "EstablishmentStatus (name)": "Closed",
                "ReasonEstablishmentClosed (name)": "Academy Converter",
            },
        )
    )
    rows.append(
        build.row(
            "860",
            "Staffordshire",
            "academy_secondary",
            EstablishmentName="Kingsmead Academy",
            EstablishmentNumber=kingsmead_number,
            OpenDate=date(2016, 9, 1),
            Town="Lichfield",
            Postcode="WS14 9QT",
        )
    )
    for la_code, la_name in PARTNERSHIP_LAS.items():
        for kind_key, count in PARTNERSHIP_MIX.items():
            rows.extend(build.row(la_code, la_name, kind_key) for _ in range(count))
        rows.extend(build.row(la_code, la_name, kind_key) for kind_key in EXTRA_BY_LA[la_code])
    for la_code, la_name in OTHER_LAS.items():
        rows.extend(build.row(la_code, la_name, kind_key) for kind_key in OTHER_LA_MIX)

    # Two academies of one trust that share the trust's website: the importer gives neither an email domain,
    # so one school's staff can never join the other by their address alone.
    shared = [row for row in rows if row["Trusts (name)"] == "Marches Learning Partnership"][:2]
    for row in shared:
        row["SchoolWebsite"] = "www.marches-learning.example"
    # One school has announced its closure: it is still open, and still buys.
    closing = next(row for row in rows if row["EstablishmentName"].endswith("Infant School"))
    closing.update({"EstablishmentStatus (code)": 4, "EstablishmentStatus (name)": "Open, but proposed to close"})
    return rows
