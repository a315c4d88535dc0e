"""The site's own error pages: GOV.UK-styled, helpful, and free of other people's data."""

import pytest

pytestmark = pytest.mark.django_db


def test_unknown_address_gets_the_portal_404_page(client):
    """A mistyped address gets the portal's 'Page not found' page with a way back, status 404."""
    response = client.get("/no-such-page-here/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert 'href="/services/"' in html


def test_refused_page_gets_the_portal_403_page(client):
    """A booker opening their school's member management gets the portal's 403 page, not the members."""
    from tests.factories import SchoolMembershipFactory

    membership = SchoolMembershipFactory(role="booker")
    client.force_login(membership.user)
    response = client.get(f"/dashboard/schools/{membership.school.urn}/members/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot see this page" in html
