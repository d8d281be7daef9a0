"""A decision records the article version its change made, so undoing that change takes it back."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0022_article_tokens_annotation_pick_doccano_export'),
    ]

    operations = [
        migrations.AddField(
            model_name='decision',
            name='article_version',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
