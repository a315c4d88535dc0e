"""Keep Wagtail groups in step with the portal's council memberships, and course dates with their page.

The portal cannot call the catalogue (apps depend one way), so the catalogue listens. The receivers do
database work only, inside the caller's transaction, so a membership and its groups change together.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.signals import post_page_move

from portal.models import CouncilMembership

from .permissions import sync_council_groups


@receiver(post_save, sender=CouncilMembership, dispatch_uid="catalogue_sync_groups_on_membership_save")
@receiver(post_delete, sender=CouncilMembership, dispatch_uid="catalogue_sync_groups_on_membership_delete")
def membership_changed(sender, instance, **kwargs):
    sync_council_groups(user=instance.user)


@receiver(post_page_move, dispatch_uid="catalogue_service_council_follows_tree")
def page_moved(sender, instance, **kwargs):
    """A service moved to another provider (only a partnership administrator can) changes council with it."""
    from .models import CourseDate, ServicePage

    for service in ServicePage.objects.filter(path__startswith=instance.path):
        council_id = service._provider_council_id()
        if council_id and council_id != service.council_id:
            ServicePage.objects.filter(pk=service.pk).update(council_id=council_id)
            CourseDate.objects.filter(service_id=service.pk).update(council_id=council_id)
