"""What an import pays per article and per span, cut to what storing them costs.

- Spans keep no row-by-row foreign keys. PostgreSQL ran one check per span and per key (article,
  label, and the two who-columns even when empty): 5 µs each, more than writing the span. The
  spans_valid trigger, which already reads an inserting statement's articles once, now checks that
  its articles, labels and users exist, for the whole statement; an update checks the keys it
  changes; and deleting an article, a label or a user still holding spans is refused.
- The spans' label index goes: spans are read by article, and a label's only when it is deleted.
- An article's search document and trigram body copy are built after its import, by a worker
  (``ArticleSearch.objects.build``): parsing a body into a Spanish document and indexing its
  trigrams cost PostgreSQL about a millisecond per article, several times the import's own work.
  A statement trigger gives each new article a pending search row instead; the indexes cover built
  rows only, and a partial index finds the pending ones.
- Bodies are stored uncompressed (EXTERNAL): compressing them cost an import a third of writing
  its articles. The content hash keeps its unique index and loses the second one (for LIKE).
- An import batch says whether its spans were imported as reviewed gold data, and counts the
  records it skipped (Prodigy's rejected and ignored answers).
"""

from importlib import import_module

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.indexes import OpClass
from django.db import migrations, models
from django.db.models import F, Q

# Searching the corpus: documents built after the import, title changes still followed.
SEARCH_LATER = """
DROP TRIGGER article_search ON articles_article;
CREATE OR REPLACE FUNCTION articles_article_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE articles_articlesearch
    SET document = setweight(to_tsvector('spanish', NEW.title), 'A') || setweight(to_tsvector('spanish', NEW.body), 'B')
    WHERE article_id = NEW.id AND document IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER article_search_title AFTER UPDATE OF title ON articles_article
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION articles_article_search();

CREATE FUNCTION articles_search_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO articles_articlesearch (article_id) SELECT id FROM new_articles;
    RETURN NULL;
END $$;
CREATE TRIGGER articles_search_pending AFTER INSERT ON articles_article
    REFERENCING NEW TABLE AS new_articles FOR EACH STATEMENT EXECUTE FUNCTION articles_search_pending();
"""

SEARCH_AT_ONCE = """
DROP TRIGGER articles_search_pending ON articles_article;
DROP FUNCTION articles_search_pending();
DROP TRIGGER article_search_title ON articles_article;
UPDATE articles_articlesearch s
SET document = setweight(to_tsvector('spanish', a.title), 'A') || setweight(to_tsvector('spanish', a.body), 'B'),
    body = a.body
FROM articles_article a WHERE a.id = s.article_id AND s.document IS NULL;
CREATE OR REPLACE FUNCTION articles_article_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO articles_articlesearch (article_id, document, body)
    VALUES (NEW.id, setweight(to_tsvector('spanish', NEW.title), 'A') || setweight(to_tsvector('spanish', NEW.body), 'B'), NEW.body)
    ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document;
    RETURN NULL;
END $$;
CREATE TRIGGER article_search AFTER INSERT OR UPDATE OF title ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_article_search();
"""

# The statement check of inserted spans (migration 0013's), now also for the keys; auth_user is the
# table of settings.AUTH_USER_MODEL, Django's own user.
SPANS_VALID = """
CREATE FUNCTION articles_refuse_missing(what text, id bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a span names % %, which does not exist', what, id
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'span_' || what || '_exists';
END $$;

CREATE OR REPLACE FUNCTION articles_spans_valid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[] := ARRAY(SELECT DISTINCT article_id FROM new_spans ORDER BY article_id);
    locked integer;
    bad record;
BEGIN
    PERFORM articles_refuse_repeatable_read();
    -- Joins, not "= ANY(touched)" filters: their cost stays linear for a statement of a million spans.
    SELECT count(*) INTO locked FROM (
        SELECT a.id FROM articles_article a JOIN unnest(touched) t(id) ON a.id = t.id ORDER BY a.id FOR NO KEY UPDATE OF a
    ) l;
    IF locked < cardinality(touched) THEN
        SELECT t.id INTO bad FROM unnest(touched) t(id)
        WHERE NOT EXISTS (SELECT FROM articles_article a WHERE a.id = t.id) LIMIT 1;
        PERFORM articles_refuse_missing('article', bad.id);
    END IF;
    SELECT n.id INTO bad FROM (SELECT DISTINCT label_id AS id FROM new_spans) n
    WHERE NOT EXISTS (SELECT FROM articles_label l WHERE l.id = n.id) LIMIT 1;
    IF FOUND THEN
        PERFORM articles_refuse_missing('label', bad.id);
    END IF;
    SELECT n.id INTO bad FROM (SELECT created_by_id AS id FROM new_spans UNION SELECT updated_by_id FROM new_spans) n
    WHERE n.id IS NOT NULL AND NOT EXISTS (SELECT FROM auth_user u WHERE u.id = n.id) LIMIT 1;
    IF FOUND THEN
        PERFORM articles_refuse_missing('user', bad.id);
    END IF;

    SELECT s.article_id, s.last, a.body_length INTO bad
    FROM (SELECT article_id, max("end") AS last FROM new_spans GROUP BY article_id) s
    JOIN articles_article a ON a.id = s.article_id
    WHERE s.last > a.body_length
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a span ends at % past the body of article % (% characters)', bad.last, bad.article_id, bad.body_length
            USING ERRCODE = 'check_violation', CONSTRAINT = 'span_inside_body';
    END IF;

    -- In order of start, spans are apart when each starts at or after the end of the one before:
    -- each touched article's spans, read in order from span_article_start.
    SELECT t.id AS article_id, s.* INTO bad
    FROM unnest(touched) t(id), LATERAL (
        SELECT start, "end", lag(start) OVER w AS prev_start, lag("end") OVER w AS prev_end
        FROM articles_span
        WHERE article_id = t.id
        WINDOW w AS (ORDER BY start)
    ) s
    WHERE s.prev_end > s.start
    LIMIT 1;
    IF FOUND THEN
        PERFORM articles_refuse_overlap(bad.article_id, bad.prev_start, bad.prev_end, bad.start, bad."end");
    END IF;
    RETURN NULL;
END $$;

-- An update checks the keys it changes; only a moved span is checked against its neighbours.
CREATE OR REPLACE FUNCTION articles_span_valid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    body_length integer;
    other record;
BEGIN
    IF NEW.label_id IS DISTINCT FROM OLD.label_id AND NOT EXISTS (SELECT FROM articles_label WHERE id = NEW.label_id) THEN
        PERFORM articles_refuse_missing('label', NEW.label_id);
    END IF;
    IF NEW.created_by_id IS DISTINCT FROM OLD.created_by_id AND NEW.created_by_id IS NOT NULL
       AND NOT EXISTS (SELECT FROM auth_user WHERE id = NEW.created_by_id) THEN
        PERFORM articles_refuse_missing('user', NEW.created_by_id);
    END IF;
    IF NEW.updated_by_id IS DISTINCT FROM OLD.updated_by_id AND NEW.updated_by_id IS NOT NULL
       AND NOT EXISTS (SELECT FROM auth_user WHERE id = NEW.updated_by_id) THEN
        PERFORM articles_refuse_missing('user', NEW.updated_by_id);
    END IF;
    IF (NEW.start, NEW."end", NEW.article_id) = (OLD.start, OLD."end", OLD.article_id) THEN
        RETURN NULL;
    END IF;
    PERFORM articles_refuse_repeatable_read();
    SELECT a.body_length INTO body_length FROM articles_article a WHERE a.id = NEW.article_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM articles_refuse_missing('article', NEW.article_id);
    END IF;
    IF NEW."end" > body_length THEN
        RAISE EXCEPTION 'a span ends at % past the body of article % (% characters)', NEW."end", NEW.article_id, body_length
            USING ERRCODE = 'check_violation', CONSTRAINT = 'span_inside_body';
    END IF;
    SELECT start, "end" INTO other FROM articles_span
    WHERE article_id = NEW.article_id AND (start, id) < (NEW.start, NEW.id) ORDER BY start DESC, id DESC LIMIT 1;
    IF other."end" > NEW.start THEN
        PERFORM articles_refuse_overlap(NEW.article_id, other.start, other."end", NEW.start, NEW."end");
    END IF;
    SELECT start, "end" INTO other FROM articles_span
    WHERE article_id = NEW.article_id AND (start, id) > (NEW.start, NEW.id) ORDER BY start, id LIMIT 1;
    IF other.start < NEW."end" THEN
        PERFORM articles_refuse_overlap(NEW.article_id, NEW.start, NEW."end", other.start, other."end");
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER span_valid_after_update ON articles_span;
CREATE TRIGGER span_valid_after_update
    AFTER UPDATE OF start, "end", article_id, label_id, created_by_id, updated_by_id ON articles_span
    FOR EACH ROW EXECUTE FUNCTION articles_span_valid();

-- What the foreign keys refused: deleting a row spans still name (the app deletes or empties them first).
CREATE FUNCTION articles_refuse_orphan_spans() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    IF TG_TABLE_NAME = 'articles_article' THEN
        SELECT o.id INTO bad FROM gone o WHERE EXISTS (SELECT FROM articles_span s WHERE s.article_id = o.id) LIMIT 1;
    ELSIF TG_TABLE_NAME = 'articles_label' THEN
        SELECT o.id INTO bad FROM gone o WHERE EXISTS (SELECT FROM articles_span s WHERE s.label_id = o.id) LIMIT 1;
    ELSE
        SELECT o.id INTO bad FROM gone o
        WHERE EXISTS (SELECT FROM articles_span s WHERE s.created_by_id = o.id)
           OR EXISTS (SELECT FROM articles_span s WHERE s.updated_by_id = o.id) LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'row % of % is still named by spans', bad.id, TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'span_' || TG_TABLE_NAME || '_kept';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER article_spans_kept AFTER DELETE ON articles_article
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION articles_refuse_orphan_spans();
CREATE TRIGGER label_spans_kept AFTER DELETE ON articles_label
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION articles_refuse_orphan_spans();
CREATE TRIGGER user_spans_kept AFTER DELETE ON auth_user
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION articles_refuse_orphan_spans();
"""

# Back to migration 0013's checks, from its own text.
PREVIOUS = import_module("articles.migrations.0013_spans_apart_checked_per_statement").SPANS_VALID


def _function(sql: str, name: str) -> str:
    start = sql.index(f"CREATE FUNCTION {name}()")
    end = sql.index("END $$;", start) + len("END $$;")
    return sql[start:end].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


SPANS_VALID_BEFORE = f"""
DROP TRIGGER user_spans_kept ON auth_user;
DROP TRIGGER label_spans_kept ON articles_label;
DROP TRIGGER article_spans_kept ON articles_article;
DROP FUNCTION articles_refuse_orphan_spans();
{_function(PREVIOUS, "articles_spans_valid")}
{_function(PREVIOUS, "articles_span_valid")}
DROP FUNCTION articles_refuse_missing(text, bigint);
DROP TRIGGER span_valid_after_update ON articles_span;
CREATE TRIGGER span_valid_after_update AFTER UPDATE OF start, "end", article_id ON articles_span
    FOR EACH ROW EXECUTE FUNCTION articles_span_valid();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0015_tasks_beside_their_code"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="span",
            name="article",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="spans",
                to="articles.article",
            ),
        ),
        migrations.AlterField(
            model_name="span",
            name="label",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="spans",
                to="articles.label",
            ),
        ),
        migrations.AlterField(
            model_name="span",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="span",
            name="updated_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunSQL(SPANS_VALID, SPANS_VALID_BEFORE),
        migrations.AlterField(
            model_name="article",
            name="content_hash",
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.AddConstraint(
            model_name="article",
            constraint=models.UniqueConstraint(fields=["content_hash"], name="article_content_hash_unique"),
        ),
        migrations.RunSQL(
            "ALTER TABLE articles_article ALTER COLUMN body SET STORAGE EXTERNAL",
            "ALTER TABLE articles_article ALTER COLUMN body SET STORAGE EXTENDED",
        ),
        migrations.RemoveIndex(model_name="articlesearch", name="articlesearch_document"),
        migrations.RemoveIndex(model_name="articlesearch", name="articlesearch_body_trgm"),
        migrations.AlterField(
            model_name="articlesearch",
            name="document",
            field=django.contrib.postgres.search.SearchVectorField(null=True),
        ),
        migrations.AlterField(
            model_name="articlesearch",
            name="body",
            field=models.TextField(editable=False, null=True),
        ),
        migrations.RunSQL(SEARCH_LATER, SEARCH_AT_ONCE),
        migrations.AddIndex(
            model_name="articlesearch",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=Q(document__isnull=False), fields=["document"], name="articlesearch_document"
            ),
        ),
        migrations.AddIndex(
            model_name="articlesearch",
            index=django.contrib.postgres.indexes.GinIndex(
                OpClass(F("body"), name="gin_trgm_ops"), condition=Q(body__isnull=False), name="articlesearch_body_trgm"
            ),
        ),
        migrations.AddIndex(
            model_name="articlesearch",
            index=models.Index(condition=Q(document__isnull=True), fields=["article"], name="articlesearch_pending"),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="reviewed",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="skipped_count",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
