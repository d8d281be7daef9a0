"""Spans of an article stay apart by a check per inserting statement (and per moved span on
updates) instead of an exclusion constraint.

The GiST index behind the constraint cost more than a third of the time PostgreSQL spent storing
a batch of the model's spans (about 9 µs a span). One trigger per statement now checks what an
insert wrote, ends inside the body and no overlap, with the article's spans read in order from a
btree index; an update checks each span it moved against its two neighbours. Writers of one
article's spans take turns on the article's row, so that a concurrent writer's spans are seen once
it commits.
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

# The previous migration's check of inserted spans, from its own text.
PREVIOUS_INSERT_CHECK = import_module("articles.migrations.0011_search_body_and_set_checks").SPANS_INSIDE_BODY

SPANS_VALID = """
-- Writers of an article's spans take turns on its row: each statement after the lock then sees what
-- earlier writers committed (READ COMMITTED, Django's default); SERIALIZABLE detects the conflict
-- itself; REPEATABLE READ would see neither and is refused.
CREATE FUNCTION articles_refuse_repeatable_read() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION 'spans cannot be written under REPEATABLE READ: use READ COMMITTED or SERIALIZABLE'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END $$;

CREATE FUNCTION articles_refuse_overlap(article bigint, first_start int, first_end int, second_start int, second_end int)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'spans %-% and %-% of article % overlap (span_no_overlap)',
        first_start, first_end, second_start, second_end, article
        USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'span_no_overlap';
END $$;

CREATE FUNCTION articles_spans_valid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[] := ARRAY(SELECT DISTINCT article_id FROM new_spans ORDER BY article_id);
    bad record;
BEGIN
    PERFORM articles_refuse_repeatable_read();
    -- Joins, not "= ANY(touched)" filters: their cost stays linear for a statement of a million spans.
    PERFORM FROM articles_article a JOIN unnest(touched) t(id) ON a.id = t.id ORDER BY a.id FOR NO KEY UPDATE OF a;

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
DROP TRIGGER spans_inside_body ON articles_span;
DROP FUNCTION articles_spans_inside_body();
DROP TRIGGER span_inside_body ON articles_span;
DROP FUNCTION articles_span_inside_body();
CREATE TRIGGER spans_valid_after_insert AFTER INSERT ON articles_span
    REFERENCING NEW TABLE AS new_spans FOR EACH STATEMENT EXECUTE FUNCTION articles_spans_valid();

-- An update moves a span or a few (an editor's resize): each moved span is checked against its
-- neighbours in start order, two index lookups, and a relabel or an acceptance costs nothing.
-- Spans that were apart overlap after an update only where a moved span meets a neighbour.
CREATE FUNCTION articles_span_valid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    body_length integer;
    other record;
BEGIN
    PERFORM articles_refuse_repeatable_read();
    SELECT a.body_length INTO body_length FROM articles_article a WHERE a.id = NEW.article_id FOR NO KEY UPDATE;
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
CREATE TRIGGER span_valid_after_update AFTER UPDATE OF start, "end", article_id ON articles_span
    FOR EACH ROW EXECUTE FUNCTION articles_span_valid();
"""

# Back to the checks of the previous migration: a row trigger on updates, a statement trigger on inserts.
SPANS_VALID_BEFORE = """
DROP TRIGGER spans_valid_after_insert ON articles_span;
DROP TRIGGER span_valid_after_update ON articles_span;
DROP FUNCTION articles_span_valid();
DROP FUNCTION articles_spans_valid();
DROP FUNCTION articles_refuse_overlap(bigint, int, int, int, int);
DROP FUNCTION articles_refuse_repeatable_read();
CREATE FUNCTION articles_span_inside_body() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW."end" > (SELECT body_length FROM articles_article WHERE id = NEW.article_id) THEN
        RAISE EXCEPTION 'span %-% ends past the body of article %', NEW.start, NEW."end", NEW.article_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'span_inside_body';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER span_inside_body BEFORE INSERT OR UPDATE OF "end", article_id ON articles_span
    FOR EACH ROW EXECUTE FUNCTION articles_span_inside_body();
"""


class Migration(migrations.Migration):
    dependencies = [("articles", "0012_fewer_index_entries_per_span")]

    operations = [
        migrations.AddIndex(
            model_name="span",
            index=models.Index(fields=["article", "start"], name="span_article_start"),
        ),
        migrations.AlterField(
            model_name="span",
            name="article",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="spans",
                to="articles.article",
            ),
        ),
        migrations.RunSQL(migrations.RunSQL.noop, PREVIOUS_INSERT_CHECK),
        migrations.RunSQL(SPANS_VALID, SPANS_VALID_BEFORE),
        migrations.RemoveConstraint(model_name="span", name="span_no_overlap"),
    ]
