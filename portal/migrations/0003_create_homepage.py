"""Replace Wagtail's welcome page with the portal's home page, and point the default site at it."""

from django.db import migrations


def create_homepage(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    HomePage = apps.get_model("portal.HomePage")
    Locale = apps.get_model("wagtailcore.Locale")

    # Wagtail's own migration creates a placeholder page at depth 2; remove it.
    Page.objects.filter(depth=2, slug="home", content_type__model="page").delete()

    homepage_content_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="portal")
    locale = Locale.objects.first()
    homepage = HomePage.objects.create(
        title="Services for schools from Staffordshire, Shropshire and Worcestershire",
        draft_title="Services for schools from Staffordshire, Shropshire and Worcestershire",
        slug="home",
        content_type=homepage_content_type,
        path="00010001",
        depth=2,
        numchild=0,
        url_path="/home/",
        locale=locale,
        intro=(
            "Book training and buy support services for your school from three councils working together "
            "as one partnership."
        ),
    )
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "root_page_id": homepage.id, "site_name": "Tri-Council Schools Portal"},
    )


def remove_homepage(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    HomePage = apps.get_model("portal.HomePage")
    HomePage.objects.filter(slug="home", depth=2).delete()
    ContentType.objects.filter(model="homepage", app_label="portal").delete()


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_site_pages")]
    operations = [migrations.RunPython(create_homepage, remove_homepage)]
