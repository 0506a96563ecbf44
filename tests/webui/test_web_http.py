"""The review web app over real HTTP on loopback: what is refused (no session, no or a wrong
CSRF token, a foreign origin), the security headers, and that actions land in DuckDB."""

from __future__ import annotations

import httpx

from webui.webdesk import PASSWORD, csrf_of, sign_in


def test_pages_without_a_session_redirect_to_sign_in(client, desk):
    ticket = desk.ticket_id("c2")
    for path in ("/", "/queue?brand=Acme", f"/tickets/{ticket}"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
        assert "Acme" not in response.text


def test_actions_without_a_session_are_refused(client, desk):
    ticket = desk.ticket_id("c2")
    before = desk.events(ticket)
    response = client.post(f"/tickets/{ticket}/actions",
                           data={"action": "dismiss", "dismiss_reason": "spam"})
    assert response.status_code == 401
    client.cookies.set("earful_session", "made-up-token")
    forged = client.post(f"/tickets/{ticket}/actions", data={"action": "note", "note": "x"})
    assert forged.status_code == 401
    assert desk.events(ticket) == before and desk.ticket(ticket)["status"] == "open"


def test_posts_without_a_valid_csrf_token_are_refused(client, desk):
    assert sign_in(client).status_code == 303
    ticket = desk.ticket_id("c2")
    before = desk.events(ticket)
    page = client.get(f"/tickets/{ticket}")
    assert page.status_code == 200
    token = csrf_of(page.text)
    action = {"action": "dismiss", "dismiss_reason": "spam"}
    missing = client.post(f"/tickets/{ticket}/actions", data=action)
    wrong = client.post(f"/tickets/{ticket}/actions", data={**action, "csrf_token": "0" * 64})
    # Another signed-in user's token is no good in this session either.
    with httpx.Client(base_url=desk.base_url) as other:
        sign_in(other, "bob")
        bobs = csrf_of(other.get("/queue").text)
    borrowed = client.post(f"/tickets/{ticket}/actions", data={**action, "csrf_token": bobs})
    foreign = client.post(f"/tickets/{ticket}/actions", data={**action, "csrf_token": token},
                          headers={"Origin": "https://evil.example"})
    cross_site = client.post(f"/tickets/{ticket}/actions",
                             data={**action, "csrf_token": token},
                             headers={"Sec-Fetch-Site": "cross-site"})
    for response in (missing, wrong, borrowed, foreign, cross_site):
        assert response.status_code == 403, response.text
    assert desk.events(ticket) == before and desk.ticket(ticket)["status"] == "open"
    # The same request with the page's token goes through, and lands in DuckDB at once.
    ok = client.post(f"/tickets/{ticket}/actions",
                     data={"action": "note", "note": "checked billing", "csrf_token": token})
    assert ok.status_code == 303
    assert desk.events(ticket)[-1]["action"] == "note"
    assert "checked billing" in desk.events(ticket)[-1]["detail"]


def test_sign_in_form_needs_its_csrf_cookie_and_right_password(client, desk):
    no_cookie = client.post("/login", data={"csrf_token": "x", "name": "alice",
                                            "password": PASSWORD})
    assert no_cookie.status_code == 403 and "earful_session" not in no_cookie.cookies
    page = client.get("/login")
    token = csrf_of(page.text)
    wrong = client.post("/login", data={"csrf_token": token, "name": "alice",
                                        "password": "not the password"})
    assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
    # An attacker's ?next= never sends the user off-site.
    # Each sign-in page comes with a fresh token (and cookie).
    good = client.post("/login", data={"csrf_token": csrf_of(wrong.text), "name": "alice",
                                       "password": PASSWORD, "next": "//evil.example/x"})
    assert good.status_code == 303 and good.headers["location"] == "/queue"
    assert "httponly" in good.headers["set-cookie"].lower()
    assert "samesite=lax" in good.headers["set-cookie"].lower()


def test_repeated_failures_are_throttled(client):
    page = client.get("/login")
    token = csrf_of(page.text)
    codes = []
    for n in range(6):
        response = client.post("/login", data={"csrf_token": token, "name": "mallory",
                                               "password": f"guess {n}"})
        codes.append(response.status_code)
        token = csrf_of(response.text)
    assert codes == [401] * 5 + [429]


def test_sign_out_ends_the_session(client, desk):
    sign_in(client, "bob")
    token = client.cookies["earful_session"]
    queue = client.get("/queue")
    assert queue.status_code == 200
    out = client.post("/logout", data={"csrf_token": csrf_of(queue.text)})
    assert out.status_code == 303
    client.cookies.set("earful_session", token)
    replay = client.get("/queue")
    assert replay.status_code == 303


def test_security_headers_on_pages_errors_and_static_files(client, desk):
    sign_in(client)
    for path in ("/login", "/queue", "/tickets/no-such-ticket", "/static/app.js"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "server" not in response.headers
    assert client.get("/tickets/no-such-ticket").status_code == 404
    assert client.get("/queue").headers["cache-control"] == "no-store"


def test_resolve_needs_a_root_cause_and_then_is_recorded(client, desk):
    sign_in(client)
    ticket = desk.ticket_id("c4")
    token = csrf_of(client.get(f"/tickets/{ticket}").text)
    refused = client.post(f"/tickets/{ticket}/actions",
                          data={"action": "resolve", "csrf_token": token})
    assert refused.status_code == 409 and "root cause" in refused.text
    assert desk.ticket(ticket)["status"] != "resolved"
    done = client.post(f"/tickets/{ticket}/actions",
                       data={"action": "resolve", "root_cause": "product_defect",
                             "csrf_token": token})
    assert done.status_code == 303
    row = desk.ticket(ticket)
    assert (row["status"], row["root_cause"]) == ("resolved", "product_defect")
    assert desk.events(ticket)[-1]["actor"] == "alice"
    unknown = client.post(f"/tickets/{ticket}/actions",
                          data={"action": "launch", "csrf_token": token})
    assert unknown.status_code == 400


def test_queue_filters(client, desk):
    sign_in(client)
    everything = client.get("/queue").text
    assert "Omar Haddad" in everything
    none = client.get("/queue", params={"brand": "NoSuchBrand"}).text
    assert "Omar Haddad" not in none and "Nothing waiting here" in none
    odd = client.get("/queue", params={"priority": "P9", "status": "bogus"})
    assert odd.status_code == 200 and "Omar Haddad" in odd.text
    nobody = client.get("/queue", params={"assignee": "(nobody)", "source": "mastodon"}).text
    assert "Omar Haddad" in nobody
    assert "Omar Haddad" not in client.get("/queue", params={"assignee": "zed"}).text
    assert "Omar Haddad" in client.get("/queue", params={"status": "all"}).text
