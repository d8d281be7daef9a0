"""Rules that a CHECK constraint cannot state, enforced by PostgreSQL triggers.

- A span ends inside its article's body (the body lives in another table).
- The span history is append-only: rows are inserted, never updated.
Both raise SQLSTATE 23514 (check_violation), which Django reports as IntegrityError.
"""

from django.db import migrations

SPAN_INSIDE_BODY = """
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

CREATE FUNCTION articles_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'check_violation', CONSTRAINT = 'history_append_only';
END $$;
CREATE TRIGGER spanevent_append_only BEFORE UPDATE ON articles_spanevent
    FOR EACH ROW EXECUTE FUNCTION articles_refuse_update();

-- A body never changes after import.
CREATE FUNCTION articles_body_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.body IS DISTINCT FROM OLD.body THEN
        RAISE EXCEPTION 'the body of article % never changes after import', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'article_body_immutable';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER article_body_immutable BEFORE UPDATE OF body ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_body_immutable();
"""

DROP = """
DROP TRIGGER article_body_immutable ON articles_article;
DROP FUNCTION articles_body_immutable();
DROP TRIGGER spanevent_append_only ON articles_spanevent;
DROP FUNCTION articles_refuse_update();
DROP TRIGGER span_inside_body ON articles_span;
DROP FUNCTION articles_span_inside_body();
"""


class Migration(migrations.Migration):
    dependencies = [("articles", "0001_initial")]

    operations = [migrations.RunSQL(SPAN_INSIDE_BODY, DROP)]
