"""The site shell: home page, information pages and the header every page shares."""

import pytest

pytestmark = pytest.mark.django_db


def test_home_page_is_served_with_partnership_header(client):
    """The home page answers at / with the partnership's name and no GOV.UK crown or logotype."""
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tri-Council Schools Portal" in html
    assert "govuk-logo" not in html and "govuk-header__logotype" not in html
    assert 'href="#main-content"' in html


def test_pages_load_nothing_from_other_origins(client):
    """No request leaves the machine: every script, stylesheet and image is served by us."""
    html = client.get("/").content.decode()
    for attr in ('src="http', "src='http", 'href="http', "//fonts.", "cdn"):
        assert attr not in html.replace('href="http://testserver', ""), attr
