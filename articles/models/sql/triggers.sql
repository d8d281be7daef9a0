-- The integrity rules and the bookkeeping PostgreSQL itself keeps, as they are live now: what a CHECK
-- or a foreign key cannot state, enforced by triggers whatever writes the rows (the app's verbs,
-- imports by COPY, the admin, raw SQL). Refusals raise the SQLSTATE Django maps to IntegrityError.
--
-- Installed by the migrations through articles/models/triggers.py. Every statement is CREATE OR
-- REPLACE: a migration that changes a rule edits it here and installs the file again. The file goes
-- through the driver's parameter substitution: values the code defines (the text search
-- configuration) are named parameters, never spelled here, and a literal per cent sign is doubled.

-- Spans -----------------------------------------------------------------------------------------

-- Writers of an article's spans take turns on its row: each statement after the lock then sees what
-- earlier writers committed (READ COMMITTED, Django's default); SERIALIZABLE detects the conflict
-- itself; REPEATABLE READ would see neither and is refused.
CREATE OR REPLACE FUNCTION articles_refuse_repeatable_read() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION 'spans cannot be written under REPEATABLE READ: use READ COMMITTED or SERIALIZABLE'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION articles_refuse_overlap(article bigint, first_start int, first_end int, second_start int, second_end int)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'spans %%-%% and %%-%% of article %% overlap (span_no_overlap)',
        first_start, first_end, second_start, second_end, article
        USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'span_no_overlap';
END $$;

CREATE OR REPLACE FUNCTION articles_refuse_missing(what text, id bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a span names %% %%, which does not exist', what, id
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'span_' || what || '_exists';
END $$;

-- Per inserting statement: the statement's articles, labels and users exist, no span ends past its
-- article's body, and no two spans of a touched article overlap (a COPY of a million spans is
-- checked in a few set-based passes, not row by row).
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
        RAISE EXCEPTION 'a span ends at %% past the body of article %% (%% characters)',
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
CREATE OR REPLACE TRIGGER spans_valid_after_insert AFTER INSERT ON articles_span
    REFERENCING NEW TABLE AS new_spans FOR EACH STATEMENT EXECUTE FUNCTION articles_spans_valid();

-- An update checks the keys it changes; only a moved span (an editor's resize) is checked, against
-- its two neighbours in start order, and a relabel or an acceptance costs nothing.
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
        RAISE EXCEPTION 'a span ends at %% past the body of article %% (%% characters)', NEW."end", NEW.article_id, body_length
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
CREATE OR REPLACE TRIGGER span_valid_after_update
    AFTER UPDATE OF start, "end", article_id, label_id, created_by_id, updated_by_id ON articles_span
    FOR EACH ROW EXECUTE FUNCTION articles_span_valid();

-- What the foreign keys refused: deleting a row spans still name (the app deletes or empties them first).
-- auth_user is the table of settings.AUTH_USER_MODEL, Django's own user.
CREATE OR REPLACE FUNCTION articles_refuse_orphan_spans() RETURNS trigger LANGUAGE plpgsql AS $$
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
        RAISE EXCEPTION 'row %% of %% is still named by spans', bad.id, TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'span_' || TG_TABLE_NAME || '_kept';
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER article_spans_kept AFTER DELETE ON articles_article
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION articles_refuse_orphan_spans();
CREATE OR REPLACE TRIGGER label_spans_kept AFTER DELETE ON articles_label
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION articles_refuse_orphan_spans();
CREATE OR REPLACE TRIGGER user_spans_kept AFTER DELETE ON auth_user
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION articles_refuse_orphan_spans();

-- Editors' versions (team review) --------------------------------------------------------------

-- A version's spans follow an article's rules, checked per version: inside the article's body and
-- apart from one another, by one trigger per inserting statement and one per moved span. Writers of
-- a version take turns on its row; the two versions of one article are written at once without
-- waiting for each other.
CREATE OR REPLACE FUNCTION articles_versionspans_valid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[] := ARRAY(SELECT DISTINCT annotation_id FROM new_spans ORDER BY annotation_id);
    bad record;
BEGIN
    PERFORM articles_refuse_repeatable_read();
    PERFORM FROM articles_annotation v JOIN unnest(touched) t(id) ON v.id = t.id ORDER BY v.id FOR NO KEY UPDATE OF v;

    SELECT s.annotation_id, s.article_id, s.last, a.body_length, v.article_id AS own INTO bad
    FROM (SELECT annotation_id, article_id, max("end") AS last FROM new_spans GROUP BY annotation_id, article_id) s
    JOIN articles_annotation v ON v.id = s.annotation_id
    JOIN articles_article a ON a.id = s.article_id
    WHERE s.last > a.body_length OR v.article_id <> s.article_id
    LIMIT 1;
    IF FOUND AND bad.own <> bad.article_id THEN
        RAISE EXCEPTION 'a span of version %% is given article %%, not its own article %%', bad.annotation_id,
            bad.article_id, bad.own USING ERRCODE = 'check_violation', CONSTRAINT = 'versionspan_own_article';
    ELSIF FOUND THEN
        RAISE EXCEPTION 'a span ends at %% past the body of article %% (%% characters)', bad.last, bad.article_id,
            bad.body_length USING ERRCODE = 'check_violation', CONSTRAINT = 'span_inside_body';
    END IF;

    SELECT t.id AS annotation_id, s.* INTO bad
    FROM unnest(touched) t(id), LATERAL (
        SELECT article_id, start, "end", lag(start) OVER w AS prev_start, lag("end") OVER w AS prev_end
        FROM articles_versionspan
        WHERE annotation_id = t.id
        WINDOW w AS (ORDER BY start)
    ) s
    WHERE s.prev_end > s.start
    LIMIT 1;
    IF FOUND THEN
        PERFORM articles_refuse_overlap(bad.article_id, bad.prev_start, bad.prev_end, bad.start, bad."end");
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER versionspans_valid_after_insert AFTER INSERT ON articles_versionspan
    REFERENCING NEW TABLE AS new_spans FOR EACH STATEMENT EXECUTE FUNCTION articles_versionspans_valid();

CREATE OR REPLACE FUNCTION articles_versionspan_valid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    body_length integer;
    other record;
BEGIN
    PERFORM articles_refuse_repeatable_read();
    PERFORM FROM articles_annotation v WHERE v.id = NEW.annotation_id FOR NO KEY UPDATE;
    SELECT a.body_length INTO body_length FROM articles_article a WHERE a.id = NEW.article_id;
    IF NEW."end" > body_length THEN
        RAISE EXCEPTION 'a span ends at %% past the body of article %% (%% characters)', NEW."end", NEW.article_id, body_length
            USING ERRCODE = 'check_violation', CONSTRAINT = 'span_inside_body';
    END IF;
    SELECT start, "end" INTO other FROM articles_versionspan
    WHERE annotation_id = NEW.annotation_id AND (start, id) < (NEW.start, NEW.id) ORDER BY start DESC, id DESC LIMIT 1;
    IF other."end" > NEW.start THEN
        PERFORM articles_refuse_overlap(NEW.article_id, other.start, other."end", NEW.start, NEW."end");
    END IF;
    SELECT start, "end" INTO other FROM articles_versionspan
    WHERE annotation_id = NEW.annotation_id AND (start, id) > (NEW.start, NEW.id) ORDER BY start, id LIMIT 1;
    IF other.start < NEW."end" THEN
        PERFORM articles_refuse_overlap(NEW.article_id, NEW.start, NEW."end", other.start, other."end");
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER versionspan_valid_after_update AFTER UPDATE OF start, "end", article_id, annotation_id
    ON articles_versionspan FOR EACH ROW EXECUTE FUNCTION articles_versionspan_valid();

-- History and bodies ----------------------------------------------------------------------------

-- The span history is append-only: rows are inserted, never updated.
CREATE OR REPLACE FUNCTION articles_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'check_violation', CONSTRAINT = 'history_append_only';
END $$;
CREATE OR REPLACE TRIGGER spanevent_append_only BEFORE UPDATE ON articles_spanevent
    FOR EACH ROW EXECUTE FUNCTION articles_refuse_update();

-- A body never changes after import.
CREATE OR REPLACE FUNCTION articles_body_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.body IS DISTINCT FROM OLD.body THEN
        RAISE EXCEPTION 'the body of article %% never changes after import', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'article_body_immutable';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER article_body_immutable BEFORE UPDATE OF body ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_body_immutable();

-- Search ----------------------------------------------------------------------------------------

-- Every new article gets a pending search row (document and body copy empty), which a worker builds
-- after the import (ArticleSearch.objects.build, with the same text search configuration).
CREATE OR REPLACE FUNCTION articles_search_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO articles_articlesearch (article_id) SELECT id FROM new_articles;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER articles_search_pending AFTER INSERT ON articles_article
    REFERENCING NEW TABLE AS new_articles FOR EACH STATEMENT EXECUTE FUNCTION articles_search_pending();

-- A changed title updates a built document; a pending one is built later anyway.
CREATE OR REPLACE FUNCTION articles_article_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE articles_articlesearch
    SET document = setweight(to_tsvector(%(search_config)s, NEW.title), 'A') || setweight(to_tsvector(%(search_config)s, NEW.body), 'B')
    WHERE article_id = NEW.id AND document IS NOT NULL;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER article_search_title AFTER UPDATE OF title ON articles_article
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION articles_article_search();
