"""Delivering the outbox, exactly once.

Each run: (1) resolve rows a crashed run left 'sending'; (2) roll the notifications a budget
held during a finished hour into one digest per channel; (3) apply each channel's hourly
budget (VIP tickets pass); (4) send what is due, one row at a time: claim it ('sending',
committed), send, then mark it 'sent' or record the failure and the next attempt (backoff).

Why one row at a time: the claim must be committed before the request goes out and the mark
right after it, or a crash could resend (or lose) a whole batch. Each is a short
transaction, so other writers never wait on a slow receiver.

How a send interrupted by a crash (or a lost answer) is resolved, per receiver:
- GitHub, Zendesk: asked. The issue carries a marker with the outbox id, the Zendesk ticket
  has it as external_id (and the request an Idempotency-Key): found, it is recorded as sent;
  not found, it is sent again.
- Slack, webhook, e-mail: they cannot be asked, so the row becomes 'uncertain' and is never
  sent again (a notification may be missing, never doubled); the ticket's event log says so
  and `earful notify status` lists it for a person to check."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from earful.secrets import resolve_secrets
from notify.messages import Notification, digest_notification
from notify.outbox import outbox_row, outbox_rows_table
from notify.redact import Scrubber, scrubbed_http_logs
from notify.sinks import SINKS, Delivery, DeliveryError, SendContext
from sql.store import Store, dict_rows, load_query

__all__ = ["DeliverySummary", "backoff", "deliver_pending", "hour_start"]

log = logging.getLogger("earful.notify")


@dataclass(slots=True)
class DeliverySummary:
    sent: int = 0
    retrying: int = 0  # failed this time, will be tried again
    failed: int = 0  # gave up (permanent error or attempts spent)
    held: int = 0  # over a channel's budget, waiting for the hour's digest
    digests: int = 0  # digest messages created
    uncertain: int = 0  # interrupted sends that cannot be checked: not resent
    recovered: int = 0  # interrupted sends found at the receiver: recorded, not resent

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def backoff(config: Any, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: retry_backoff, doubled each time, capped.
    Doubled step by step, stopping at the cap: retry_backoff * 2**(attempts - 1) overflows
    timedelta from about the 42nd attempt, and max_attempts may be up to 50."""
    wait = config.retry_backoff
    for _ in range(max(attempts - 1, 0)):
        if wait >= config.max_backoff:
            break
        wait *= 2
    return min(wait, config.max_backoff)


def hour_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class _Run:
    """One delivery run: its config, client, secrets and counters."""

    def __init__(self, store: Store, settings: Any, client: httpx.Client, now: datetime,
                 secrets: dict[str, str]):
        self.store = store
        self.config = settings.notifications
        self.client = client
        self.now = now
        self.secrets = secrets
        self.scrub = Scrubber(secrets.values())
        self.summary = DeliverySummary()
        # Rows a receiver just said it does not have: no need to ask again before sending.
        self.known_absent: set[str] = set()

    def context(self, channel_name: str) -> SendContext | None:
        channel = self.config.channels.get(channel_name)
        if channel is None or not channel.enabled:
            return None
        return SendContext(self.client, channel_name, channel, self.secrets, self.now)

    # -- writes ---------------------------------------------------------------------------

    def _ticket_event(self, con: Any, row: dict[str, Any], action: str,
                      detail: dict[str, Any]) -> None:
        if not row.get("ticket_id"):
            return
        con.execute(load_query("notify_insert_ticket_event"), {
            "id": f"E-{row['ticket_id']}-{action}-{row['id']}", "ticket_id": row["ticket_id"],
            "now": self.now, "action": action,
            "detail": json.dumps({"notification": row["id"], "channel": row["channel"],
                                  "sink": row["sink"], **detail}, default=str)})

    def mark_sent(self, row: dict[str, Any], delivery: Delivery) -> None:
        with self.store.transaction() as con:
            con.execute(load_query("notify_mark_sent"), {
                "id": row["id"], "now": self.now, "external_id": delivery.external_id,
                "external_url": delivery.external_url,
                "warning": self.scrub(delivery.warning) if delivery.warning else None})

    def mark_uncertain(self, row: dict[str, Any], why: str) -> None:
        error = self.scrub(why)
        with self.store.transaction() as con:
            con.execute(load_query("notify_mark_uncertain"),
                        {"id": row["id"], "now": self.now, "error": error})
            self._ticket_event(con, row, "notify_uncertain", {"error": error})
        self.summary.uncertain += 1
        log.warning("notify: %s to %s may not have arrived and is not resent: %s",
                    row["id"], row["channel"], error,
                    extra={"notification": row["id"], "channel": row["channel"]})

    def mark_failed(self, row: dict[str, Any], attempts: int, exc: DeliveryError) -> None:
        error = self.scrub(exc)
        final = exc.permanent or attempts >= self.config.max_attempts
        next_at = (None if final
                   else max(self.now + backoff(self.config, attempts), exc.retry_at or self.now))
        with self.store.transaction() as con:
            con.execute(load_query("notify_mark_failed"), {
                "id": row["id"], "now": self.now, "status": "failed" if final else "pending",
                "error": error, "next_attempt_at": next_at})
            # The first failure shows on the ticket at once; giving up shows again.
            self._ticket_event(con, row, "notify_failed" if final else "notify_retrying", {
                "attempts": attempts, "error": error, "next_attempt_at": next_at})
        if final:
            self.summary.failed += 1
        else:
            self.summary.retrying += 1
        log.warning("notify: %s to %s failed (attempt %d%s): %s", row["id"], row["channel"],
                    attempts, ", giving up" if final else f", next at {next_at:%H:%M:%S}",
                    error, extra={"notification": row["id"], "channel": row["channel"],
                                  "attempts": attempts})

    # -- steps ----------------------------------------------------------------------------

    def reconcile_interrupted(self) -> None:
        cutoff = self.now - self.config.sending_lease
        for row in self.store.query("notify_interrupted", {"cutoff": cutoff}):
            ctx = self.context(row["channel"])
            sink = SINKS.get(row["sink"])
            if ctx is None or sink is None or sink.find is None or ctx.channel.sink != row["sink"]:
                self.mark_uncertain(row, f"interrupted while sending at {row['sending_at']}; "
                                         f"{row['sink']} cannot be asked whether it arrived")
                continue
            try:
                found = sink.find(ctx, Notification.from_row(row), row["created_at"])
            except DeliveryError as exc:
                log.warning("notify: cannot check interrupted %s yet: %s", row["id"],
                            self.scrub(exc), extra={"notification": row["id"]})
                continue
            if found is not None:
                self.mark_sent(row, found)
                self.summary.recovered += 1
            else:
                with self.store.transaction() as con:
                    con.execute(load_query("notify_release"), {"id": row["id"], "now": self.now})
                self.known_absent.add(row["id"])

    def roll_digests(self) -> None:
        """One digest per channel and finished hour for the rows its budget held. Read and
        written in one transaction, so no other run holds or carries rows in between. The
        digest's key names the rows it carries: rows an overlapping run held late for an
        hour whose digest already went out get a digest of their own (with the hour's key
        alone, the insert was skipped and they were marked carried by one that never listed
        them, so nobody heard of them)."""
        with self.store.transaction() as con:
            groups: dict[tuple[str, datetime], list[dict[str, Any]]] = defaultdict(list)
            for row in dict_rows(con.execute(load_query("notify_held_closed"),
                                             {"hour": hour_start(self.now)})):
                groups[(row["channel"], row["held_hour"])].append(row)
            digests, carried = [], []
            for (channel, hour), rows in groups.items():
                ctx = self.context(channel)
                if ctx is None:
                    continue
                ids = sorted(r["id"] for r in rows)
                rows_key = hashlib.sha256("\x1f".join(ids).encode()).hexdigest()[:12]
                utc_hour = hour.astimezone(UTC)
                note = digest_notification(channel, utc_hour, rows, self.now)
                digests.append(outbox_row(channel, ctx.channel.sink, "digest",
                                          f"{channel}@{utc_hour.isoformat()}/{rows_key}", note,
                                          self.now))
                carried.append((digests[-1]["id"], ids))
            if not digests:
                return
            con.register("batch_outbox", outbox_rows_table(digests))
            try:
                con.execute(load_query("notify_insert_outbox"))
            finally:
                con.unregister("batch_outbox")
            for digest_id, ids in carried:
                con.execute(load_query("notify_mark_digested"),
                            {"digest_id": digest_id, "ids": ids, "now": self.now})
        self.summary.digests += len(digests)

    def apply_budget(self) -> list[dict[str, Any]]:
        """The due rows to send now; the rows over their channel's hourly budget are held.
        VIP tickets and digests are never held (VIP sends still use the budget up)."""
        hour = hour_start(self.now)
        spent = {r["channel"]: r["spent"]
                 for r in self.store.query("notify_sent_this_hour", {"hour": hour})}
        to_send, to_hold = [], []
        for row in self.store.query("notify_due", {"now": self.now}):
            ctx = self.context(row["channel"])
            if ctx is None:
                continue  # channel removed or disabled: its rows wait, untouched
            limit = ctx.channel.max_per_hour
            exempt = row["kind"] == "digest" or row["vip"] or limit is None
            if not exempt and spent.get(row["channel"], 0) >= limit:
                to_hold.append(row["id"])
                continue
            if len(to_send) >= self.config.batch_limit:
                break
            to_send.append(row)
            if row["kind"] != "digest":
                spent[row["channel"]] = spent.get(row["channel"], 0) + 1
        if to_hold:
            with self.store.transaction() as con:
                con.execute(load_query("notify_hold"),
                            {"ids": to_hold, "hour": hour, "now": self.now})
            self.summary.held += len(to_hold)
        return to_send

    def deliver(self, row: dict[str, Any]) -> None:
        ctx = self.context(row["channel"])
        if ctx is None:
            return
        sink = SINKS[ctx.channel.sink]
        with self.store.transaction() as con:
            claimed = con.execute(load_query("notify_claim"),
                                  {"id": row["id"], "now": self.now}).fetchall()
        if not claimed:
            return  # another run took it
        attempts = int(claimed[0][1])
        note = Notification.from_row(row)
        try:
            delivery = None
            if attempts > 1 and sink.find is not None and row["id"] not in self.known_absent:
                # An earlier attempt may have gone through with its answer lost: ask first.
                delivery = sink.find(ctx, note, row["created_at"])
                if delivery is not None:
                    self.summary.recovered += 1
            if delivery is None:
                delivery = sink.send(ctx, note)
        except DeliveryError as exc:
            if exc.ambiguous and sink.find is None:
                self.mark_uncertain(row, f"{exc} (the request went out; the answer was lost)")
            else:
                self.mark_failed(row, attempts, exc)
            return
        except Exception as exc:
            # A bug in a sink must not stop the other notifications: it counts as a failure.
            # No traceback in the log: its frames could hold a secret.
            log.error("notify: unexpected %s sending %s: %s", type(exc).__name__, row["id"],
                      self.scrub(exc))
            self.mark_failed(row, attempts, DeliveryError(
                f"{row['channel']}: unexpected {type(exc).__name__}: {exc}"))
            return
        self.mark_sent(row, delivery)
        self.summary.sent += 1


def deliver_pending(store: Store, settings: Any, client: httpx.Client, now: datetime, *,
                    use_prefect_secrets: bool = False) -> dict[str, int]:
    """Send what the outbox has due (see the module docstring); returns the run's counts."""
    config = settings.notifications
    if not config.enabled or not config.channels:
        return DeliverySummary().as_dict()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    names = sorted({n for c in config.channels.values() for n in c.secret_names()})
    run = _Run(store, settings, client, now,
               resolve_secrets(names, use_prefect=use_prefect_secrets))
    with scrubbed_http_logs(run.scrub):
        run.reconcile_interrupted()
        run.roll_digests()
        for row in run.apply_budget():
            run.deliver(row)
    summary = run.summary.as_dict()
    if any(summary.values()):
        log.info("notify: %s", ", ".join(f"{k}={v}" for k, v in summary.items() if v),
                 extra=summary)
    return summary
