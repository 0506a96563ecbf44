-- Write a ticket's lifecycle state after an action (desk/lifecycle.py computes it).
UPDATE tickets SET
    status = $status,
    assignee = $assignee,
    acknowledged_at = $acknowledged_at,
    first_response_at = $first_response_at,
    resolved_at = $resolved_at,
    dismissed_at = $dismissed_at,
    root_cause = $root_cause,
    dismiss_reason = $dismiss_reason,
    template_id = $template_id,
    reply = $reply,
    due_at = $due_at,
    resolution_due_at = $resolution_due_at,
    rescue_until = $rescue_until,
    rescue_min_compound = $rescue_min_compound,
    sentiment_before = $sentiment_before,
    sentiment_after = $sentiment_after,
    rescued = $rescued,
    recovered_at = $recovered_at,
    updated_at = $updated_at
WHERE id = $id;
