"""The ticket lifecycle against a real DuckDB file: every action updates the ticket and
appends one event; wrong moves are refused with a reason; repeats change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from desk_support import NOW, PRAISE, desk_settings, mention, write

from desk.lifecycle import TransitionError, apply_action
from desk.queries import queue, ticket_detail
from sql.store import Store


@pytest.fixture()
def desk(tmp_path):
    settings = desk_settings(templates=[{
        "id": "acme-sorry", "name": "Sorry", "brands": ["Acme"],
        "body": "Hi {first_name}, sorry about \"{excerpt}\". {agent} from {brand} here."}])
    store = Store(tmp_path / "desk.duckdb")
    write(store, settings, [mention("1")])
    (row,) = queue(store, settings, now=NOW)
    return store, settings, row["ticket_id"]


def events(store, ticket_id):
    with store.connect() as con:
        return [r[0] for r in con.execute(
            "SELECT action FROM ticket_events WHERE ticket_id = ? ORDER BY occurred_at, id",
            [ticket_id]).fetchall()]


def test_a_complaint_goes_from_open_to_resolved_with_every_step_logged(desk):
    store, settings, tid = desk
    at = NOW + timedelta(minutes=10)
    apply_action(store, settings, tid, "acknowledge", actor="maya", now=at)
    apply_action(store, settings, tid, "assign", actor="maya", assignee="li", now=at)
    apply_action(store, settings, tid, "note", actor="li", note="refund stuck in billing",
                 now=at + timedelta(minutes=1))
    apply_action(store, settings, tid, "respond", actor="li", template_id="acme-sorry",
                 now=at + timedelta(minutes=5))
    with pytest.raises(TransitionError, match="resolve needs a root cause"):
        apply_action(store, settings, tid, "resolve", actor="li", now=at + timedelta(hours=1))
    with pytest.raises(TransitionError, match="unknown root cause 'weather'"):
        apply_action(store, settings, tid, "resolve", actor="li", root_cause="weather")
    apply_action(store, settings, tid, "resolve", actor="li", root_cause="billing",
                 now=at + timedelta(hours=1))

    detail = ticket_detail(store, settings, tid, now=at + timedelta(hours=1))
    ticket = detail["ticket"]
    assert ticket["status"] == "resolved" and ticket["root_cause"] == "billing"
    assert ticket["assignee"] == "li" and ticket["template_id"] == "acme-sorry"
    # The reply is filled with the author's own name and words, never "Dear customer".
    assert ticket["reply"].startswith("Hi Ann, sorry about \"@acme still waiting")
    assert "li from Acme here." in ticket["reply"] and "customer" not in ticket["reply"]
    assert ticket["first_response_at"] == at + timedelta(minutes=5)
    assert [e["action"] for e in detail["events"]] == [
        "opened", "acknowledged", "assigned", "note", "responded", "resolved"]
    assert detail["events"][2]["detail"] == {"from": None, "to": "li"}
    assert detail["events"][-1]["actor"] == "li"
    assert detail["rescue"]["until"] == at + timedelta(hours=1, days=14)


def test_repeating_an_action_changes_nothing(desk):
    store, settings, tid = desk
    steps = [("acknowledge", {}), ("assign", {"assignee": "li"}),
             ("respond", {"reply": "Hi Ann, on it"}), ("note", {"note": "same note"}),
             ("resolve", {"root_cause": "delivery"})]
    for action, kwargs in steps:
        for _ in range(2):  # a double click, a retried request
            apply_action(store, settings, tid, action, actor="li", now=NOW, **kwargs)
    assert sorted(events(store, tid)) == ["acknowledged", "assigned", "note", "opened",
                                          "resolved", "responded"]


def test_closed_tickets_refuse_work_until_reopened(desk):
    store, settings, tid = desk
    with pytest.raises(TransitionError, match="dismiss needs a reason"):
        apply_action(store, settings, tid, "dismiss", actor="maya", now=NOW)
    with pytest.raises(TransitionError, match="unknown dismiss reason 'boring'"):
        apply_action(store, settings, tid, "dismiss", actor="maya", dismiss_reason="boring")
    apply_action(store, settings, tid, "dismiss", actor="maya", dismiss_reason="spam",
                 now=NOW + timedelta(minutes=1))
    for action, kwargs in (("acknowledge", {}), ("assign", {"assignee": "li"}),
                           ("respond", {"reply": "hi"}), ("resolve", {"root_cause": "other"})):
        with pytest.raises(TransitionError, match="is dismissed: reopen it"):
            apply_action(store, settings, tid, action, actor="maya", now=NOW, **kwargs)
    assert queue(store, settings, now=NOW) == []
    (dismissed,) = queue(store, settings, status="dismissed", now=NOW)
    assert dismissed["dismiss_reason"] == "spam"
    apply_action(store, settings, tid, "reopen", actor="maya", note="it was real",
                 now=NOW + timedelta(hours=1))
    (row,) = queue(store, settings, now=NOW + timedelta(hours=1))
    assert row["status"] == "open" and row["dismiss_reason"] is None
    assert events(store, tid) == ["opened", "dismissed", "reopened"]


def test_wrong_input_is_explained(desk):
    store, settings, tid = desk
    with pytest.raises(TransitionError, match="no ticket 'T-NOPE'"):
        apply_action(store, settings, "T-NOPE", "acknowledge", actor="maya")
    with pytest.raises(TransitionError, match="unknown action 'close'"):
        apply_action(store, settings, tid, "close", actor="maya")
    with pytest.raises(TransitionError, match="needs the name of who"):
        apply_action(store, settings, tid, "acknowledge", actor=" ")
    with pytest.raises(TransitionError, match="no template 'nope'"):
        apply_action(store, settings, tid, "respond", actor="maya", template_id="nope")
    with pytest.raises(TransitionError, match="respond needs the reply"):
        apply_action(store, settings, tid, "respond", actor="maya")
    assert events(store, tid) == ["opened"]


def test_a_thank_you_resolves_without_a_root_cause(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "thanks.duckdb")
    write(store, settings, [mention("9", PRAISE, handle="@carl", name=None,
                                    followers=300_000)])
    (row,) = queue(store, settings, now=NOW)
    assert row["priority"] == "P4" and "thank" in row["reason"]
    detail = ticket_detail(store, settings, row["ticket_id"])
    (template,) = detail["templates"]
    assert template["text"].startswith("Thank you @carl!")
    apply_action(store, settings, row["ticket_id"], "resolve", actor="maya",
                 template_id=template["id"], now=NOW)
    detail = ticket_detail(store, settings, row["ticket_id"])
    assert detail["ticket"]["status"] == "resolved" and detail["rescue"] is None
    assert detail["ticket"]["reply"].startswith("Thank you @carl!")


def test_a_templates_date_is_the_teams_day_not_the_servers():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from desk.config import BusinessHours, DeskConfig
    from desk.templates import placeholders

    # DuckDB hands TIMESTAMPTZ back in the server's zone: 23:30 UTC read on an Auckland box
    # is already the 23rd there.
    published = datetime(2026, 11, 22, 23, 30, tzinfo=ZoneInfo("UTC")).astimezone(
        ZoneInfo("Pacific/Auckland"))
    mention_row = {"published_at": published, "author_name": "Ann"}
    assert placeholders({}, mention_row)["date"] == "22 Nov 2026"
    assert placeholders({}, mention_row, desk=DeskConfig())["date"] == "22 Nov 2026"
    tokyo = DeskConfig(business_hours=BusinessHours(timezone="Asia/Tokyo"))
    assert placeholders({}, mention_row, desk=tokyo)["date"] == "23 Nov 2026"


def test_reopening_a_ticket_nobody_answered_gives_a_first_response_deadline_from_now(desk):
    store, settings, tid = desk
    later = NOW + timedelta(days=3)  # long past the first-response deadline
    apply_action(store, settings, tid, "dismiss", actor="maya", dismiss_reason="duplicate",
                 now=NOW + timedelta(minutes=5))
    apply_action(store, settings, tid, "reopen", actor="maya", now=later)
    ticket = ticket_detail(store, settings, tid, now=later)["ticket"]
    assert ticket["status"] == "open" and ticket["due_at"] > later
    assert ticket["resolution_due_at"] > later
    # Answered before it was closed: the first-response deadline is history, not reset.
    apply_action(store, settings, tid, "respond", actor="maya", reply="On it.", now=later)
    apply_action(store, settings, tid, "dismiss", actor="maya", dismiss_reason="duplicate",
                 now=later + timedelta(minutes=1))
    due_before = ticket_detail(store, settings, tid, now=later)["ticket"]["due_at"]
    apply_action(store, settings, tid, "reopen", actor="maya", now=later + timedelta(days=2))
    assert ticket_detail(store, settings, tid, now=later)["ticket"]["due_at"] == due_before
