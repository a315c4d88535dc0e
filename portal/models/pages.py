"""The site shell's Wagtail pages: the home page and plain information pages (accessibility, cookies, privacy)."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

from portal.blocks import BodyBlock


class HomePage(Page):
    """The partnership's front door: what the portal is, and a way into each council's services."""

    intro = models.CharField(max_length=300, blank=True)
    body = RichTextField(features=["h2", "h3", "bold", "italic", "link", "ol", "ul"], blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    # Catalogue page types add themselves under the home page through their own parent_page_types.
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        from portal.models import Council

        context = super().get_context(request, *args, **kwargs)
        context["councils"] = Council.objects.all()
        return context


class InformationPage(Page):
    """A plain page of text: accessibility statement, cookies, privacy notice, terms."""

    summary = models.CharField(max_length=300, blank=True)
    body = StreamField(BodyBlock(), blank=True)
    last_reviewed = models.DateField(null=True, blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("last_reviewed"),
    ]
    parent_page_types = ["portal.HomePage", "portal.InformationPage"]
    subpage_types = ["portal.InformationPage"]
