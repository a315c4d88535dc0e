"""The shared factories and council data produce valid rows."""

import pytest

from tests.factories import PASSWORD, SchoolMembershipFactory

pytestmark = pytest.mark.django_db


def test_partnership_councils_are_valid_and_idempotent(councils):
    """The three councils pass validation and seeding twice changes nothing."""
    from portal.councils import ensure_partnership_councils
    from portal.models import Council

    for council in councils.values():
        council.full_clean()
    assert sorted(c.la_code for c in councils.values()) == ["860", "885", "893"]
    ensure_partnership_councils()
    assert Council.objects.count() == 3


def test_membership_factory_user_can_log_in(client):
    """A factory user has a usable password."""
    membership = SchoolMembershipFactory()
    assert membership.user.check_password(PASSWORD)
