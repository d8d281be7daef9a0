"""The default labels (those of the Spanish spaCy models) and the two roles, editor and admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from articles.site import defaults


def forwards(apps, schema_editor):
    # Permissions are normally created after all migrations; the roles need them now. The stub
    # app config of a migration has no models_module, which create_permissions takes as "no models".
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    defaults.install(apps)


class Migration(migrations.Migration):
    dependencies = [("articles", "0002_triggers"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
