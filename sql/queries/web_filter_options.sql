-- The values the review queue's filters offer: every brand, source and assignee a ticket has.
SELECT 'brand' AS field, t.brand AS value FROM tickets t GROUP BY ALL
UNION
SELECT 'source', m.source FROM tickets t JOIN mentions m ON m.id = t.mention_id GROUP BY ALL
UNION
SELECT 'assignee', t.assignee FROM tickets t WHERE t.assignee IS NOT NULL GROUP BY ALL
ORDER BY field, value;
