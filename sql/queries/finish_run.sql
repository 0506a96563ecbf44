UPDATE runs SET finished_at = $now, status = $status WHERE id = $id;
