"""Build the catalogue's fixed structure: the index at /services/, a provider page per council, and the rights
of each council's staff on it. Used by ``manage.py setup_catalogue`` (production) and by the demo seeder.

Idempotent: pages are found by type and council, groups by name, and nothing that exists is recreated.
"""

from dataclasses import dataclass

from django.db import transaction

from portal.models import Council, CouncilMembership, HomePage, User

from .models import CatalogueIndexPage, ProviderPage
from .permissions import grant_council_rights, sync_council_groups

INDEX_TITLE = "Services for schools"
INDEX_INTRO = (
    "Training, support and advice for schools from Staffordshire, Shropshire and Worcestershire councils, in one place."
)


@dataclass(frozen=True)
class CatalogueTree:
    index: CatalogueIndexPage
    providers: dict[str, ProviderPage]  # by council slug


def ensure_index_page() -> CatalogueIndexPage:
    index = CatalogueIndexPage.objects.first()
    if index:
        return index
    home = HomePage.objects.first()
    if home is None:
        raise LookupError("The portal's home page is missing; run the migrations first.")
    index = CatalogueIndexPage(title=INDEX_TITLE, slug="services", intro=INDEX_INTRO)
    home.add_child(instance=index)
    index.save_revision().publish()
    return index


def ensure_provider_page(*, index: CatalogueIndexPage, council: Council) -> ProviderPage:
    provider = ProviderPage.objects.filter(council=council).first()
    if provider:
        return provider
    provider = ProviderPage(
        title=f"{council.short_name} services",
        slug=council.slug,
        council=council,
        intro=f"Services for schools from {council.name}.",
    )
    index.add_child(instance=provider)
    provider.save_revision().publish()
    return provider


@transaction.atomic
def ensure_catalogue(*, councils=None) -> CatalogueTree:
    """The index page, every council's provider page and staff rights; then every council user's groups."""
    councils = list(councils if councils is not None else Council.objects.all())
    index = ensure_index_page()
    providers = {}
    for council in councils:
        provider = ensure_provider_page(index=index, council=council)
        grant_council_rights(council=council, provider_page=provider)
        providers[council.slug] = provider
    user_ids = CouncilMembership.objects.values_list("user_id", flat=True).distinct()
    for user in User.objects.filter(id__in=user_ids):
        sync_council_groups(user=user)
    return CatalogueTree(index=index, providers=providers)
