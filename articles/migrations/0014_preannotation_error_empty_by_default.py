"""An article's pre-annotation error is empty by default in the database too, so that bulk loads
in SQL (benchmarks, scripts) need not name the column."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0013_spans_apart_checked_per_statement'),
    ]

    operations = [
        migrations.AlterField(
            model_name='article',
            name='preannotation_error',
            field=models.TextField(blank=True, db_default='', default='', editable=False),
        ),
    ]
