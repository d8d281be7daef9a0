-- Spans and a "created" history row for each, in one statement whatever their number: the rows
-- come as one array per column (unnest), the spans' RETURNING feeds the history.
WITH new AS (
    INSERT INTO articles_span (article_id, start, "end", label_id, origin, model_name, model_version,
                               created_by_id, created_at, updated_at)
    SELECT article_id, start, "end", label_id, %(origin)s, %(name)s, %(version)s, %(created_by)s::bigint,
           %(now)s, %(now)s
    FROM unnest(%(articles)s::bigint[], %(starts)s::integer[], %(ends)s::integer[], %(labels)s::bigint[])
        AS s(article_id, start, "end", label_id)
    RETURNING id, article_id, start, "end", label_id
)
INSERT INTO articles_spanevent (article_id, span_id, kind, origin, at, article_version, before_label,
                                after_start, after_end, after_label, model)
SELECT new.article_id, new.id, %(kind)s, %(origin)s, %(now)s, v.version, '', new.start, new."end", l.name, %(model)s
FROM new
JOIN articles_label l ON l.id = new.label_id
JOIN unnest(%(version_of)s::bigint[], %(versions)s::integer[]) AS v(article_id, version) USING (article_id)
