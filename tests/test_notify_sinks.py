"""Each sink against a loopback receiver that checks the payload shape its vendor documents
(tests/notify_receivers.py), with hostile mention content."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpx
import pytest
from notify_receivers import (
    REPO,
    SMTP_USER,
    WEBHOOK_SECRET,
    receiver,
    slack_problems,
    smtp_receiver,
)
from notify_support import channels_config, secrets_env

from notify.config import NotificationsConfig
from notify.messages import Notification
from notify.sinks import SINKS, DeliveryError, SendContext
from notify.sinks.github import issue_body
from notify.sinks.slack import blocks_message
from notify.sinks.webhook import sign

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HOSTILE = ("<!channel> @here look <https://evil.test|click> & <script>alert(1)</script>\n"
           "@octocat #1 ~~~ [x](javascript:alert(1)) **bold**")


def note(**overrides) -> Notification:
    base = dict(kind="opened", title="[P1] Acme: new complaint ticket — @mallory",
                summary="complaint 0.91 (addressed to @acme) <b>", occurred_at=NOW.isoformat(),
                brand="Acme", priority="P1", vip=False, ticket_id="T-1",
                link="https://earful.acme.test/tickets/T-1", url="https://social.test/p/1",
                author="@mallory (<img src=x onerror=alert(1)>)", source="mastodon",
                text=HOSTILE, reach=8400, due_at="2026-11-22T13:00:00+00:00",
                id="N-test000000000000000001")
    return Notification(**{**base, **overrides})


_CLIENT = httpx.Client(timeout=10)


@pytest.fixture
def rx():
    with receiver() as server:
        yield server


def context(rx, name: str, smtp_port: int | None = None) -> SendContext:
    config = NotificationsConfig.model_validate(
        {"channels": channels_config(rx.base_url, smtp_port)})
    return SendContext(_CLIENT, name, config.channels[name], secrets_env(rx.base_url), NOW)


def test_slack_gets_a_valid_block_kit_message_with_the_mention_escaped(rx):
    SINKS["slack"].send(context(rx, "care-slack"), note())
    assert rx.problems == []
    [hit] = rx.deliveries("slack")
    message = hit.json()
    assert message["blocks"][0]["type"] == "header"
    flat = json.dumps(message)
    # Slack's control characters arrive as entities: no <!channel>, no injected link.
    assert "<!channel>" not in flat and "<https://evil.test|click>" not in flat
    assert "&lt;!channel&gt;" in flat and "&amp;" in flat
    assert "<https://social.test/p/1|Original post>" in flat


def test_slack_message_limits_hold_for_huge_content():
    huge = note(title="T" * 500, summary="S" * 5000, text="x" * 10_000, author="A" * 3000)
    assert slack_problems(blocks_message(huge)) == []


def test_slack_never_links_a_javascript_url(rx):
    SINKS["slack"].send(context(rx, "care-slack"), note(url="javascript:alert(1)",
                                                        link=None))
    flat = json.dumps(rx.deliveries("slack")[0].json())
    assert "javascript:" not in flat.replace("javascript:alert(1)) **bold**", "")
    assert rx.problems == []


def test_webhook_is_signed_over_timestamp_and_raw_body(rx):
    SINKS["webhook"].send(context(rx, "ops-hook"), note())
    assert rx.problems == []
    [hit] = rx.deliveries("webhook")
    assert hit.headers["x-earful-signature"] == sign(
        WEBHOOK_SECRET, hit.headers["x-earful-timestamp"], hit.body)
    body = hit.json()
    assert body["id"] == hit.headers["idempotency-key"] == "N-test000000000000000001"
    assert body["event"] == "opened" and body["ticket"]["text"] == HOSTILE
    assert body["alert"] is None and body["digest"] is None


@pytest.mark.parametrize("status", [301, 302, 308])
def test_a_redirected_webhook_is_not_re_sent_as_a_bodyless_get(rx, status):
    # The run's shared client follows redirects for the connectors' GETs; httpx would turn
    # a POST answered 301/302 into a GET without the payload, and the hook would be lost.
    from connectors.http import make_client

    ctx = context(rx, "ops-hook")
    rx.fail_next = [(status, {"Location": f"{rx.base_url}/moved"})]
    with make_client() as client, pytest.raises(DeliveryError) as caught:
        SINKS["webhook"].send(SendContext(client, ctx.channel_name, ctx.channel, ctx.secrets,
                                          NOW), note())
    assert [hit.method for hit in rx.hits] == ["POST"]
    assert f"HTTP {status}" in str(caught.value)
    assert caught.value.permanent == (status != 302)


def test_webhook_with_a_wrong_secret_is_refused_permanently(rx):
    ctx = context(rx, "ops-hook")
    ctx = SendContext(ctx.client, ctx.channel_name, ctx.channel,
                      {**ctx.secrets, "TEST_WEBHOOK_SECRET": "not-the-secret"}, NOW)
    with pytest.raises(DeliveryError) as caught:
        SINKS["webhook"].send(ctx, note())
    assert caught.value.permanent and "HTTP 401" in str(caught.value)
    assert rx.problems == ["webhook: bad signature"]


def test_email_goes_over_smtp_with_login_and_both_bodies(rx):
    with smtp_receiver(require_auth=True) as smtp:
        delivery = SINKS["email"].send(context(rx, "mail", smtp.port),
                                       note(title="[P1] line\r\nBcc: victim@evil.test"))
    assert smtp.logins == [SMTP_USER]
    [message] = smtp.messages
    assert smtp.envelopes == [("earful@acme.test", ["care@acme.test"])]
    # A title cannot add headers: line breaks are folded away.
    assert message["Bcc"] is None and "Bcc: victim" in message["Subject"]
    assert message["Message-ID"] == "<N-test000000000000000001.earful@acme.test>"
    assert delivery.external_id == message["Message-ID"]
    assert message["Auto-Submitted"] == "auto-generated"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "> <!channel> @here" in plain
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://social.test/p/1"' in html


def test_email_with_a_wrong_password_fails_permanently(rx):
    with smtp_receiver(require_auth=True) as smtp:
        ctx = context(rx, "mail", smtp.port)
        ctx = SendContext(ctx.client, "mail", ctx.channel,
                          {**ctx.secrets, "TEST_SMTP_PASSWORD": "wrong-password"}, NOW)
        with pytest.raises(DeliveryError) as caught:
            SINKS["email"].send(ctx, note())
    assert caught.value.permanent and smtp.messages == []
    assert "wrong-password" not in str(caught.value)


def test_email_to_a_closed_port_is_retried_not_uncertain(rx):
    from notify_receivers import free_port

    with pytest.raises(DeliveryError) as caught:
        SINKS["email"].send(context(rx, "mail", free_port()), note())
    assert not caught.value.permanent and not caught.value.ambiguous


def test_github_issue_has_documented_headers_marker_and_inert_markdown(rx):
    delivery = SINKS["github"].send(context(rx, "gh"), note())
    assert rx.problems == []
    [issue] = rx.issues
    assert delivery.external_id == "1"
    assert delivery.external_url == f"https://github.com/{REPO}/issues/1"
    body = issue["body"]
    assert "<!-- earful:N-test000000000000000001 -->" in body
    # The mention is fenced (no @octocat ping, no #1 link, no HTML); one-line fields encoded.
    assert "~~~~text\n<!channel>" in body and "\n~~~~\n" in body
    assert "&#64;mallory" in body and "<img" not in body.split("~~~~")[0]
    assert [label["name"] for label in issue["labels"]] == ["earful", "complaint"]


def test_github_fence_outlasts_tildes_in_the_text():
    body = issue_body(note(text="a\n~~~~~~\n@octocat"))
    assert "~~~~~~~text\n" in body


def test_github_find_locates_the_issue_by_its_marker(rx):
    ctx = context(rx, "gh")
    assert SINKS["github"].find(ctx, note(), NOW) is None
    SINKS["github"].send(ctx, note())
    SINKS["github"].send(ctx, note(id="N-other"))
    found = SINKS["github"].find(ctx, note(), NOW)
    assert found is not None and found.external_id == "1"


def test_github_bad_token_is_a_permanent_failure(rx):
    ctx = context(rx, "gh")
    ctx = SendContext(ctx.client, "gh", ctx.channel, {"TEST_GITHUB_TOKEN": "nope-nope"}, NOW)
    with pytest.raises(DeliveryError) as caught:
        SINKS["github"].send(ctx, note())
    assert caught.value.permanent and "401" in str(caught.value)
    assert "nope-nope" not in str(caught.value)


def test_zendesk_ticket_payload_auth_and_idempotency(rx):
    ctx = context(rx, "zd")
    first = SINKS["zendesk"].send(ctx, note())
    again = SINKS["zendesk"].send(ctx, note())  # same Idempotency-Key: same ticket
    assert rx.problems == []
    assert first == again and first.external_id == "5001"
    assert first.external_url == f"{rx.base_url}/agent/tickets/5001"
    assert len(rx.tickets) == 1
    ticket = rx.deliveries("zendesk")[0].json()["ticket"]
    assert ticket["external_id"] == "N-test000000000000000001"
    assert ticket["priority"] == "urgent" and ticket["comment"]["public"] is False
    assert {"earful", "opened", "brand_acme"} <= set(ticket["tags"])
    assert rx.deliveries("zendesk")[0].headers["idempotency-key"] == ticket["external_id"]


def test_zendesk_find_by_external_id(rx):
    ctx = context(rx, "zd")
    assert SINKS["zendesk"].find(ctx, note(), NOW) is None
    SINKS["zendesk"].send(ctx, note())
    assert SINKS["zendesk"].find(ctx, note(), NOW).external_id == "5001"


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (404, True), (500, False),
                                                   (503, False), (403, False)])
def test_http_statuses_are_classified(rx, status, permanent):
    rx.fail_next = [status]
    with pytest.raises(DeliveryError) as caught:
        SINKS["slack"].send(context(rx, "care-slack"), note())
    assert caught.value.permanent is permanent
    assert f"HTTP {status}" in str(caught.value)
    assert "XXXXsecretXXXX" not in str(caught.value)


def test_rate_limit_carries_the_retry_time(rx):
    rx.fail_next = [(429, {"Retry-After": "120"})]
    with pytest.raises(DeliveryError) as caught:
        SINKS["webhook"].send(context(rx, "ops-hook"), note())
    assert not caught.value.permanent and caught.value.retry_at is not None
    assert len(rx.hits) == 1  # no retry inside the HTTP layer: the outbox schedules it


def test_missing_secret_names_the_variable_only(rx):
    ctx = context(rx, "care-slack")
    ctx = SendContext(ctx.client, "care-slack", ctx.channel, {}, NOW)
    with pytest.raises(DeliveryError, match="TEST_SLACK_WEBHOOK_URL is not set"):
        SINKS["slack"].send(ctx, note())


def _digest(count: int) -> Notification:
    """A budget digest of `count` held tickets with realistic, long titles and links."""
    from notify.messages import digest_notification

    hour = datetime(2026, 11, 22, 11, tzinfo=UTC)
    rows = []
    for n in range(count):
        held = note(title=f"[P2] Acme: new complaint ticket — @customer_handle{n} (Customer "
                          f"Display Name {n}) (reach ≈ 84,000) & more", ticket_id=f"T-{n:020d}",
                    link=f"https://earful.acme.test/tickets/T-{n:020d}", id=f"N-{n}")
        rows.append({"id": held.id, "title": held.title, "kind": "opened", "brand": "Acme",
                     "priority": "P2", "ticket_id": held.ticket_id, "created_at": hour,
                     "payload": held.payload_json()})
    digest = digest_notification("care-slack", hour, rows, NOW)
    return Notification(**{**{k: getattr(digest, k) for k in digest.__dataclass_fields__},
                           "id": "N-digest"})


def test_slack_digest_lists_every_item_and_counts_the_rest_within_block_limits(rx):
    # 20 linked titles are longer than one section's 3,000 characters: cutting them dropped
    # the last items and the "…and N more" count, and left a link half-written.
    SINKS["slack"].send(context(rx, "care-slack"), _digest(37))
    assert rx.problems == []
    flat = json.dumps(rx.deliveries("slack")[0].json(), ensure_ascii=False)
    links = re.findall(r"<https://earful\.acme\.test/tickets/(T-\d+)\|[^>]+ &amp; more>", flat)
    assert len(set(links)) == 20
    assert "…and 17 more" in flat


def test_email_with_non_ascii_text_is_7bit_clean_on_the_wire(rx):
    # RFC 6152: 8-bit data only to a server offering 8BITMIME, with BODY=8BITMIME declared;
    # smtplib declares nothing for an ASCII envelope, so the body must be encoded instead.
    with smtp_receiver(require_auth=True) as smtp:
        SINKS["email"].send(context(rx, "mail", smtp.port),
                            note(text="Très déçu — ça ne marche pas", summary="reach ≈ 8,400"))
    [raw] = smtp.raw
    assert all(byte < 128 for byte in raw), smtp.mail_options
    [message] = smtp.messages
    assert "Très déçu — ça ne marche pas" in message.get_body(("plain",)).get_content()
    assert "reach ≈ 8,400" in message.get_body(("html",)).get_content()
    assert "—" in message["Subject"]


def test_email_greylisted_recipients_are_retried_not_given_up(rx):
    # 4xx is "try again later" (RFC 5321 §4.2.1); greylisting answers every RCPT with 450.
    with smtp_receiver(True, rcpt_reply="450 4.7.1 greylisted, try again later") as smtp, \
            pytest.raises(DeliveryError) as caught:
        SINKS["email"].send(context(rx, "mail", smtp.port), note())
    assert not caught.value.permanent and not caught.value.ambiguous
    assert "450" in str(caught.value) and smtp.messages == []


def test_email_recipients_refused_for_good_give_up(rx):
    with smtp_receiver(True, rcpt_reply="550 5.1.1 no such user") as smtp, \
            pytest.raises(DeliveryError) as caught:
        SINKS["email"].send(context(rx, "mail", smtp.port), note())
    assert caught.value.permanent and "550" in str(caught.value)


def test_url_and_token_secrets_with_a_trailing_newline_still_work(rx):
    # A secret pasted into a Prefect block or read from a file often ends in a newline: it
    # made the Slack URL invalid and the GitHub header illegal (and retried to no end).
    secrets = {k: v + "\n" for k, v in secrets_env(rx.base_url).items()}
    for name in ("care-slack", "gh", "zd"):
        ctx = context(rx, name)
        ctx = SendContext(ctx.client, name, ctx.channel, secrets, NOW)
        SINKS[ctx.channel.sink].send(ctx, note())
    assert rx.problems == []
    assert [len(rx.deliveries(k)) for k in ("slack", "github", "zendesk")] == [1, 1, 1]


def test_scrubbing_covers_httpcore_logs_and_secrets_with_whitespace(caplog):
    import logging

    from notify.redact import Scrubber, scrubbed_http_logs

    token = "ghp_secret_value_0123456789"
    scrub = Scrubber([token + "\n"])
    assert token not in scrub(f"Illegal header value b'Bearer {token}\\n'")
    caplog.set_level(logging.DEBUG)
    with scrubbed_http_logs(scrub):
        for name in ("httpcore.http11", "httpcore.connection", "httpx"):
            logging.getLogger(name).debug("send_request_headers.failed exception="
                                          "LocalProtocolError(\"Illegal header value "
                                          "b'Bearer %s\\n'\")", token)
    assert len(caplog.records) == 3 and token not in caplog.text


def test_times_in_a_notification_are_utc_whatever_the_servers_zone():
    # DuckDB hands TIMESTAMPTZ back in the machine's zone; payloads promise UTC.
    from datetime import timedelta, timezone

    from notify.messages import from_ticket_event

    new_york = timezone(timedelta(hours=-5))
    made = from_ticket_event({
        "kind": "opened", "ticket_id": "T-1", "detail": "{}", "brand": "Acme",
        "occurred_at": datetime(2026, 11, 22, 7, 5, tzinfo=new_york),
        "due_at": datetime(2026, 11, 22, 8, 5, tzinfo=new_york)}, vip=False, base_url=None)
    assert made.occurred_at == "2026-11-22T12:05:00+00:00"
    assert made.due_at == "2026-11-22T13:05:00+00:00"


def test_github_find_reads_since_in_utc_on_a_server_east_of_utc(rx):
    # The outbox's created_at comes back in the machine's zone; written with a "Z" as it
    # was, a server at UTC+3 asked GitHub for issues updated three hours in the future, found
    # none, and an interrupted send was sent again: a duplicate issue.
    from datetime import timedelta, timezone

    ctx = context(rx, "gh")
    SINKS["github"].send(ctx, note())
    sent_at = datetime.now(timezone(timedelta(hours=3))) - timedelta(minutes=1)
    found = SINKS["github"].find(ctx, note(), sent_at)
    assert found is not None and found.external_id == "1"
