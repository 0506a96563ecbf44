"""The review web app in a real browser (Debian's chromium driven by Playwright): sign in,
triage with the keyboard, resolve with a root cause, read the event log; hostile mentions
render inert; a tampered CSRF token is refused."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from webui.webdesk import (
    HOSTILE_AUTHOR_URL,
    HOSTILE_HANDLE,
    HOSTILE_NAME,
    HOSTILE_TEXT,
    HOSTILE_URL,
    ODD_HANDLE,
    PASSWORD,
)


def _sign_in(page, name="alice"):
    page.goto("/queue")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Sign in')")
    expect(page).to_have_url(re.compile(r"/queue$"))


def _selected(page):
    return page.get_attribute("#queue tr.selected", "data-ticket")


def test_sign_in_triage_with_the_keyboard_resolve_and_see_the_log(page, desk):
    ticket = desk.ticket_id("c1")
    _sign_in(page)
    ids = page.eval_on_selector_all("#queue tr[data-ticket]",
                                    "rows => rows.map(r => r.dataset.ticket)")
    assert ticket in ids and len(ids) >= 3
    assert _selected(page) == ids[0]
    page.keyboard.press("j")
    assert _selected(page) == ids[1]
    page.keyboard.press("k")
    assert _selected(page) == ids[0]
    for _ in range(ids.index(ticket)):
        page.keyboard.press("j")
    assert _selected(page) == ticket

    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()

    # a: assign the selected ticket to me; the page comes back with the same row selected.
    page.keyboard.press("a")
    row = page.locator(f"#queue tr[data-ticket='{ticket}']")
    expect(row).to_contain_text("alice")
    assert _selected(page) == ticket
    assert desk.ticket(ticket)["assignee"] == "alice"

    # r: to the ticket, the cursor on the root cause.
    page.keyboard.press("r")
    expect(page).to_have_url(re.compile(r"/tickets/.+#resolve$"))
    expect(page.locator("#mention-text")).to_contain_text("still not working after 3 days")
    expect(page.locator("#author-name")).to_have_text("Dana Reyes")
    expect(page.locator("#history")).to_contain_text("Trying the new Acme plan")
    expect(page.locator("#reach")).to_contain_text("followers")
    expect(page.locator("#root_cause")).to_be_focused()
    page.select_option("#root_cause", "delivery")
    page.click("#resolve-form button[type=submit]")

    expect(page.locator("h1 .status")).to_have_text("resolved")
    expect(page.locator("#root-cause")).to_have_text("delivery")
    log = page.locator("#events tbody tr")
    expect(log.filter(has_text="resolved")).to_contain_text("alice")
    expect(log.filter(has_text="resolved")).to_contain_text("delivery")
    expect(log.filter(has_text="assigned")).to_contain_text("alice")
    expect(log.filter(has_text="opened")).to_have_count(1)
    row = desk.ticket(ticket)
    assert (row["status"], row["root_cause"], row["assignee"]) == ("resolved", "delivery",
                                                                   "alice")
    actions = [(e["actor"], e["action"]) for e in desk.events(ticket)]
    assert actions[-2:] == [("alice", "assigned"), ("alice", "resolved")]

    # Back in the queue (u), the resolved ticket has left it.
    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.locator(f"#queue tr[data-ticket='{ticket}']")).to_have_count(0)


def test_dismiss_with_the_keyboard(page, desk):
    ticket = desk.ticket_id("c3")
    _sign_in(page, "bob")
    ids = page.eval_on_selector_all("#queue tr[data-ticket]",
                                    "rows => rows.map(r => r.dataset.ticket)")
    for _ in range(ids.index(ticket)):
        page.keyboard.press("j")
    page.keyboard.press("d")
    expect(page.locator("#dismiss_reason")).to_be_focused()
    page.select_option("#dismiss_reason", "duplicate")
    page.click("#dismiss-form button[type=submit]")
    expect(page.locator("h1 .status")).to_have_text("dismissed")
    assert desk.ticket(ticket)["dismiss_reason"] == "duplicate"
    assert desk.events(ticket)[-1]["actor"] == "bob"


def test_hostile_mention_renders_inert(page, desk):
    dialogs, violations = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    ticket = desk.ticket_id("hostile")
    _sign_in(page)
    row = page.locator(f"#queue tr[data-ticket='{ticket}']")
    expect(row).to_contain_text("<script>")  # shown as text
    page.goto(f"/tickets/{ticket}")
    expect(page.locator("#mention-text")).to_have_text(HOSTILE_TEXT)
    expect(page.locator("#author-name")).to_have_text(HOSTILE_NAME)
    expect(page.locator("#author")).to_contain_text(HOSTILE_HANDLE)
    expect(page.locator("#mention")).to_contain_text(HOSTILE_URL)  # as text, not a link
    expect(page.locator("#author-url")).to_contain_text(HOSTILE_AUTHOR_URL)
    for url in ("/queue", f"/tickets/{ticket}"):
        page.goto(url)
        page.wait_for_load_state("load")
        # Hover and click every link and element the payloads could have created.
        assert page.locator("script").count() == 1  # our /static/app.js only
        assert page.locator("img, svg, iframe, object, embed").count() == 0
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs), hrefs
        assert page.evaluate("window.__pwned === undefined")
    # The reply templates carry the author's name into an attribute: still inert.
    page.select_option("#template_id", index=1)
    assert HOSTILE_NAME in page.input_value("#reply")
    assert dialogs == [] and violations == [], (dialogs, violations)


def test_tampered_csrf_token_is_refused_in_the_browser(page, desk):
    ticket = desk.ticket_id("c2")
    before = desk.events(ticket)
    _sign_in(page)
    page.goto(f"/tickets/{ticket}")
    page.eval_on_selector("#note-form input[name=csrf_token]", "i => { i.value = 'forged'; }")
    page.fill("#note", "should not land")
    page.click("#note-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("403")
    assert desk.events(ticket) == before
    # The untampered form works.
    page.goto(f"/tickets/{ticket}")
    page.fill("#note", "called the customer")
    page.click("#note-form button[type=submit]")
    expect(page.locator("#events")).to_contain_text("called the customer")
    assert json.loads(desk.events(ticket)[-1]["detail"])["note"] == "called the customer"


_PAGE_WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
# Where the first and the last character of an element's text are drawn, left to right.
_ENDS = """el => {
  const text = el.firstChild, range = document.createRange();
  range.setStart(text, 0); range.setEnd(text, 1);
  const first = range.getBoundingClientRect().left;
  range.setStart(text, text.length - 1); range.setEnd(text, text.length);
  return [first, range.getBoundingClientRect().left];
}"""


def test_unusual_text_stays_in_its_place(page, desk):
    ticket = desk.ticket_id("odd")
    _sign_in(page)
    # A 300-character URL in a mention does not push the queue's columns off the page.
    scroll, visible = page.evaluate(_PAGE_WIDTH)
    assert scroll <= visible, (scroll, visible)
    row = page.locator(f"#queue tr[data-ticket='{ticket}']")
    take = row.locator("button:has-text('Take')").bounding_box()
    assert take["x"] + take["width"] <= visible, take
    # The name's right-to-left override does not run on into the handle after it.
    handle = row.locator(".handle")
    expect(handle).to_have_text(ODD_HANDLE)
    first, last = handle.evaluate(_ENDS)
    assert first < last, "the handle is drawn reversed"
    page.goto(f"/tickets/{ticket}")
    scroll, visible = page.evaluate(_PAGE_WIDTH)
    assert scroll <= visible, (scroll, visible)
    overflowing = page.eval_on_selector_all(
        ".card", "cards => cards.filter(c => c.scrollWidth > c.clientWidth).map(c => c.id)")
    assert overflowing == []
