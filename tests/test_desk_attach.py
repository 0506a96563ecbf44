"""Opening tickets with the desk: later mentions of a thread or author attach to the open
ticket, thank-you tickets for high-reach praise (one per author per cooldown), VIP authors.
Everything through the real pipeline into a real DuckDB file, rerun to prove idempotence."""

from __future__ import annotations

from datetime import timedelta

from desk_support import NOW, PRAISE, desk_settings, mention, write

from desk.lifecycle import apply_action
from desk.queries import queue, ticket_detail
from earful.settings import settings_from_dict
from sql.store import Store


def state(store):
    with store.connect() as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("tickets", "ticket_events", "ticket_mentions")}


def test_later_mentions_in_the_thread_or_by_the_author_join_the_open_ticket(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "a.duckdb")
    first = mention("1")
    assert write(store, settings, [first]).new_tickets == 1
    later = NOW + timedelta(hours=2)
    batch = [
        # another unhappy customer replying in the same thread
        mention("2", "@acme same here, still waiting for my refund, terrible!", handle="@bob",
                name="Bob", thread="1", parent="1", at=later),
        # the same author again, a new post, within the 48 h window
        mention("3", "@acme day 4, still waiting for the refund. Useless service!", at=later),
        # a calm reply in the thread: linked as context, opens nothing
        mention("4", "@ann did you try the Acme app?", handle="@dan", name="Dan",
                thread="1", parent="1", followers=50, at=later),
    ]
    for _ in range(3):  # reruns change nothing
        stats = write(store, settings, batch, later)
        assert stats.new_tickets == 0
        assert state(store) == {"tickets": 1, "ticket_events": 3, "ticket_mentions": 4}
    (row,) = queue(store, settings, now=later)
    assert row["attached"] == 3
    detail = ticket_detail(store, settings, row["ticket_id"])
    assert {(m["relation"], m["author_handle"]) for m in detail["thread"]} == {
        ("thread", "@bob"), ("author", "@ann"), ("thread", "@dan")}
    assert [e["action"] for e in detail["events"]] == [
        "opened", "mention_attached", "mention_attached"]
    assert {e["detail"].get("relation") for e in detail["events"][1:]} == {"thread", "author"}


def test_the_same_author_after_the_window_opens_a_new_ticket(tmp_path):
    settings = desk_settings(attach_window="12h")
    store = Store(tmp_path / "b.duckdb")
    write(store, settings, [mention("1")])
    later = NOW + timedelta(hours=13)
    assert write(store, settings, [mention("2", at=later)], later).new_tickets == 1


def test_one_batch_with_a_whole_thread_opens_one_ticket(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "c.duckdb")
    batch = [mention("1"),
             mention("2", "@acme me too, still waiting for my refund. Terrible!",
                     handle="@bob", name="Bob", thread="1", parent="1",
                     at=NOW + timedelta(minutes=3)),
             mention("5", "@acme and still nothing, terrible refund service again!",
                     at=NOW + timedelta(minutes=9))]
    assert write(store, settings, batch).new_tickets == 1
    (row,) = queue(store, settings, now=NOW)
    assert row["attached"] == 2 and row["author_handle"] == "@ann"


def test_a_more_urgent_attached_mention_raises_the_ticket(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "d.duckdb")
    write(store, settings, [mention("1", followers=45_000)])
    (before,) = queue(store, settings, now=NOW)
    later = NOW + timedelta(minutes=30)
    write(store, settings, [mention("2", handle="@bigvoice", name="Big Voice",
                                    followers=2_000_000, thread="1", parent="1", at=later)],
          later)
    (after,) = queue(store, settings, now=later)
    assert before["priority"] > after["priority"] == "P1"
    events = [e["action"] for e in ticket_detail(store, settings, after["ticket_id"])["events"]]
    assert sorted(events) == ["mention_attached", "opened", "priority_raised"]


def test_high_reach_praise_opens_one_thank_you_per_author_per_cooldown(tmp_path):
    settings = desk_settings(thank_you={"min_reach": 20_000})
    store = Store(tmp_path / "e.duckdb")
    carl = {"handle": "@carl", "name": "Carl", "followers": 300_000}
    assert write(store, settings, [mention("p1", PRAISE, **carl)]).new_tickets == 1
    ten_days = NOW + timedelta(days=10)
    assert write(store, settings, [mention("p2", PRAISE, at=ten_days, **carl)],
                 ten_days).new_tickets == 0
    month = NOW + timedelta(days=31)
    assert write(store, settings, [mention("p3", PRAISE, at=month, **carl)],
                 month).new_tickets == 1
    # praise from a small account is welcome but opens nothing
    assert write(store, settings, [mention("p4", PRAISE, handle="@eve", name="Eve",
                                           followers=500)], month).new_tickets == 0
    rows = queue(store, settings, now=month, status="all")
    assert [(r["priority"], r["author_handle"]) for r in rows] == [("P4", "@carl")] * 2
    off = desk_settings(thank_you={"enabled": False})
    assert write(Store(tmp_path / "f.duckdb"), off,
                 [mention("p1", PRAISE, **carl)]).new_tickets == 0


def test_vip_authors_open_whatever_their_reach_with_a_tighter_sla_and_an_owner(tmp_path):
    settings = desk_settings(vips=[
        {"name": "press", "domains": ["news.test"], "owner": "comms-desk",
         "sla_factor": 0.5, "min_priority": "P2"},
        {"name": "key accounts", "handles": ["@bigco"], "owner": "li"}])
    store = Store(tmp_path / "g.duckdb")
    batch = [mention("v1", handle="@bigco", name="BigCo", followers=100),
             mention("v2", handle="@reporter", name="Rita Reporter", followers=10,
                     author_url="https://www.news.test/staff/rita"),
             mention("n1", handle="@nobody", name="Nobody", followers=100)]
    assert write(store, settings, batch).new_tickets == 2
    rows = {r["author_handle"]: r for r in queue(store, settings, now=NOW)}
    assert set(rows) == {"@bigco", "@reporter"}
    assert rows["@bigco"]["assignee"] == "li" and rows["@bigco"]["vip"]
    press = rows["@reporter"]
    assert press["vip_name"] == "press" and press["assignee"] == "comms-desk"
    assert press["priority"] == "P2" and "VIP press → P2" in press["reason"]
    # P2's 4 h first-response SLA, halved
    assert press["first_response_due_at"] == NOW + timedelta(hours=2)
    assert press["resolution_due_at"] == NOW + timedelta(hours=12)


def test_one_batch_thanks_an_author_once_per_cooldown(tmp_path):
    # A backfill or a slow poll can bring the same author's praise days apart in one batch:
    # past the attach window, yet within the cooldown, so one thank-you, not two.
    settings = desk_settings()
    store = Store(tmp_path / "h.duckdb")
    carl = {"handle": "@carl", "name": "Carl", "followers": 300_000}
    five_days = NOW + timedelta(days=5)
    batch = [mention("p1", PRAISE, **carl), mention("p2", PRAISE, at=five_days, **carl)]
    for _ in range(2):
        assert write(store, settings, batch, five_days).new_tickets in (1, 0)
        assert state(store)["tickets"] == 1


def test_a_vip_entry_for_one_brand_lifts_the_reach_bar_for_that_brand_only(tmp_path):
    settings = settings_from_dict({
        "brands": [{"name": "Acme", "terms": ["Acme"]}, {"name": "Globex", "terms": ["Globex"]}],
        "desk": {"vips": [{"name": "key", "handles": ["@bigco"], "brands": ["Acme"]}]}})
    store = Store(tmp_path / "i.duckdb")
    text = "@acme and @globex still waiting for my refund, 3 days and nothing. Terrible service!"
    write(store, settings, [mention("v1", text, handle="@bigco", name="BigCo", followers=100)])
    assert [(r["brand"], r["vip"]) for r in queue(store, settings, now=NOW)] == [("Acme", True)]


def test_a_calm_reply_that_turns_risky_never_joins_a_thank_you(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "j.duckdb")
    write(store, settings, [mention("p1", PRAISE, handle="@carl", name="Carl",
                                    followers=300_000)])
    later = NOW + timedelta(hours=1)
    reply = {"handle": "@bob", "name": "Bob", "thread": "p1", "parent": "p1", "at": later}
    # small reach: linked to the thank-you as context, no ticket
    assert write(store, settings, [mention("b1", followers=100, **reply)], later).new_tickets == 0
    # polled again once Bob's audience has grown: a complaint of its own, not the thank-you's
    for _ in range(2):
        write(store, settings, [mention("b1", followers=200_000, **reply)], later)
    rows = {r["kind"]: r for r in queue(store, settings, now=later)}
    assert rows["thank"]["priority"] == "P4" and rows["complaint"]["author_handle"] == "@bob"


def test_a_calm_reply_that_turns_risky_after_the_ticket_closed_opens_one(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "k.duckdb")
    write(store, settings, [mention("1")])
    (row,) = queue(store, settings, now=NOW)
    later = NOW + timedelta(hours=1)
    reply = {"handle": "@bob", "name": "Bob", "thread": "1", "parent": "1", "at": later}
    write(store, settings, [mention("b1", followers=100, **reply)], later)
    apply_action(store, settings, row["ticket_id"], "resolve", actor="li",
                 root_cause="billing", now=later)
    viral = later + timedelta(hours=3)
    assert write(store, settings, [mention("b1", followers=500_000, **reply)],
                 viral).new_tickets == 1
    # while one attached as a ticket-worthy mention stays with its ticket once it closes
    apply_action(store, settings, row["ticket_id"], "reopen", actor="li", now=viral)
    write(store, settings, [mention("3", at=viral)], viral)
    apply_action(store, settings, row["ticket_id"], "resolve", actor="li",
                 root_cause="billing", now=viral)
    assert write(store, settings, [mention("3", at=viral)], viral).new_tickets == 0


def test_a_reply_to_a_mention_joining_the_ticket_in_the_same_batch_joins_too(tmp_path):
    settings = desk_settings()
    store = Store(tmp_path / "l.duckdb")
    write(store, settings, [mention("1")])
    later = NOW + timedelta(hours=2)
    batch = [mention("2", "@acme day 4, still waiting for the refund. Useless service!",
                     thread="2", at=later),
             mention("3", "@acme same here, still waiting for my refund, terrible!",
                     handle="@bob", name="Bob", thread="2", parent="2",
                     at=later + timedelta(minutes=5))]
    for _ in range(2):
        assert write(store, settings, batch, later).new_tickets == 0
    (row,) = queue(store, settings, now=later)
    assert row["attached"] == 2
    actions = [e["action"] for e in ticket_detail(store, settings, row["ticket_id"])["events"]]
    assert actions.count("mention_attached") == 2
