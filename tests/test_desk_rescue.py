"""The rescue loop: after a complaint is resolved, the author's later mentions on the same
platform are linked to it, the ticket records sentiment before and after and whether the
customer was rescued, and the rescue_outcomes view sums it up."""

from __future__ import annotations

from datetime import timedelta

from desk_support import NOW, PRAISE, desk_settings, mention, write

from desk.lifecycle import apply_action
from desk.queries import queue, ticket_detail
from desk.rescue import check_rescues
from sql.store import Store

THANKS = "@acme got my refund today, thank you so much, great help!"
STILL_ANGRY = "@acme refund arrived but honestly the worst service ever. Never again."


def resolved_tickets(store, settings):
    batch = [mention(f"c{n}", handle=f"@cust{n}", name=f"Cust {n}") for n in range(3)]
    write(store, settings, batch)
    rows = sorted(queue(store, settings, now=NOW), key=lambda r: r["author_handle"])
    plan = [("delivery", "li"), ("delivery", "sam"), ("billing", "li")]
    for row, (cause, who) in zip(rows, plan, strict=True):
        apply_action(store, settings, row["ticket_id"], "assign", actor="maya", assignee=who,
                     now=NOW + timedelta(minutes=5))
        apply_action(store, settings, row["ticket_id"], "resolve", actor=who, root_cause=cause,
                     template_id="builtin-complaint", now=NOW + timedelta(hours=1))
    return [r["ticket_id"] for r in rows]


def test_follow_ups_decide_whether_the_customer_was_rescued(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "r.duckdb")
    happy, angry, silent = resolved_tickets(store, settings)
    later = NOW + timedelta(days=2)
    batch = [mention("f0", THANKS, handle="@cust0", name="Cust 0", at=later),
             mention("f1", STILL_ANGRY, handle="@cust1", name="Cust 1", at=later),
             # another platform is another account: not linked
             mention("f2", THANKS, handle="@cust2", name="Cust 2", at=later, source="bluesky")]
    # The customer still angry after the resolution complains again, at 80k followers: that
    # is a new ticket (once), and the old one records that the rescue failed.
    assert write(store, settings, batch, later).new_tickets == 1
    assert write(store, settings, batch, later).new_tickets == 0

    rescue = ticket_detail(store, settings, happy)["rescue"]
    assert rescue["rescued"] is True and rescue["followups"] == 1
    assert rescue["sentiment_before"] < 0 < rescue["sentiment_after"]
    assert rescue["recovered_at"] == later
    assert ticket_detail(store, settings, angry)["rescue"]["rescued"] is False
    assert ticket_detail(store, settings, silent)["rescue"]["rescued"] is None
    events = [e["action"] for e in ticket_detail(store, settings, happy)["events"]]
    assert events.count("rescued") == 1

    with store.connect() as con:
        rows = con.execute(
            "SELECT dimension, value, resolved, followed_up, rescued, rescue_rate, "
            "median_hours_to_recovery FROM rescue_outcomes").fetchall()
    assert ("all", None, 3, 2, 1, 0.5, 48.0) in rows
    assert ("root_cause", "delivery", 2, 2, 1, 0.5, 48.0) in rows
    assert ("root_cause", "billing", 1, 0, 0, None, None) in rows
    assert ("assignee", "li", 2, 1, 1, 1.0, 48.0) in rows
    assert ("template", "builtin-complaint", 3, 2, 1, 0.5, 48.0) in rows


def test_follow_ups_already_stored_are_linked_when_the_ticket_is_resolved(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "s.duckdb")
    write(store, settings, [mention("c")])
    (row,) = queue(store, settings, now=NOW)
    two_days = NOW + timedelta(days=2)
    write(store, settings, [mention("f", THANKS, at=two_days)], two_days + timedelta(hours=1))
    # recorded afterwards, resolved (as the agent says) on the first day
    apply_action(store, settings, row["ticket_id"], "resolve", actor="li", root_cause="billing",
                 now=NOW + timedelta(hours=3))
    detail = ticket_detail(store, settings, row["ticket_id"])
    assert detail["rescue"]["rescued"] is True
    assert [m["relation"] for m in detail["thread"]] == ["author", "rescue"] or \
        {m["relation"] for m in detail["thread"]} >= {"rescue"}
    apply_action(store, settings, row["ticket_id"], "reopen", actor="li",
                 now=NOW + timedelta(days=3))
    assert ticket_detail(store, settings, row["ticket_id"])["rescue"] is None


def test_thank_yous_have_no_rescue_loop(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "t.duckdb")
    write(store, settings, [mention("p", PRAISE, followers=300_000)])
    (row,) = queue(store, settings, now=NOW)
    apply_action(store, settings, row["ticket_id"], "resolve", actor="li", now=NOW)
    assert ticket_detail(store, settings, row["ticket_id"])["rescue"] is None


def test_hourly_rescue_check_links_follow_ups_stored_by_another_run(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "h.duckdb")
    happy, _angry, _silent = resolved_tickets(store, settings)
    later = NOW + timedelta(days=1)
    # Stored through the plain store path, as a backfill or another process would, with no
    # desk linking in the batch: only the hourly check can see it.
    write(store, settings, [mention("f0", THANKS, handle="@cust0", name="Cust 0", at=later)],
          later)
    with store.transaction() as con:
        con.execute("DELETE FROM ticket_mentions WHERE relation = 'rescue'")
        con.execute("UPDATE tickets SET rescued = NULL, recovered_at = NULL, "
                    "sentiment_after = NULL")
    assert ticket_detail(store, settings, happy)["rescue"]["rescued"] is None

    summary = check_rescues(store, settings, now=later)
    assert (summary.watching, summary.rescued, summary.not_rescued) == (3, 1, 0)
    assert ticket_detail(store, settings, happy)["rescue"]["rescued"] is True
    assert check_rescues(store, settings, now=later) == summary
    events = [e["action"] for e in ticket_detail(store, settings, happy)["events"]]
    assert events.count("rescued") == 1


def _resolved_complaint(tmp_path):
    """A store with one complaint ticket, resolved an hour after it opened."""
    settings = desk_settings()
    store = Store(tmp_path / "desk.duckdb")
    write(store, settings, [mention("c")])
    (row,) = queue(store, settings, now=NOW)
    apply_action(store, settings, row["ticket_id"], "resolve", actor="li",
                 root_cause="billing", now=NOW + timedelta(hours=1))
    return settings, store, row["ticket_id"]


def test_a_reopened_ticket_resolved_again_weighs_only_what_follows_the_new_resolution(
        tmp_path):
    settings, store, tid = _resolved_complaint(tmp_path)
    day = NOW + timedelta(days=1)
    write(store, settings, [mention("f", THANKS, at=day)], day)
    assert ticket_detail(store, settings, tid)["rescue"]["rescued"] is True
    apply_action(store, settings, tid, "reopen", actor="li", now=day + timedelta(hours=1))
    apply_action(store, settings, tid, "resolve", actor="li", root_cause="billing",
                 now=day + timedelta(hours=2))
    # the kind words came before this resolution: the customer has not spoken since
    detail = ticket_detail(store, settings, tid)
    assert detail["rescue"]["rescued"] is None and detail["rescue"]["followups"] == 0
    assert {m["relation"] for m in detail["thread"]} == {"author"}
    check_rescues(store, settings, now=day + timedelta(hours=3))
    assert ticket_detail(store, settings, tid)["rescue"]["rescued"] is None
    later = day + timedelta(days=1)
    write(store, settings, [mention("g", STILL_ANGRY, at=later)], later)
    rescue = ticket_detail(store, settings, tid)["rescue"]
    assert rescue["rescued"] is False and rescue["followups"] == 1


def test_a_follow_up_with_a_ticket_of_its_own_stays_out_of_the_reopened_ticket(tmp_path):
    settings, store, tid = _resolved_complaint(tmp_path)
    day = NOW + timedelta(days=3)  # past the attach window: a ticket of its own
    assert write(store, settings, [mention("a", STILL_ANGRY, at=day)], day).new_tickets == 1
    apply_action(store, settings, tid, "reopen", actor="li", now=day)
    # a reply in the new ticket's thread belongs to the new ticket, not the reopened one
    reply = day + timedelta(hours=2)
    write(store, settings, [mention("r", STILL_ANGRY, handle="@bob", name="Bob",
                                    parent="a", thread="a", at=reply)], reply)
    attached = {r["ticket_id"]: r["attached"] for r in queue(store, settings, now=reply)}
    assert attached.pop(tid) == 0 and list(attached.values()) == [1]
    apply_action(store, settings, tid, "resolve", actor="li", root_cause="billing",
                 now=reply)
    rescue = ticket_detail(store, settings, tid)["rescue"]
    assert rescue["rescued"] is None and rescue["followups"] == 0
