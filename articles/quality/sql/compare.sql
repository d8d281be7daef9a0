-- The model's proposals against a yardstick, per label, per model version and day, and the most
-- frequent corrections. The caller fills in which articles are compared (scope), the model's label
-- or '' to compare edges only (pred_label), and the yardstick's rows (gold: id, article_id, lo, hi,
-- label). The model's proposal of an article: the "created" events without an actor of its latest
-- pre-annotation run.
WITH runs AS (
    SELECT DISTINCT ON (e.article_id) e.article_id, e.article_version AS version, e.model, a.reviewed_at
    FROM articles_spanevent e JOIN articles_article a ON a.id = e.article_id
    WHERE ({scope}) AND e.kind = %(created)s AND e.actor_id IS NULL AND e.origin = %(model)s
    ORDER BY e.article_id, e.article_version DESC
),
pred AS (
    SELECT e.id, e.article_id, e.after_start AS lo, e.after_end AS hi, {pred_label} AS label, r.model, r.reviewed_at
    FROM articles_spanevent e JOIN runs r ON r.article_id = e.article_id AND r.version = e.article_version
    WHERE e.kind = %(created)s AND e.actor_id IS NULL AND e.origin = %(model)s
),
gold AS (
    SELECT g.id, g.article_id, g.lo, g.hi, g.label, r.model, r.reviewed_at
    FROM ({gold}) g JOIN runs r ON r.article_id = g.article_id
),
pairs AS (
    SELECT p.id AS pid, g.id AS gid, p.article_id, p.lo AS plo, p.hi AS phi, p.label AS plabel,
           g.lo AS glo, g.hi AS ghi, g.label AS glabel
    FROM pred p JOIN gold g ON g.article_id = p.article_id AND g.lo < p.hi AND p.lo < g.hi
),
pred_hits AS (
    SELECT pid AS id, bool_or(plo = glo AND phi = ghi AND plabel = glabel) AS exact, bool_or(plabel = glabel) AS overlap
    FROM pairs GROUP BY pid
),
gold_hits AS (
    SELECT gid AS id, bool_or(plo = glo AND phi = ghi AND plabel = glabel) AS exact, bool_or(plabel = glabel) AS overlap
    FROM pairs GROUP BY gid
),
flags AS (
    SELECT 'pred' AS side, p.id, p.article_id, p.lo, p.hi, p.label, p.model, p.reviewed_at,
           coalesce(h.exact, false) AS exact, coalesce(h.overlap, false) AS overlap, h.id IS NOT NULL AS touches
    FROM pred p LEFT JOIN pred_hits h ON h.id = p.id
    UNION ALL
    SELECT 'gold', g.id, g.article_id, g.lo, g.hi, g.label, g.model, g.reviewed_at,
           coalesce(h.exact, false), coalesce(h.overlap, false), h.id IS NOT NULL
    FROM gold g LEFT JOIN gold_hits h ON h.id = g.id
),
counts AS (
    SELECT side, label, model, reviewed_at::date AS day,
           GROUPING(label) AS no_label, GROUPING(model) AS no_model,
           count(*) AS n, count(*) FILTER (WHERE exact) AS exact, count(*) FILTER (WHERE overlap) AS overlap
    FROM flags
    GROUP BY side, GROUPING SETS ((), (label), (model, reviewed_at::date))
),
corrections AS (
    SELECT 'missed' AS kind, f.article_id, substr(a.body, f.lo + 1, f.hi - f.lo) AS text, f.label,
           NULL AS model_text, NULL AS model_label
    FROM flags f JOIN articles_article a ON a.id = f.article_id WHERE f.side = 'gold' AND NOT f.touches
    UNION ALL
    SELECT 'spurious', f.article_id, NULL, NULL, substr(a.body, f.lo + 1, f.hi - f.lo), f.label
    FROM flags f JOIN articles_article a ON a.id = f.article_id WHERE f.side = 'pred' AND NOT f.touches
    UNION ALL
    SELECT CASE WHEN x.plabel <> x.glabel THEN 'wrong_label' ELSE 'wrong_boundary' END, x.article_id,
           substr(a.body, x.glo + 1, x.ghi - x.glo), x.glabel, substr(a.body, x.plo + 1, x.phi - x.plo), x.plabel
    FROM pairs x JOIN articles_article a ON a.id = x.article_id
    WHERE x.plabel <> x.glabel OR x.plo <> x.glo OR x.phi <> x.ghi
),
ranked AS (
    SELECT kind, text, label, model_text, model_label, count(*) AS n,
           (array_agg(DISTINCT article_id ORDER BY article_id))[1:{examples}] AS articles,
           sum(count(*)) OVER (PARTITION BY kind) AS total,
           row_number() OVER (PARTITION BY kind ORDER BY count(*) DESC, text, model_text) AS rank
    FROM corrections GROUP BY kind, text, label, model_text, model_label
)
SELECT json_build_object(
    'articles', (SELECT count(*) FROM runs),
    'counts', (SELECT coalesce(json_agg(counts), '[]') FROM counts),
    'corrections', (SELECT coalesce(json_agg(ranked ORDER BY kind, rank), '[]') FROM ranked WHERE rank <= {top})
)
