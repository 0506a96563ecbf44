-- A ticket reopened ($id): what its author said after the resolution is part of the open
-- ticket again ('author'), no longer a rescue follow-up. Resolved again, the rescue loop
-- weighs only what comes after the new resolution (desk_link_rescue_ticket turns the later
-- ones back into 'rescue'; desk_update_rescue skips the earlier). A follow-up that opened a
-- ticket of its own stays 'rescue': as an 'author' mention it would draw that ticket's
-- thread into this one.
UPDATE ticket_mentions SET relation = 'author'
WHERE ticket_id = $id AND relation = 'rescue'
  AND NOT EXISTS (SELECT 1 FROM tickets o JOIN tickets t ON t.id = $id
                  WHERE o.mention_id = ticket_mentions.mention_id AND o.brand = t.brand);
