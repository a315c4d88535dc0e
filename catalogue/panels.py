"""An edit-view panel that links a service page to its price rules and course dates.

Those rows live outside the page (so publishing never touches them) and are edited in their own admin views;
this panel puts the way there on the page's own edit screen.
"""

from django.urls import reverse
from wagtail.admin.panels import Panel


class RelatedRecordsPanel(Panel):
    class BoundPanel(Panel.BoundPanel):
        template_name = "catalogue/admin/related_records_panel.html"

        def is_shown(self):
            return bool(self.instance and self.instance.pk)

        def get_context_data(self, parent_context=None):
            from .models import CourseDate, PriceRule, ServiceKind

            context = super().get_context_data(parent_context)
            service = self.instance
            context["price_rules"] = PriceRule.objects.filter(service_id=service.pk)
            context["price_rules_url"] = reverse("catalogue_pricerule:list")
            context["add_price_rule_url"] = reverse("catalogue_pricerule:add")
            if service.kind == ServiceKind.COURSE:
                context["course_dates"] = CourseDate.objects.filter(service_id=service.pk).select_related("venue")
                context["course_dates_url"] = reverse("catalogue_coursedate:list")
                context["add_course_date_url"] = reverse("catalogue_coursedate:add")
            context["service"] = service
            return context
