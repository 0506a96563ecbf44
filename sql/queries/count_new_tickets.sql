SELECT count(DISTINCT b.id) FROM batch_tickets b ANTI JOIN tickets t ON t.id = b.id;
