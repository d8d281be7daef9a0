"""What every installation starts with: the model's labels and the roles with their permissions.

Takes ``apps`` so that a data migration and tests that flush the database can both call it.
"""

from django.apps.registry import Apps

# Light backgrounds: black text on each has a contrast ratio above 7:1 (WCAG AAA).
LABELS = [
    ("PER", "Persona: nombres de personas reales o ficticias", "#ffd6a5", "1"),
    ("LOC", "Lugar: países, ciudades, regiones, accidentes geográficos", "#b9fbc0", "2"),
    ("ORG", "Organización: empresas, instituciones, partidos, equipos", "#a0c4ff", "3"),
    ("MISC", "Otros: eventos, obras, productos, nacionalidades y demás entidades", "#e4c1f9", "4"),
]

EDITOR_PERMISSIONS = ["view_article", "review_article", "view_span", "view_label"]
# Reviewers also adjudicate.
REVIEWER_PERMISSIONS = EDITOR_PERMISSIONS + ["adjudicate_article"]
ADMIN_PERMISSIONS = REVIEWER_PERMISSIONS + [
    "import_articles",
    "export_spans",
    "add_article",
    "change_article",
    "delete_article",
    "add_label",
    "change_label",
    "delete_label",
    "view_spanevent",
    "view_quality",
    "train_model",
]
ROLE_PERMISSIONS = {"editor": EDITOR_PERMISSIONS, "reviewer": REVIEWER_PERMISSIONS, "admin": ADMIN_PERMISSIONS}


def install(apps: Apps) -> None:
    """Creates the default labels and roles that are missing; needs the permissions to exist."""
    Label = apps.get_model("articles", "Label")
    for order, (name, description, color, hotkey) in enumerate(LABELS):
        Label.objects.get_or_create(
            name=name, defaults={"description": description, "color": color, "hotkey": hotkey, "order": order}
        )
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="articles", codename__in=codenames))
