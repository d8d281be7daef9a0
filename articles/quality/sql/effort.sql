-- Changes and time per editor and per article, and the progress of review. The caller fills in the
-- user table and its username column.
WITH ev AS (
    SELECT e.article_id, e.actor_id, e.kind, e.at,
           e.at - lag(e.at) OVER (PARTITION BY e.article_id, e.actor_id ORDER BY e.at, e.id) AS gap
    FROM articles_spanevent e WHERE e.actor_id IS NOT NULL
),
per_article AS (
    SELECT article_id, actor_id, count(*) AS changes,
           count(*) FILTER (WHERE kind = %(created)s) AS created,
           count(*) FILTER (WHERE kind = %(relabelled)s) AS relabelled,
           count(*) FILTER (WHERE kind = %(resized)s) AS resized,
           count(*) FILTER (WHERE kind = %(deleted)s) AS deleted,
           count(*) FILTER (WHERE kind = %(accepted)s) AS accepted,
           count(*) FILTER (WHERE kind = %(restored)s) AS restored,
           round(extract(epoch FROM
               coalesce(sum(least(gap, %(cap)s)) FILTER (WHERE gap IS NOT NULL), interval '0')))::int AS seconds
    FROM ev GROUP BY article_id, actor_id
),
editors AS (
    SELECT u.{username} AS editor, count(*) AS articles, sum(changes)::int AS changes, sum(created)::int AS created,
           sum(relabelled)::int AS relabelled, sum(resized)::int AS resized, sum(deleted)::int AS deleted,
           sum(accepted)::int AS accepted, sum(restored)::int AS restored, sum(seconds)::int AS seconds,
           (SELECT count(*) FROM articles_article r WHERE r.reviewed_by_id = u.id AND r.status = %(reviewed)s) AS reviewed
    FROM per_article p JOIN {users} u ON u.id = p.actor_id GROUP BY u.id, u.{username}
),
heaviest AS (
    SELECT p.*, u.{username} AS editor, a.title, a.status
    FROM per_article p JOIN {users} u ON u.id = p.actor_id JOIN articles_article a ON a.id = p.article_id
    ORDER BY p.seconds DESC, p.changes DESC, p.article_id LIMIT %(top)s
)
SELECT json_build_object(
    'editors', (SELECT coalesce(json_agg(editors ORDER BY editor), '[]') FROM editors),
    'articles', (SELECT coalesce(json_agg(heaviest ORDER BY seconds DESC, changes DESC, article_id), '[]')
                 FROM heaviest),
    'status', (SELECT coalesce(json_object_agg(status, n), '{{}}')
               FROM (SELECT status, count(*) AS n FROM articles_article GROUP BY status) s),
    'per_day', (SELECT coalesce(json_agg(d ORDER BY day), '[]')
                FROM (SELECT reviewed_at::date AS day, count(*) AS reviewed FROM articles_article
                      WHERE status = %(reviewed)s GROUP BY 1) d)
)
