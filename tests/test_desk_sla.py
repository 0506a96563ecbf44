"""SLA clocks (business hours), at-risk and breached states, escalation along the path with
priority raises, and the SLA figures, on a real DuckDB file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from desk_support import NOW, desk_settings, mention, write

from desk.config import BusinessHours, DeskConfig
from desk.hours import add_business_time, deadline
from desk.lifecycle import apply_action
from desk.queries import queue, sla_figures, ticket_detail
from desk.sla import escalate_due
from sql.store import Store

BERLIN = BusinessHours(timezone="Europe/Berlin", holidays=[date(2026, 12, 25)])


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_business_hours_stop_the_clock_at_night_weekends_and_holidays():
    # Friday 16:00 in Berlin (15:00 UTC) + 2 h → Monday 10:00 (09:00 UTC)
    assert add_business_time(utc(2026, 11, 27, 15), timedelta(hours=2), BERLIN) == \
        utc(2026, 11, 30, 9)
    # Saturday: the clock starts Monday 09:00
    assert add_business_time(utc(2026, 11, 28, 12), timedelta(minutes=30), BERLIN) == \
        utc(2026, 11, 30, 8, 30)
    # Thursday 24 Dec 16:30 + 1 h: Christmas Day is a holiday → Monday 28 Dec 09:30
    assert add_business_time(utc(2026, 12, 24, 15, 30), timedelta(hours=1), BERLIN) == \
        utc(2026, 12, 28, 8, 30)
    # across the end of summer time (25 Oct 2026): Friday 16:00 CEST + 2 h → Mon 10:00 CET
    assert add_business_time(utc(2026, 10, 23, 14), timedelta(hours=2), BERLIN) == \
        utc(2026, 10, 26, 9)
    # three working days of 8 h
    assert add_business_time(utc(2026, 11, 23, 8), timedelta(hours=24), BERLIN) == \
        utc(2026, 11, 25, 16)


def test_only_the_listed_priorities_follow_business_hours():
    desk = DeskConfig(business_hours=BERLIN)
    friday_night = utc(2026, 11, 27, 21)
    assert deadline(friday_night, timedelta(hours=1), "P1", desk) == utc(2026, 11, 27, 22)
    assert deadline(friday_night, timedelta(hours=1), "P3", desk) == utc(2026, 11, 30, 9)


def test_business_hours_set_the_deadlines_of_new_tickets(tmp_path):
    settings = desk_settings(business_hours={"timezone": "Europe/Berlin"})
    store = Store(tmp_path / "bh.duckdb")
    friday = utc(2026, 11, 27, 15)  # 16:00 in Berlin, one hour before closing
    write(store, settings, [mention("1", at=friday)], friday)
    (row,) = queue(store, settings, now=friday)
    assert row["priority"] == "P2"  # 4 h SLA: 1 h on Friday, 3 h on Monday from 09:00
    assert row["first_response_due_at"] == utc(2026, 11, 30, 11)


ESCALATION = {"path": [{"name": "agent"}, {"name": "lead", "contacts": ["lead@acme.test"]},
                       {"name": "comms", "contacts": ["Kim (comms)"]}], "interval": "2h"}


def test_a_breach_escalates_along_the_path_and_raises_priority_once_per_step(tmp_path):
    settings = desk_settings(escalation=ESCALATION)
    store = Store(tmp_path / "esc.duckdb")
    write(store, settings, [mention("1")])
    (row,) = queue(store, settings, now=NOW)
    tid = row["ticket_id"]
    assert (row["priority"], row["sla_state"]) == ("P2", "ok")  # due in 4 h
    (row,) = queue(store, settings, now=NOW + timedelta(hours=3, minutes=30))
    assert row["sla_state"] == "at_risk"
    assert escalate_due(store, settings, NOW + timedelta(hours=3, minutes=30)) == []

    (first,) = escalate_due(store, settings, NOW + timedelta(hours=5))
    assert first.escalated and (first.level_name, first.contacts) == ("lead", ("lead@acme.test",))
    assert (first.priority_from, first.priority_to, first.deadline_kind) == \
        ("P2", "P1", "first_response")
    (again,) = escalate_due(store, settings, NOW + timedelta(hours=6))  # within the interval
    assert not again.escalated
    (second,) = escalate_due(store, settings, NOW + timedelta(hours=7))
    assert second.escalated and second.level_name == "comms" and second.priority_to == "P1"
    (top,) = escalate_due(store, settings, NOW + timedelta(hours=10))
    assert not top.escalated  # the last level: nowhere further to go

    (row,) = queue(store, settings, now=NOW + timedelta(hours=10))
    assert (row["sla_state"], row["priority"], row["escalation_level"]) == ("breached", "P1", 2)
    actions = [e["action"] for e in ticket_detail(store, settings, tid)["events"]]
    assert actions == ["opened", "breached", "escalated", "priority_raised", "escalated"]

    # Answered late: the resolution deadline (P2's 24 h, set when it opened) applies now.
    apply_action(store, settings, tid, "respond", actor="li", reply="Hi Ann, sorry!",
                 now=NOW + timedelta(hours=11))
    (row,) = queue(store, settings, now=NOW + timedelta(hours=11))
    assert row["sla_state"] == "ok" and row["due_at"] == NOW + timedelta(hours=24)
    (late,) = escalate_due(store, settings, NOW + timedelta(hours=25))
    assert late.deadline_kind == "resolution" and not late.escalated
    actions = [e["action"] for e in ticket_detail(store, settings, tid)["events"]]
    assert actions[-2:] == ["responded", "breached"]


def test_sla_figures(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "fig.duckdb")
    write(store, settings, [mention(str(n), handle=f"@user{n}", name=f"User {n}")
                            for n in range(4)])
    ids = [r["ticket_id"] for r in queue(store, settings, now=NOW)]
    assert len(ids) == 4  # all P2: first response within 4 h
    apply_action(store, settings, ids[0], "respond", actor="li", reply="Hi!",
                 now=NOW + timedelta(minutes=30))
    apply_action(store, settings, ids[1], "respond", actor="li", reply="Hi, sorry!",
                 now=NOW + timedelta(hours=5))
    apply_action(store, settings, ids[2], "dismiss", actor="li", dismiss_reason="spam",
                 now=NOW + timedelta(hours=1))
    figures = sla_figures(store, settings, NOW + timedelta(hours=6))
    assert figures["tickets"] == 3 and figures["responded"] == 2
    assert figures["median_first_response_minutes"] == 165.0  # (30 + 300) / 2
    # answered in time: 1 of 3 (the open one is past its deadline)
    assert figures["first_response_within_sla"] == 0.333
    assert figures["open"] == 3 and figures["open_breaches"] == 1
    assert figures["by_priority"]["P2"]["tickets"] == 3


def test_business_hours_count_real_time_across_a_dst_change_inside_the_hours():
    # A team working Sundays from midnight: New York springs forward on 8 Mar 2026 at 02:00
    # and falls back on 1 Nov 2026; two hours of work are two hours of real time.
    hours = BusinessHours(timezone="America/New_York", days=["sun"], start="00:00",
                          end="12:00")
    assert add_business_time(utc(2026, 3, 8, 6), timedelta(hours=2), hours) == \
        utc(2026, 3, 8, 8)  # 01:00 EST + 2 h = 04:00 EDT
    # the fall-back Sunday's 00:00-12:00 holds 13 hours: 12 of them end at 11:00 EST
    assert add_business_time(utc(2026, 11, 1, 4), timedelta(hours=12), hours) == \
        utc(2026, 11, 1, 16)


def test_a_shortened_escalation_path_leaves_a_ticket_at_its_new_top(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "short.duckdb")
    write(store, settings, [mention("1")])
    escalate_due(store, settings, NOW + timedelta(hours=5))
    escalate_due(store, settings, NOW + timedelta(hours=8))
    assert queue(store, settings, now=NOW)[0]["escalation_level"] == 2  # comms
    short = desk_settings(escalation={"path": [{"name": "agent"}, {"name": "lead"}]})
    for hours in (9, 12):  # within the interval, and past it
        (top,) = escalate_due(store, short, NOW + timedelta(hours=hours))
        assert (top.level_name, top.escalated) == ("lead", False)
