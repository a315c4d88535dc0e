"""The six phases a service can be tagged with. Codes match portal.models.schools.Phase."""

from django.db import migrations

PHASES = [
    ("nursery", "Nursery"),
    ("primary", "Primary"),
    ("secondary", "Secondary"),
    ("special", "Special"),
    ("all_through", "All-through"),
    ("pru", "Pupil referral unit"),
]


def seed_phases(apps, schema_editor):
    Phase = apps.get_model("catalogue", "Phase")
    for order, (code, name) in enumerate(PHASES):
        Phase.objects.update_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_catalogue")]
    operations = [migrations.RunPython(seed_phases, migrations.RunPython.noop)]
