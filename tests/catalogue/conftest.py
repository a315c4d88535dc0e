"""Fixtures for the catalogue's tests: the page tree with each council's rights, and council staff."""

import pytest

from catalogue.setup import ensure_catalogue
from tests.catalogue.factories import council_user

COUNCIL_SLUGS = ("staffordshire", "shropshire", "worcestershire")


@pytest.fixture
def tree(councils):
    """The index, the three provider pages, and each council's groups, page rights and workflow."""
    return ensure_catalogue(councils=councils.values())


@pytest.fixture
def editors(tree, councils):
    """One catalogue editor per council, keyed by council slug."""
    return {slug: council_user(councils[slug], "editor", email=f"editor@{slug}.test") for slug in COUNCIL_SLUGS}
