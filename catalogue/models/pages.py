"""The catalogue's tree above the services: one index at /services/, then one provider page per council.

Wagtail page permissions follow the tree, so each council's editors and reviewers are given rights on their
own provider page only (see ``catalogue/permissions.py``), and everything they create sits beneath it.
"""

from django.db import models
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class CatalogueIndexPage(Page):
    """ "Services for schools": lists every council's services, with filters and search (``catalogue/listing.py``)."""

    intro = models.CharField(max_length=300, blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["portal.HomePage"]
    subpage_types = ["catalogue.ProviderPage"]
    max_count = 1

    class Meta:
        verbose_name = "catalogue index page"

    def get_context(self, request, *args, **kwargs):
        # The listing (filters, search, results) is built and cached by catalogue.views.listing_context.
        from catalogue.views import listing_context

        context = super().get_context(request, *args, **kwargs)
        context.update(listing_context(request))
        return context


class ProviderPageForm(WagtailAdminPageForm):
    """The council is chosen once, when the page is created; after that nobody can move it to another council."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "council" in self.fields:
            self.fields["council"].disabled = True
            self.fields["council"].help_text = "Fixed when the page was created."


class ProviderPage(Page):
    """One council's part of the catalogue. Its slug is the council's slug (/services/staffordshire/)."""

    council = models.OneToOneField("portal.Council", on_delete=models.PROTECT, related_name="provider_page")
    intro = models.CharField(max_length=300, blank=True)
    body = RichTextField(features=["h2", "h3", "bold", "italic", "link", "ol", "ul"], blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("council"),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    base_form_class = ProviderPageForm
    parent_page_types = ["catalogue.CatalogueIndexPage"]
    subpage_types = [
        "catalogue.CourseServicePage",
        "catalogue.SubscriptionServicePage",
        "catalogue.OneOffServicePage",
    ]

    class Meta:
        verbose_name = "provider page"

    def save(self, *args, **kwargs):
        # The council's URL must not drift: /services/<council slug>/ is printed on invoices and emails.
        if self.council_id:
            self.slug = self.council.slug
        return super().save(*args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from .services import ServiceKind, ServicePage

        context = super().get_context(request, *args, **kwargs)
        services = (
            ServicePage.objects.live().child_of(self).order_by("title").only("title", "url_path", "summary", "kind")
        )
        groups = {kind: [] for kind in ServiceKind.values}
        for service in services:
            groups[service.kind].append(service)
        context["service_groups"] = [
            {"label": GROUP_LABELS[kind], "services": items} for kind, items in groups.items() if items
        ]
        return context


GROUP_LABELS = {"course": "Courses and training", "subscription": "Subscriptions (SLAs)", "one_off": "Pay as you go"}
