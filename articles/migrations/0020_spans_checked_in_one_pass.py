"""The statement check of inserted spans reads the statement's rows once, not four times.

Migration 0016's check scanned the new rows for their articles, again for unknown labels, again
(twice) for unknown users and again for each article's last end: about 0.45 s of PostgreSQL's CPU
for an import of 400,000 spans. One grouped pass now finds all of them, and the articles' lock
reads their lengths. The overlap check reads each article's spans with a ROWS frame. What is
refused, and with which message, is unchanged.
"""

from importlib import import_module

from django.conf import settings
from django.db import migrations

SPANS_VALID = """
CREATE OR REPLACE FUNCTION articles_spans_valid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
    lasts integer[];
    bad_label bigint;
    bad_user integer;
    locked integer;
    too_long bigint;
    bad record;
BEGIN
    PERFORM articles_refuse_repeatable_read();
    -- One pass over the new rows: their articles with the last end in each, and any label or user
    -- that does not exist (hash joins against the small tables: cost linear in the rows).
    SELECT array_agg(s.article_id ORDER BY s.article_id), array_agg(s.last ORDER BY s.article_id),
           min(s.bad_label), min(s.bad_user)
    INTO touched, lasts, bad_label, bad_user
    FROM (
        SELECT n.article_id, max(n."end") AS last,
               min(n.label_id) FILTER (WHERE l.id IS NULL) AS bad_label,
               least(min(n.created_by_id) FILTER (WHERE n.created_by_id IS NOT NULL AND c.id IS NULL),
                     min(n.updated_by_id) FILTER (WHERE n.updated_by_id IS NOT NULL AND u.id IS NULL)) AS bad_user
        FROM new_spans n
        LEFT JOIN articles_label l ON l.id = n.label_id
        LEFT JOIN auth_user c ON c.id = n.created_by_id
        LEFT JOIN auth_user u ON u.id = n.updated_by_id
        GROUP BY n.article_id
    ) s;
    IF touched IS NULL THEN
        RETURN NULL;
    END IF;

    -- Joins, not "= ANY(touched)" filters: their cost stays linear for a statement of a million spans.
    SELECT count(*), min(l.id) FILTER (WHERE l.last > l.body_length) INTO locked, too_long FROM (
        SELECT a.id, a.body_length, t.last
        FROM articles_article a JOIN unnest(touched, lasts) t(id, last) ON a.id = t.id
        ORDER BY a.id FOR NO KEY UPDATE OF a
    ) l;
    IF locked < cardinality(touched) THEN
        SELECT t.id INTO bad FROM unnest(touched) t(id)
        WHERE NOT EXISTS (SELECT FROM articles_article a WHERE a.id = t.id) LIMIT 1;
        PERFORM articles_refuse_missing('article', bad.id);
    END IF;
    IF bad_label IS NOT NULL THEN
        PERFORM articles_refuse_missing('label', bad_label);
    END IF;
    IF bad_user IS NOT NULL THEN
        PERFORM articles_refuse_missing('user', bad_user);
    END IF;
    IF too_long IS NOT NULL THEN
        SELECT max(n."end") AS last, a.body_length INTO bad
        FROM new_spans n JOIN articles_article a ON a.id = n.article_id
        WHERE n.article_id = too_long GROUP BY a.body_length;
        RAISE EXCEPTION 'a span ends at % past the body of article % (% characters)',
            bad.last, too_long, bad.body_length
            USING ERRCODE = 'check_violation', CONSTRAINT = 'span_inside_body';
    END IF;

    -- In order of start, spans are apart when each starts at or after the end of the one before:
    -- each touched article's spans, read in order from span_article_start. lag() reads no frame;
    -- a ROWS frame spares PostgreSQL looking for each row's peers (a tenth of the check's time).
    SELECT t.id AS article_id, s.* INTO bad
    FROM unnest(touched) t(id), LATERAL (
        SELECT start, "end", lag(start) OVER w AS prev_start, lag("end") OVER w AS prev_end
        FROM articles_span
        WHERE article_id = t.id
        WINDOW w AS (ORDER BY start ROWS UNBOUNDED PRECEDING)
    ) s
    WHERE s.prev_end > s.start
    LIMIT 1;
    IF FOUND THEN
        PERFORM articles_refuse_overlap(bad.article_id, bad.prev_start, bad.prev_end, bad.start, bad."end");
    END IF;
    RETURN NULL;
END $$;
"""

# Back to migration 0016's check, from its own text.
_before = import_module("articles.migrations.0016_imports_at_copy_speed").SPANS_VALID
_start = _before.index("CREATE OR REPLACE FUNCTION articles_spans_valid()")
SPANS_VALID_BEFORE = _before[_start : _before.index("END $$;", _start) + len("END $$;")]


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0019_training_runs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunSQL(SPANS_VALID, SPANS_VALID_BEFORE)]
