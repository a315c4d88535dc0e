"""Page creation rules: the catalogue's tree is pinned by parent_page_types / subpage_types."""

from wagtail.models import Page
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from catalogue.models import (
    CatalogueIndexPage,
    CourseServicePage,
    OneOffServicePage,
    ProviderPage,
    ServicePage,
    SubscriptionServicePage,
)
from catalogue.setup import ensure_catalogue
from portal.councils import ensure_partnership_councils
from portal.models import HomePage, InformationPage, User

SERVICE_KINDS = {CourseServicePage, SubscriptionServicePage, OneOffServicePage}


class CatalogueTreeRulesTests(WagtailPageTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.councils = ensure_partnership_councils()
        cls.tree = ensure_catalogue(councils=cls.councils.values())

    def setUp(self):
        # A partnership administrator, so only the tree's own rules can refuse. (force_login: axes wants a
        # request, which WagtailTestUtils.login() does not pass.)
        admin = User.objects.create_superuser(email="admin@partnership.test", password="x-unused-password")
        self.client.force_login(admin)

    def test_index_sits_under_home_only(self):
        """The catalogue index can only be created under the portal's home page."""
        self.assertAllowedParentPageTypes(CatalogueIndexPage, {HomePage})
        self.assertCanNotCreateAt(Page, CatalogueIndexPage)
        self.assertCanNotCreateAt(InformationPage, CatalogueIndexPage)

    def test_only_one_index(self):
        """A second catalogue index cannot be added (max_count 1)."""
        self.assertFalse(CatalogueIndexPage.can_create_at(HomePage.objects.get()))

    def test_provider_pages_sit_under_the_index(self):
        """Provider pages go under the index and nowhere else; the index holds nothing but provider pages."""
        self.assertAllowedParentPageTypes(ProviderPage, {CatalogueIndexPage})
        self.assertAllowedSubpageTypes(CatalogueIndexPage, {ProviderPage})
        self.assertCanNotCreateAt(HomePage, ProviderPage)
        self.assertCanNotCreateAt(ProviderPage, ProviderPage)

    def test_services_of_three_kinds_under_a_provider(self):
        """A provider page holds the three kinds of service page, and nothing else."""
        self.assertAllowedSubpageTypes(ProviderPage, SERVICE_KINDS)
        for kind in SERVICE_KINDS:
            self.assertCanCreateAt(ProviderPage, kind)
            self.assertAllowedParentPageTypes(kind, {ProviderPage})
            self.assertCanNotCreateAt(CatalogueIndexPage, kind)
            self.assertCanNotCreateAt(HomePage, kind)

    def test_service_pages_have_no_children(self):
        """Nothing can be created under a service page."""
        for kind in SERVICE_KINDS:
            self.assertAllowedSubpageTypes(kind, set())

    def test_bare_service_page_cannot_be_created(self):
        """The concrete ServicePage base is never offered to editors."""
        self.assertFalse(ServicePage.is_creatable)
        self.assertCanNotCreateAt(ProviderPage, ServicePage)

    def test_course_created_through_the_admin_takes_the_providers_council(self):
        """A course added through the admin form gets its kind and council from the tree, not the form."""
        provider = self.tree.providers["shropshire"]
        self.assertCanCreate(
            provider,
            CourseServicePage,
            nested_form_data(
                {
                    "title": "Designated safeguarding lead refresher",
                    "slug": "dsl-refresher",
                    "summary": "Two-yearly refresher for DSLs.",
                    "body": streamfield([("paragraph", rich_text("<p>What the course covers.</p>"))]),
                    "categories": [],
                    "phases": [],
                    "duration": "Half a day",
                    "audience": "Designated safeguarding leads",
                    "vat_treatment": "exempt",
                    "cancellation_free_days": 14,
                    "delegates_must_be_named": "on",
                    "comments": inline_formset([]),
                }
            ),
        )
        page = CourseServicePage.objects.get(slug="dsl-refresher")
        self.assertEqual(page.kind, "course")
        self.assertEqual(page.council, self.councils["shropshire"])
        self.assertEqual(page.get_parent().specific, provider)

    def test_provider_slug_is_the_councils(self):
        """A provider page's slug is its council's slug, whatever an editor types."""
        provider = self.tree.providers["worcestershire"]
        provider.slug = "something-else"
        provider.save()
        provider.refresh_from_db()
        self.assertEqual(provider.slug, "worcestershire")
        self.assertEqual(provider.url_path, "/home/services/worcestershire/")
