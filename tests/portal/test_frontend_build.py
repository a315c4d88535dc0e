"""The built front end (static/dist, from `make assets`): everything it refers to is served by us."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "static" / "dist"


def test_stylesheet_refers_only_to_files_we_ship():
    """Every url() in portal.css is a local static file that exists, so production's collectstatic accepts it."""
    css = (DIST / "portal.css").read_text()
    urls = set(re.findall(r"url\(\"?([^\")]+)\"?\)", css))
    for url in urls:
        assert url.startswith("/static/"), f"{url} is not one of our static files"
        assert (ROOT / "static" / url.removeprefix("/static/")).is_file(), f"{url} is referenced but not built"


def test_stylesheet_has_no_gov_uk_brand():
    """No GDS Transport font and no royal crest: the partnership is not GOV.UK."""
    css = (DIST / "portal.css").read_text()
    assert "GDS Transport" not in css
    assert "govuk-crest" not in css and "govuk-crown" not in css
