-- One ticket with its mention, that mention's scores and the deadline that applies at $now.
SELECT t.*,
       ticket_active_due(t.status, t.first_response_at, t.due_at, t.resolution_due_at)
           AS active_due_at,
       sla_state(ticket_active_due(t.status, t.first_response_at, t.due_at,
                                   t.resolution_due_at), t.opened_at, $now, $share)
           AS sla_state,
       m.source, m.source_name, m.external_id, m.url, m.title, m.text, m.author_id,
       m.author_handle, m.author_name, m.author_url, m.author_followers, m.published_at,
       m.lang, m.likes, m.reposts, m.replies, m.views, m.thread_id, m.parent_id,
       s.compound, s.label, s.complaint, s.complaint_reasons, s.rating, s.review_flag,
       s.reach_low, s.reach_expected, s.reach_high, s.reach_method, s.reach_projected,
       s.reach_per_hour
FROM tickets t
JOIN mentions m ON m.id = t.mention_id
LEFT JOIN mention_scores s ON s.mention_id = t.mention_id
WHERE t.id = $id;
