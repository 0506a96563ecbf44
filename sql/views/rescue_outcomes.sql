-- The rescue loop: of the complaints resolved (kinds other than 'thank'), how many customers
-- spoke again within the rescue window (followed_up), how many of them were rescued (a later
-- mention no complaint and positive), and how long recovery took (from the complaint's
-- publication to the first rescuing mention), by root cause, by template and by assignee
-- (dimension = 'root_cause' | 'template' | 'assignee' | 'all'; value NULL = none recorded).
-- rescue_rate = rescued / followed_up.
CREATE OR REPLACE VIEW rescue_outcomes AS
WITH resolved AS (
    SELECT t.id, t.brand, t.root_cause, t.template_id, t.assignee, t.rescued,
           (epoch(t.recovered_at) - epoch(m.published_at)) / 3600 AS hours_to_recovery
    FROM tickets t JOIN mentions m ON m.id = t.mention_id
    WHERE t.status = 'resolved' AND t.kind <> 'thank'
)
SELECT CASE WHEN grouping(root_cause) = 0 THEN 'root_cause'
            WHEN grouping(template_id) = 0 THEN 'template'
            WHEN grouping(assignee) = 0 THEN 'assignee' ELSE 'all' END AS dimension,
       coalesce(root_cause, template_id, assignee) AS value,
       count(*) AS resolved,
       count(rescued) AS followed_up,
       count(*) FILTER (WHERE rescued) AS rescued,
       round(count(*) FILTER (WHERE rescued) / nullif(count(rescued), 0), 3) AS rescue_rate,
       round(median(hours_to_recovery), 1) AS median_hours_to_recovery,
       round(avg(hours_to_recovery), 1) AS mean_hours_to_recovery
FROM resolved
GROUP BY GROUPING SETS ((root_cause), (template_id), (assignee), ())
ORDER BY dimension, value NULLS LAST;
