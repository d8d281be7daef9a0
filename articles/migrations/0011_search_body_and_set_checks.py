"""Two costs that every write of pre-annotation paid once per row, made once per article or statement.

- The trigram index over bodies moves from the article's table to the search table, with a copy of
  the body: the article's row is written again by every span change and every pre-annotated batch,
  and each of those writes indexed the whole body again.
- "A span ends inside its article's body" is checked once per inserted statement, over all its rows
  (a batch of the model's spans is one COPY), instead of once per row. Updates keep the row check.
"""

import django.contrib.postgres.indexes
from django.db import migrations, models
from django.db.models import F
from django.contrib.postgres.indexes import OpClass

SEARCH_WITH_BODY = """
CREATE OR REPLACE FUNCTION articles_article_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO articles_articlesearch (article_id, document, body)
    VALUES (NEW.id, setweight(to_tsvector('spanish', NEW.title), 'A') || setweight(to_tsvector('spanish', NEW.body), 'B'), NEW.body)
    ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document;
    RETURN NULL;
END $$;
UPDATE articles_articlesearch s SET body = a.body FROM articles_article a WHERE a.id = s.article_id;
"""

SEARCH_WITHOUT_BODY = """
CREATE OR REPLACE FUNCTION articles_article_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO articles_articlesearch (article_id, document)
    VALUES (NEW.id, setweight(to_tsvector('spanish', NEW.title), 'A') || setweight(to_tsvector('spanish', NEW.body), 'B'))
    ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document;
    RETURN NULL;
END $$;
"""

# Per statement: the longest span of each article the statement touched, against its body's length
# (one index lookup per article, whatever the number of spans).
SPANS_INSIDE_BODY = """
CREATE FUNCTION articles_spans_inside_body() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    past record;
BEGIN
    SELECT s.article_id, s.last, a.body_length INTO past
    FROM (SELECT article_id, max("end") AS last FROM new_spans GROUP BY article_id) s
    JOIN LATERAL (SELECT body_length FROM articles_article WHERE id = s.article_id) a ON true
    WHERE s.last > a.body_length
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a span ends at % past the body of article % (% characters)', past.last, past.article_id, past.body_length
            USING ERRCODE = 'check_violation', CONSTRAINT = 'span_inside_body';
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER span_inside_body ON articles_span;
CREATE TRIGGER span_inside_body BEFORE UPDATE OF "end", article_id ON articles_span
    FOR EACH ROW EXECUTE FUNCTION articles_span_inside_body();
CREATE TRIGGER spans_inside_body AFTER INSERT ON articles_span
    REFERENCING NEW TABLE AS new_spans FOR EACH STATEMENT EXECUTE FUNCTION articles_spans_inside_body();
"""

SPAN_INSIDE_BODY_PER_ROW = """
DROP TRIGGER spans_inside_body ON articles_span;
DROP FUNCTION articles_spans_inside_body();
DROP TRIGGER span_inside_body ON articles_span;
CREATE TRIGGER span_inside_body BEFORE INSERT OR UPDATE OF "end", article_id ON articles_span
    FOR EACH ROW EXECUTE FUNCTION articles_span_inside_body();
"""


class Migration(migrations.Migration):
    dependencies = [("articles", "0010_preannotation")]

    operations = [
        migrations.RemoveIndex(model_name="article", name="article_body_trgm"),
        migrations.AddField(
            model_name="articlesearch",
            name="body",
            field=models.TextField(default="", editable=False),
            preserve_default=False,
        ),
        migrations.RunSQL(SEARCH_WITH_BODY, SEARCH_WITHOUT_BODY),
        migrations.AddIndex(
            model_name="articlesearch",
            index=django.contrib.postgres.indexes.GinIndex(
                OpClass(F("body"), name="gin_trgm_ops"), name="articlesearch_body_trgm"
            ),
        ),
        migrations.RunSQL(SPANS_INSIDE_BODY, SPAN_INSIDE_BODY_PER_ROW),
    ]
