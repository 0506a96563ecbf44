"""The review web app when things go wrong: parallel password guessing, failures inside a
request, odd query strings and bodies. Each answer is a clear page with the right status and
the security headers, never a bare 500 or FastAPI's JSON."""

from __future__ import annotations

import threading

import httpx

from sql.store import LockTimeoutError
from webui.webdesk import csrf_of, sign_in


def test_parallel_guesses_cannot_outrun_the_throttle(desk):
    # Each guess needs its own sign-in form (token and cookie); fetch them first so the
    # posts land together, the way a script with many connections would send them.
    clients = [httpx.Client(base_url=desk.base_url, timeout=60) for _ in range(12)]
    tokens = [csrf_of(c.get("/login").text) for c in clients]
    start = threading.Barrier(len(clients))
    codes: list[int] = []

    def guess(client: httpx.Client, token: str, n: int) -> None:
        start.wait()
        codes.append(client.post("/login", data={"csrf_token": token, "name": "trent",
                                                 "password": f"guess number {n}"}).status_code)

    threads = [threading.Thread(target=guess, args=(c, t, n))
               for n, (c, t) in enumerate(zip(clients, tokens, strict=True))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for client in clients:
        client.close()
    # Five passwords checked at most, as the README promises; the rest refused unchecked.
    assert len(codes) == 12 and codes.count(401) <= 5, sorted(codes)
    assert codes.count(429) >= 7, sorted(codes)


def _ticket_page_raising(client, desk, monkeypatch, error: Exception):
    import desk.queries as desk_queries

    sign_in(client)
    ticket = desk.ticket_id("c2")

    def failing(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(desk_queries, "ticket_detail", failing)
    return client.get(f"/tickets/{ticket}")


def test_a_failure_inside_a_request_keeps_the_security_headers(client, desk, monkeypatch):
    response = _ticket_page_raising(client, desk, monkeypatch, RuntimeError("a bug"))
    assert response.status_code == 500
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert "a bug" not in response.text


def test_a_database_busy_for_too_long_is_a_503_page(client, desk, monkeypatch):
    response = _ticket_page_raising(client, desk, monkeypatch, LockTimeoutError(
        "store: earful.duckdb stayed locked by another process for 60s"))
    assert response.status_code == 503, response.text
    assert "database is busy" in response.text and response.headers["retry-after"]
    assert "content-security-policy" in response.headers


def test_odd_query_strings_get_pages_not_json(client, desk):
    # Signed out, a long queue URL becomes a long ?next=: the sign-in page still shows and
    # falls back to the queue.
    long_queue = client.get("/queue", params={name: "é" * 190 for name in
                                              ("brand", "source", "assignee")})
    assert long_queue.status_code == 303
    login = client.get(long_queue.headers["location"])
    assert login.status_code == 200 and 'name="next" value="/queue"' in login.text
    sign_in(client)
    too_long = client.get("/queue", params={"brand": "x" * 300})
    assert too_long.status_code == 400
    assert too_long.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in too_long.headers


def test_form_bodies_we_do_not_accept_get_their_own_status(client, desk):
    sign_in(client)
    ticket = desk.ticket_id("c2")
    before = desk.events(ticket)
    token = csrf_of(client.get(f"/tickets/{ticket}").text)
    huge = client.post(f"/tickets/{ticket}/actions",
                       data={"csrf_token": token, "action": "note", "note": "x" * 70_000})
    as_json = client.post(f"/tickets/{ticket}/actions",
                          json={"csrf_token": token, "action": "note", "note": "x"})
    assert (huge.status_code, as_json.status_code) == (413, 415)
    assert desk.events(ticket) == before
