"""Demo data for the portal app: councils, schools, demo users and the site's information pages.

``seed`` is what ``manage.py seed_demo`` calls for this app (see ``PortalConfig.demo_seeder``). It is
idempotent: everything is created or updated by a natural key (LA code, URN, email, page slug), so running
it twice changes nothing. ``DEMO_USERS`` is the one list of demo logins: the seed creates them,
``manage.py demo_logins`` prints them (``make run`` shows that table), and the README's table is that
command's ``--markdown`` output (a test keeps them equal).
"""

import io
from dataclasses import dataclass

from allauth.account.models import EmailAddress

from portal.councils import PARTNERSHIP_COUNCILS, ensure_partnership_councils
from portal.demo_pages import ensure_information_pages
from portal.demo_schools import MALVERN_HILLS_URN, OAKFIELD_URN, SEVERN_VALLEY_URN, demo_gias_rows
from portal.gias import import_gias_file, write_gias_csv
from portal.models import CouncilMembership, CouncilRole, School, SchoolMembership, SchoolRole, User

DEMO_PASSWORD = "portal-demo-2026"


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    job_title: str
    summary: str  # what this login is for, as the logins table shows it
    is_superuser: bool = False
    is_staff: bool = False
    council_slug: str = ""
    council_role: str = ""
    school_urn: int | None = None
    school_role: str = ""


def _council_users() -> list[DemoUser]:
    people = {
        "staffordshire": ("Hannah Wright", "Ravi Mistry", "Joanne Bailey"),
        "shropshire": ("Gareth Lloyd", "Sian Pritchard", "Tom Hughes"),
        "worcestershire": ("Emma Fletcher", "Daniel Okafor", "Claire Dawson"),
    }
    users = []
    for council in PARTNERSHIP_COUNCILS:
        slug, name = council["slug"], council["short_name"]
        editor, finance, courses = people[slug]
        users += [
            DemoUser(
                f"editor@{slug}.example",
                editor,
                "Traded services catalogue editor",
                f"{name} catalogue editor",
                is_staff=True,
                council_slug=slug,
                council_role=CouncilRole.EDITOR,
            ),
            DemoUser(
                f"finance@{slug}.example",
                finance,
                "Schools finance officer",
                f"{name} finance officer",
                council_slug=slug,
                council_role=CouncilRole.FINANCE,
            ),
            DemoUser(
                f"courses@{slug}.example",
                courses,
                "Training and events coordinator",
                f"{name} course administrator",
                is_staff=True,
                council_slug=slug,
                council_role=CouncilRole.COURSE_ADMIN,
            ),
        ]
    return users


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "admin@tricouncil.example",
        "Priya Shah",
        "Partnership manager",
        "Partnership administrator: everything, across the three councils",
        is_superuser=True,
        is_staff=True,
    ),
    *_council_users(),
    DemoUser(
        "sbm@oakfield-primary.example",
        "Karen Walker",
        "School business manager",
        "Approver at Oakfield Primary School (maintained primary, Staffordshire)",
        school_urn=OAKFIELD_URN,
        school_role=SchoolRole.APPROVER,
    ),
    DemoUser(
        "teacher@oakfield-primary.example",
        "Ben Cooper",
        "Year 4 teacher",
        "Booker at Oakfield Primary School",
        school_urn=OAKFIELD_URN,
        school_role=SchoolRole.BOOKER,
    ),
    DemoUser(
        "sbm@severn-valley.example",
        "Rachel Morgan",
        "School business manager",
        "Approver at Severn Valley Academy (academy secondary, Shropshire)",
        school_urn=SEVERN_VALLEY_URN,
        school_role=SchoolRole.APPROVER,
    ),
)
NAMED_SCHOOL_URNS = (OAKFIELD_URN, SEVERN_VALLEY_URN, MALVERN_HILLS_URN)


class DemoDataError(Exception):
    """The generated demo data did not import cleanly: a bug in portal/demo_schools.py."""


def seed(*, seed: int, stdout) -> str:
    """Create or refresh the portal's demo data; returns a one-line summary for seed_demo."""
    councils = ensure_partnership_councils()
    schools = seed_schools(seed=seed)
    users = seed_users(councils=councils)
    pages = ensure_information_pages()
    return (
        f"{len(councils)} councils; schools {schools}; {users} demo users "
        f"(password {DEMO_PASSWORD}); information pages created: {', '.join(pages) or 'none (all present)'}"
    )


def seed_schools(*, seed: int) -> str:
    """Import the demo schools through the GIAS importer, as a downloaded extract would be."""
    buffer = io.BytesIO()
    write_gias_csv(demo_gias_rows(seed=seed), buffer)
    buffer.seek(0)
    result = import_gias_file(buffer)
    if result.rejected:
        reasons = "; ".join(f"line {row.line}: {row.reason}" for row in result.rejected)
        raise DemoDataError(f"The demo GIAS extract has rows the importer rejects: {reasons}")
    return f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"


def seed_users(*, councils: dict) -> int:
    """Create or refresh the demo users, their verified email addresses and their memberships."""
    schools = School.objects.in_bulk([user.school_urn for user in DEMO_USERS if user.school_urn], field_name="urn")
    for demo in DEMO_USERS:
        user = _ensure_user(demo)
        _ensure_verified_email(user)
        if demo.council_slug:
            membership = CouncilMembership(user=user, council=councils[demo.council_slug], role=demo.council_role)
            if not CouncilMembership.objects.filter(
                user=user, council=membership.council, role=membership.role
            ).exists():
                membership.full_clean()
                membership.save()
        if demo.school_urn:
            school = schools[demo.school_urn]
            existing = SchoolMembership.objects.filter(user=user, school=school).first()
            if existing is None:
                membership = SchoolMembership(user=user, school=school, role=demo.school_role)
                membership.full_clean()
                membership.save()
            elif existing.role != demo.school_role:
                existing.role = demo.school_role
                existing.save(update_fields=["role"])
    return len(DEMO_USERS)


def _ensure_user(demo: DemoUser) -> User:
    wanted = {
        "full_name": demo.full_name,
        "job_title": demo.job_title,
        "is_staff": demo.is_staff,
        "is_superuser": demo.is_superuser,
        "is_active": True,
    }
    user = User.objects.filter(email=demo.email).first()
    if user is None:
        user = User(email=demo.email, **wanted)
        # Only a new user gets the demo password: hashing it is slow on purpose (about 0.4 s), and checking
        # every user's password on every `make run` would cost seconds. `manage.py changepassword` resets one.
        user.set_password(DEMO_PASSWORD)
        user.full_clean()
        user.save()
        return user
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    if changed:
        for name in changed:
            setattr(user, name, wanted[name])
        user.full_clean()
        user.save(update_fields=changed)
    return user


def _ensure_verified_email(user: User) -> None:
    """Mark the address verified and primary, so the demo user can sign in without a confirmation email."""
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    elif not (address.verified and address.primary):
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])
