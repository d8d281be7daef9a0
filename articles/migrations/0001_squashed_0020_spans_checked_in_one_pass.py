"""The schema as migrations 0001 to 0020 left it, in one migration: what a new database runs.

Squashed as Django's documentation says: the replaced migrations stay beside it, so that a database
that applied some of them goes on through the rest, and one that applied them all records this one
too; a migration that depends on 0020 (made on another branch) is pointed at this one. Once every
database has run it, the replaced files and ``replaces`` can go.

The functions and triggers are the live ones of articles/models/sql/triggers.sql, not the four
successive rewrites of the replaced migrations; tests/test_migrations.py checks that both ways give
the same database, and that rows written before the squash survive it and its reversal.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.contrib.auth.management import create_permissions
from django.contrib.postgres.operations import BtreeGistExtension, TrigramExtension

from articles.models import triggers
from articles.site import defaults


def labels_and_roles(apps, schema_editor) -> None:
    # Permissions are normally created after all migrations; the roles need them now. The stub app
    # config of a migration has no models_module, which create_permissions takes as "no models".
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    defaults.install(apps)


class Migration(migrations.Migration):
    initial = True

    replaces = [
        ("articles", "0001_initial"),
        ("articles", "0002_triggers"),
        ("articles", "0003_labels_and_roles"),
        ("articles", "0004_reference_spans"),
        ("articles", "0005_import_batches"),
        ("articles", "0006_queue"),
        ("articles", "0007_import_progress"),
        ("articles", "0008_exports"),
        ("articles", "0009_quality"),
        ("articles", "0010_preannotation"),
        ("articles", "0011_search_body_and_set_checks"),
        ("articles", "0012_fewer_index_entries_per_span"),
        ("articles", "0013_spans_apart_checked_per_statement"),
        ("articles", "0014_preannotation_error_empty_by_default"),
        ("articles", "0015_tasks_beside_their_code"),
        ("articles", "0016_imports_at_copy_speed"),
        ("articles", "0017_export_conll"),
        ("articles", "0018_team_review"),
        ("articles", "0019_training_runs"),
        ("articles", "0020_spans_checked_in_one_pass"),
    ]

    # Those of the replaced migrations on other apps: a migration written against 0020 may count on
    # the task table existing before it (0015 renamed task rows), as it did on the replaced path.
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        # btree_gist served an exclusion constraint that a trigger replaced (0013); kept so that a
        # database made by this migration is the one the replaced migrations made.
        BtreeGistExtension(),
        # The trigram index over the search rows' body copies (suggestions find an entity's text).
        TrigramExtension(),
        migrations.CreateModel(
            name='Article',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=300)),
                ('body', models.TextField()),
                ('body_length', models.PositiveIntegerField(editable=False)),
                ('content_hash', models.CharField(editable=False, max_length=64)),
                ('source', models.CharField(blank=True, max_length=500)),
                ('published_at', models.DateTimeField(blank=True, null=True)),
                ('external_id', models.CharField(blank=True, max_length=200)),
                ('status', models.CharField(choices=[('new', 'new'), ('pre_annotated', 'pre-annotated'), ('in_review', 'in review'), ('reviewed', 'reviewed')], default='new', max_length=16)),
                ('preannotated_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('preannotation_error', models.TextField(blank=True, db_default='', default='', editable=False)),
                ('version', models.PositiveIntegerField(default=1)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('reviewed_at', models.DateTimeField(blank=True, null=True)),
                ('leased_until', models.DateTimeField(blank=True, null=True)),
                ('double', models.BooleanField(db_default=False, default=False)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('leased_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('reviewed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['id'],
                'permissions': [('review_article', 'Can correct spans and review articles'), ('import_articles', 'Can upload and import articles'), ('export_spans', 'Can export annotations'), ('view_quality', "Can see the model's quality figures and editors' effort"), ('train_model', 'Can retrain the model from reviewed articles'), ('adjudicate_article', "Can settle two editors' versions of an article")],
            },
        ),
        migrations.CreateModel(
            name='QualitySnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=50, unique=True)),
                ('figures', models.JSONField()),
                ('fingerprint', models.CharField(max_length=100)),
                ('computed_at', models.DateTimeField()),
                ('refresh_requested_at', models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name='Annotation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('slot', models.PositiveSmallIntegerField(help_text='First or second editor: 1 or 2.')),
                ('version', models.PositiveIntegerField(default=1)),
                ('started_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('editor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='annotations', to='articles.article')),
            ],
            options={
                'ordering': ['article', 'slot'],
            },
        ),
        migrations.CreateModel(
            name='Decision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('start', models.PositiveIntegerField()),
                ('end', models.PositiveIntegerField()),
                ('choice', models.CharField(choices=[('1', 'first editor’s'), ('2', 'second editor’s'), ('edited', 'edited by the reviewer')], max_length=8)),
                ('decided_at', models.DateTimeField(auto_now=True)),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='decisions', to='articles.article')),
                ('decided_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['article', 'start'],
            },
        ),
        migrations.CreateModel(
            name='Export',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('format', models.CharField(choices=[('csv', 'CSV'), ('jsonl', 'JSONL'), ('spacy', 'spaCy DocBin'), ('conll', 'CoNLL (IOB2)')], max_length=8)),
                ('excel', models.BooleanField(default=False)),
                ('filters', models.CharField(blank=True, max_length=2000)),
                ('articles', models.PositiveIntegerField(null=True)),
                ('spans', models.PositiveIntegerField(null=True)),
                ('unaligned', models.PositiveIntegerField(help_text='Spans whose edges fall inside a spaCy token.', null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ImportBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=300)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('status', models.CharField(choices=[('checking', 'checking'), ('checked', 'ready to import'), ('importing', 'importing'), ('done', 'imported'), ('failed', 'refused')], default='done', max_length=10)),
                ('files', models.JSONField(blank=True, default=list)),
                ('encoding', models.CharField(blank=True, help_text='Empty: UTF-8, with or without BOM.', max_length=40)),
                ('create_labels', models.BooleanField(default=False)),
                ('preannotate', models.BooleanField(default=True)),
                ('reviewed', models.BooleanField(default=False)),
                ('double_share', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('preview', models.JSONField(blank=True, null=True)),
                ('errors', models.JSONField(blank=True, default=list)),
                ('created_count', models.PositiveIntegerField(default=0)),
                ('duplicate_count', models.PositiveIntegerField(default=0)),
                ('span_count', models.PositiveIntegerField(default=0)),
                ('skipped_count', models.PositiveIntegerField(default=0)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name_plural': 'import batches',
                'ordering': ['-created_at'],
            },
        ),
        migrations.AddField(
            model_name='article',
            name='batch',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='articles', to='articles.importbatch'),
        ),
        migrations.CreateModel(
            name='Label',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=32, unique=True)),
                ('description', models.CharField(blank=True, max_length=200)),
                ('color', models.CharField(help_text='Background colour, #rrggbb.', max_length=7)),
                ('hotkey', models.CharField(blank=True, max_length=1)),
                ('order', models.PositiveSmallIntegerField(default=0)),
            ],
            options={
                'ordering': ['order', 'name'],
                'constraints': [models.CheckConstraint(condition=models.Q(('color__regex', '^#[0-9a-fA-F]{6}$')), name='label_color_hex'), models.CheckConstraint(condition=models.Q(('name__regex', '^\\S+$')), name='label_name_no_space'), models.UniqueConstraint(condition=models.Q(('hotkey', ''), _negated=True), fields=('hotkey',), name='label_hotkey_unique')],
            },
        ),
        migrations.CreateModel(
            name='ReferenceSpan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('start', models.PositiveIntegerField()),
                ('end', models.PositiveIntegerField()),
                ('source', models.CharField(help_text='Where the highlight comes from.', max_length=100)),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reference_spans', to='articles.article')),
            ],
            options={
                'ordering': ['article', 'start'],
            },
        ),
        migrations.CreateModel(
            name='ReviewPolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('double_share', models.PositiveSmallIntegerField(default=0, help_text='Per cent of articles, 0 to 100.')),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name_plural': 'review policy',
            },
        ),
        migrations.CreateModel(
            name='Span',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('start', models.PositiveIntegerField()),
                ('end', models.PositiveIntegerField()),
                ('origin', models.CharField(choices=[('model', 'Model'), ('editor', 'Editor'), ('import', 'Import')], max_length=8)),
                ('model_name', models.CharField(blank=True, max_length=200)),
                ('model_version', models.CharField(blank=True, max_length=50)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('article', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='spans', to='articles.article')),
                ('created_by', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('label', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='spans', to='articles.label')),
                ('updated_by', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['article', 'start'],
            },
        ),
        migrations.CreateModel(
            name='SpanEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('span_id', models.BigIntegerField()),
                ('kind', models.CharField(choices=[('created', 'Created'), ('accepted', 'Accepted'), ('relabelled', 'Relabelled'), ('resized', 'Resized'), ('deleted', 'Deleted'), ('restored', 'Restored')], max_length=12)),
                ('origin', models.CharField(choices=[('model', 'Model'), ('editor', 'Editor'), ('import', 'Import')], max_length=8)),
                ('at', models.DateTimeField(auto_now_add=True)),
                ('article_version', models.PositiveIntegerField()),
                ('before_start', models.PositiveIntegerField(null=True)),
                ('before_end', models.PositiveIntegerField(null=True)),
                ('before_label', models.CharField(blank=True, max_length=32)),
                ('after_start', models.PositiveIntegerField(null=True)),
                ('after_end', models.PositiveIntegerField(null=True)),
                ('after_label', models.CharField(blank=True, max_length=32)),
                ('model', models.CharField(blank=True, max_length=250)),
                ('actor', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('annotation', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='articles.annotation')),
                ('article', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='articles.article')),
                ('undoes', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='undone_by', to='articles.spanevent')),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='Suggestion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('start', models.PositiveIntegerField()),
                ('end', models.PositiveIntegerField()),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('accepted', 'Accepted'), ('dismissed', 'Dismissed')], default='pending', max_length=10)),
                ('source_span_id', models.BigIntegerField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='suggestions', to='articles.article')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('label', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='articles.label')),
            ],
            options={
                'ordering': ['article', 'start'],
            },
        ),
        migrations.CreateModel(
            name='TrainedModel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('version', models.PositiveIntegerField(unique=True)),
                ('path', models.CharField(max_length=500)),
                ('base', models.CharField(help_text='The pipeline it was fine-tuned from.', max_length=500)),
                ('train_articles', models.PositiveIntegerField()),
                ('dev_articles', models.PositiveIntegerField()),
                ('scores', models.JSONField()),
                ('learnt_from', models.JSONField(default=dict)),
                ('dev_spans', models.JSONField(default=dict)),
                ('skipped_labels', models.JSONField(default=dict)),
                ('active', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-version'],
            },
        ),
        migrations.CreateModel(
            name='TrainingRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('status', models.CharField(choices=[('queued', 'queued'), ('running', 'running'), ('finished', 'finished'), ('failed', 'failed')], default='queued', max_length=10)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('progress', models.JSONField(default=dict)),
                ('error', models.TextField(blank=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('model', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='articles.trainedmodel')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='VersionSpan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('start', models.PositiveIntegerField()),
                ('end', models.PositiveIntegerField()),
                ('origin', models.CharField(choices=[('model', 'Model'), ('editor', 'Editor'), ('import', 'Import')], max_length=8)),
                ('model_name', models.CharField(blank=True, max_length=200)),
                ('model_version', models.CharField(blank=True, max_length=50)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('annotation', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='spans', to='articles.annotation')),
                ('article', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='version_spans', to='articles.article')),
                ('created_by', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('label', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='versionspans', to='articles.label')),
                ('updated_by', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['annotation', 'start'],
            },
        ),
        migrations.CreateModel(
            name='ArticleSearch',
            fields=[
                ('article', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search', serialize=False, to='articles.article')),
                ('document', django.contrib.postgres.search.SearchVectorField(null=True)),
                ('body', models.TextField(editable=False, null=True)),
            ],
            options={
                'indexes': [django.contrib.postgres.indexes.GinIndex(condition=models.Q(('document__isnull', False)), fields=['document'], name='articlesearch_document'), django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(models.F('body'), name='gin_trgm_ops'), condition=models.Q(('body__isnull', False)), name='articlesearch_body_trgm'), models.Index(condition=models.Q(('document__isnull', True)), fields=['article'], name='articlesearch_pending')],
            },
        ),
        migrations.AddConstraint(
            model_name='annotation',
            constraint=models.CheckConstraint(condition=models.Q(('slot__in', [1, 2])), name='annotation_slot_1_or_2'),
        ),
        migrations.AddConstraint(
            model_name='annotation',
            constraint=models.CheckConstraint(condition=models.Q(('version__gte', 1)), name='annotation_version_positive'),
        ),
        migrations.AddConstraint(
            model_name='annotation',
            constraint=models.UniqueConstraint(fields=('article', 'slot'), name='annotation_one_per_slot'),
        ),
        migrations.AddConstraint(
            model_name='annotation',
            constraint=models.UniqueConstraint(fields=('article', 'editor'), name='annotation_one_per_editor'),
        ),
        migrations.AddConstraint(
            model_name='decision',
            constraint=models.CheckConstraint(condition=models.Q(('start__lt', models.F('end'))), name='decision_start_before_end'),
        ),
        migrations.AddConstraint(
            model_name='decision',
            constraint=models.CheckConstraint(condition=models.Q(('choice__in', ['1', '2', 'edited'])), name='decision_choice_valid'),
        ),
        migrations.AddConstraint(
            model_name='decision',
            constraint=models.UniqueConstraint(fields=('article', 'start', 'end'), name='decision_one_per_place'),
        ),
        migrations.AddConstraint(
            model_name='export',
            constraint=models.CheckConstraint(condition=models.Q(('format__in', ['csv', 'jsonl', 'spacy', 'conll'])), name='export_format_valid'),
        ),
        migrations.AddConstraint(
            model_name='importbatch',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['checking', 'checked', 'importing', 'done', 'failed'])), name='importbatch_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='importbatch',
            constraint=models.CheckConstraint(condition=models.Q(('double_share__lte', 100)), name='importbatch_share_percent'),
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(fields=['status', 'id'], name='article_status_id'),
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(fields=['updated_at', 'id'], name='article_updated_id'),
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(fields=['title', 'id'], name='article_title_id'),
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(fields=['preannotated_at'], name='article_preannotated_at'),
        ),
        migrations.AddConstraint(
            model_name='article',
            constraint=models.CheckConstraint(condition=models.Q(('body_length', models.Func(models.F('body'), function='char_length'))), name='article_body_length'),
        ),
        migrations.AddConstraint(
            model_name='article',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['new', 'pre_annotated', 'in_review', 'reviewed'])), name='article_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='article',
            constraint=models.CheckConstraint(condition=models.Q(('version__gte', 1)), name='article_version_positive'),
        ),
        migrations.AddConstraint(
            model_name='article',
            constraint=models.UniqueConstraint(fields=('content_hash',), name='article_content_hash_unique'),
        ),
        migrations.AddConstraint(
            model_name='referencespan',
            constraint=models.CheckConstraint(condition=models.Q(('start__gte', 0), ('start__lt', models.F('end'))), name='referencespan_bounds'),
        ),
        migrations.AddConstraint(
            model_name='referencespan',
            constraint=models.UniqueConstraint(fields=('article', 'start', 'end'), name='referencespan_unique'),
        ),
        migrations.AddConstraint(
            model_name='reviewpolicy',
            constraint=models.CheckConstraint(condition=models.Q(('double_share__gte', 0), ('double_share__lte', 100)), name='reviewpolicy_share_percent'),
        ),
        migrations.AddConstraint(
            model_name='reviewpolicy',
            constraint=models.CheckConstraint(condition=models.Q(('id', 1)), name='reviewpolicy_one_row'),
        ),
        migrations.AddIndex(
            model_name='span',
            index=models.Index(fields=['article', 'start'], name='span_article_start'),
        ),
        migrations.AddIndex(
            model_name='span',
            index=models.Index(condition=models.Q(('created_by__isnull', False)), fields=['created_by'], name='span_created_by'),
        ),
        migrations.AddIndex(
            model_name='span',
            index=models.Index(condition=models.Q(('updated_by__isnull', False)), fields=['updated_by'], name='span_updated_by'),
        ),
        migrations.AddConstraint(
            model_name='span',
            constraint=models.CheckConstraint(condition=models.Q(('start__gte', 0), ('start__lt', models.F('end'))), name='span_start_before_end'),
        ),
        migrations.AddConstraint(
            model_name='span',
            constraint=models.CheckConstraint(condition=models.Q(('origin__in', ['model', 'editor', 'import'])), name='span_origin_valid'),
        ),
        migrations.AddIndex(
            model_name='spanevent',
            index=models.Index(fields=['article', 'actor', 'id'], name='spanevent_article_actor'),
        ),
        migrations.AddIndex(
            model_name='spanevent',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='spanevent_actor'),
        ),
        migrations.AddIndex(
            model_name='spanevent',
            index=models.Index(condition=models.Q(('annotation__isnull', False)), fields=['annotation'], name='spanevent_annotation'),
        ),
        migrations.AddConstraint(
            model_name='spanevent',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['created', 'accepted', 'relabelled', 'resized', 'deleted', 'restored'])), name='spanevent_kind_valid'),
        ),
        migrations.AddIndex(
            model_name='suggestion',
            index=models.Index(fields=['article', 'status'], name='suggestion_article_status'),
        ),
        migrations.AddConstraint(
            model_name='suggestion',
            constraint=models.CheckConstraint(condition=models.Q(('start__gte', 0), ('start__lt', models.F('end'))), name='suggestion_bounds'),
        ),
        migrations.AddConstraint(
            model_name='suggestion',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'accepted', 'dismissed'])), name='suggestion_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='suggestion',
            constraint=models.UniqueConstraint(fields=('article', 'start', 'end', 'label'), name='suggestion_unique'),
        ),
        migrations.AddConstraint(
            model_name='trainedmodel',
            constraint=models.UniqueConstraint(condition=models.Q(('active', True)), fields=('active',), name='one_active_model'),
        ),
        migrations.AddConstraint(
            model_name='trainingrun',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['queued', 'running', 'finished', 'failed'])), name='training_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='trainingrun',
            constraint=models.UniqueConstraint(models.Value(True), condition=models.Q(('status__in', ['queued', 'running'])), name='one_training_at_a_time'),
        ),
        migrations.AddIndex(
            model_name='versionspan',
            index=models.Index(fields=['annotation', 'start'], name='versionspan_annotation_start'),
        ),
        migrations.AddIndex(
            model_name='versionspan',
            index=models.Index(fields=['article'], name='versionspan_article'),
        ),
        migrations.AddConstraint(
            model_name='versionspan',
            constraint=models.CheckConstraint(condition=models.Q(('start__gte', 0), ('start__lt', models.F('end'))), name='versionspan_start_before_end'),
        ),
        migrations.AddConstraint(
            model_name='versionspan',
            constraint=models.CheckConstraint(condition=models.Q(('origin__in', ['model', 'editor', 'import'])), name='versionspan_origin_valid'),
        ),
        # Bodies are stored uncompressed: compressing them slowed imports (docs/benchmarks.md,
        # "Importing"). The planner picks the GIN index for a rare word only if it knows the word is
        # rare: ten times the default statistics on the documents.
        migrations.RunSQL(
            [
                "ALTER TABLE articles_article ALTER COLUMN body SET STORAGE EXTERNAL",
                "ALTER TABLE articles_articlesearch ALTER COLUMN document SET STATISTICS 1000",
            ],
            migrations.RunSQL.noop,
        ),
        triggers.install(),
        migrations.RunPython(labels_and_roles, migrations.RunPython.noop),
    ]
