"""The default labels (those of the Spanish spaCy models) and the two roles, editor and admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Light backgrounds: black text on each has a contrast ratio above 7:1 (WCAG AAA).
LABELS = [
    ("PER", "Persona: nombres de personas reales o ficticias", "#ffd6a5", "1"),
    ("LOC", "Lugar: países, ciudades, regiones, accidentes geográficos", "#b9fbc0", "2"),
    ("ORG", "Organización: empresas, instituciones, partidos, equipos", "#a0c4ff", "3"),
    ("MISC", "Otros: eventos, obras, productos, nacionalidades y demás entidades", "#e4c1f9", "4"),
]

EDITOR_PERMISSIONS = ["view_article", "review_article", "view_span", "view_label"]
ADMIN_PERMISSIONS = EDITOR_PERMISSIONS + [
    "import_articles",
    "export_spans",
    "add_article",
    "change_article",
    "delete_article",
    "add_label",
    "change_label",
    "delete_label",
    "view_spanevent",
]


def forwards(apps, schema_editor):
    Label = apps.get_model("articles", "Label")
    for order, (name, description, color, hotkey) in enumerate(LABELS):
        Label.objects.get_or_create(
            name=name, defaults={"description": description, "color": color, "hotkey": hotkey, "order": order}
        )

    # Permissions are normally created after all migrations; the groups need them now. The stub
    # app config of a migration has no models_module, which create_permissions takes as "no models".
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in [("editor", EDITOR_PERMISSIONS), ("admin", ADMIN_PERMISSIONS)]:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="articles", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("articles", "0002_triggers"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
