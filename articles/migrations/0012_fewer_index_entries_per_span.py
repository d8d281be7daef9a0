"""Fewer index entries per span written: the model's spans and their history rows name nobody, so
the who-columns are indexed only where they name someone, and the history's article column is
already the first column of spanevent_article_actor."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0011_search_body_and_set_checks'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='span',
            name='created_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='span',
            name='updated_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='spanevent',
            name='actor',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='spanevent',
            name='article',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='articles.article'),
        ),
        migrations.AddIndex(
            model_name='span',
            index=models.Index(condition=models.Q(('created_by__isnull', False)), fields=['created_by'], name='span_created_by'),
        ),
        migrations.AddIndex(
            model_name='span',
            index=models.Index(condition=models.Q(('updated_by__isnull', False)), fields=['updated_by'], name='span_updated_by'),
        ),
        migrations.AddIndex(
            model_name='spanevent',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='spanevent_actor'),
        ),
    ]
