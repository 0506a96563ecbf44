"""E-mail over SMTP (smtplib): STARTTLS on 587 by default, implicit TLS on 465, or plain for
a local relay. A plain-text body with an HTML alternative (escaped), a Message-ID derived from
the outbox id (the same notification is always the same message, so mail clients thread and
dedupe it), and `Auto-Submitted: auto-generated` (RFC 3834) so auto-responders stay quiet."""

from __future__ import annotations

import html
import smtplib
import ssl
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from notify.messages import Notification, safe_url, single_line
from notify.sinks.base import Delivery, DeliveryError, SendContext, Sink, require_secret

__all__ = ["SINK", "build_message"]


def _lines(note: Notification) -> list[tuple[str, str]]:
    pairs = [("Brand", note.brand), ("Priority", note.priority), ("VIP", "yes" if note.vip
                                                                    else None),
             ("Author", note.author), ("Source", note.source),
             ("Reach", f"≈ {note.reach:,}" if note.reach else None), ("Due", note.due_at),
             ("Ticket", note.link or note.ticket_id), ("Original post", note.url)]
    return [(label, str(value)) for label, value in pairs if value]


def _text_body(note: Notification) -> str:
    parts = [note.title, "", note.summary, ""]
    parts += [f"{label}: {value}" for label, value in _lines(note)]
    if note.text:
        parts += ["", *("> " + line for line in note.text.splitlines())]
    if note.items:
        parts += ["", *(f"- {item['title']}" + (f"  {item['link']}" if item.get("link") else "")
                        for item in note.items)]
        if note.more:
            parts.append(f"...and {note.more} more")
    parts += ["", f"-- earful notification {note.id}"]
    return "\n".join(parts) + "\n"


def _a(url: str | None, label: str) -> str:
    url = safe_url(url)
    text = html.escape(label)
    return f'<a href="{html.escape(url, quote=True)}">{text}</a>' if url else text


def _html_body(note: Notification) -> str:
    rows = "".join(
        f"<tr><th align=left>{html.escape(label)}</th><td>"
        f"{_a(value, value) if label in ('Ticket', 'Original post') else html.escape(value)}"
        f"</td></tr>" for label, value in _lines(note))
    quote = (f"<blockquote>{html.escape(note.text).replace(chr(10), '<br>')}</blockquote>"
             if note.text else "")
    items = "".join(f"<li>{_a(i.get('link'), i['title'])}</li>" for i in note.items)
    more = f"<li>…and {note.more} more</li>" if note.more else ""
    listing = f"<ul>{items}{more}</ul>" if items else ""
    return (f"<html><body><h2>{html.escape(note.title)}</h2><p>{html.escape(note.summary)}</p>"
            f"<table>{rows}</table>{quote}{listing}"
            f"<p><small>earful notification {html.escape(note.id)}</small></p></body></html>")


# Non-ASCII text goes quoted-printable or base64, never as raw 8-bit: RFC 6152 allows 8-bit
# data only with BODY=8BITMIME on a server offering it, and smtplib declares nothing for an
# ASCII envelope, so a strict relay could refuse or mangle the message.
_POLICY = policy.default.clone(cte_type="7bit")


def build_message(note: Notification, sender: str, to: list[str]) -> EmailMessage:
    message = EmailMessage(policy=_POLICY)
    # Headers cannot carry line breaks (a mention could try to add its own headers).
    message["Subject"] = single_line(note.title, 200)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(_aware(note.occurred_at))
    message["Message-ID"] = f"<{note.id}.earful@{sender.rsplit('@', 1)[1]}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Earful-Notification"] = note.id
    message.set_content(_text_body(note))
    message.add_alternative(_html_body(note), subtype="html")
    return message


def _aware(iso: str) -> datetime:
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        return datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _connect(ctx: SendContext) -> smtplib.SMTP:
    channel = ctx.channel
    timeout = channel.timeout.total_seconds()
    context = ssl.create_default_context()
    if channel.tls == "ssl":
        return smtplib.SMTP_SSL(channel.host, channel.effective_port, timeout=timeout,
                                context=context)
    smtp = smtplib.SMTP(channel.host, channel.effective_port, timeout=timeout)
    if channel.tls == "starttls":
        smtp.starttls(context=context)
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    # After the message was accepted nothing may fail the delivery (a retry would send it
    # again): a QUIT that goes wrong is ignored.
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def send(ctx: SendContext, note: Notification) -> Delivery:
    channel = ctx.channel
    password = (require_secret(ctx, channel.password_env, strip=False) if channel.username
                else None)
    message = build_message(note, channel.sender, channel.to)
    sending = False
    try:
        smtp = _connect(ctx)
        try:
            if channel.username:
                smtp.login(channel.username, password or "")
            sending = True
            refused = smtp.send_message(message)
        finally:
            _quit(smtp)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"{ctx.channel_name}: SMTP login refused ({exc.smtp_code})",
                            permanent=True) from None
    except smtplib.SMTPRecipientsRefused as exc:
        # Permanent only if every refusal is: a 4xx (greylisting, a full mailbox) is "try
        # again later" (RFC 5321 §4.2.1), and nothing was sent, so a retry cannot double it.
        codes = {address: code for address, (code, _) in exc.recipients.items()}
        raise DeliveryError(f"{ctx.channel_name}: every recipient refused: " + ", ".join(
            f"{address} ({code})" for address, code in sorted(codes.items())),
            permanent=all(code >= 500 for code in codes.values())) from None
    except smtplib.SMTPResponseException as exc:
        # 5xx is a permanent refusal, 4xx a temporary one (RFC 5321 §4.2.1).
        raise DeliveryError(f"{ctx.channel_name}: SMTP {exc.smtp_code} "
                            f"{_reply(exc.smtp_error)}",
                            permanent=exc.smtp_code >= 500) from None
    except (smtplib.SMTPException, OSError) as exc:
        # Cut off while the message was going out: the server may have queued it.
        raise DeliveryError(f"{ctx.channel_name}: SMTP {type(exc).__name__}: {exc}",
                            ambiguous=sending) from None
    if refused:
        # Accepted for some recipients: it was sent, and sending again would duplicate it for
        # the others. The refusals are kept on the row.
        return Delivery(external_id=message["Message-ID"],
                        warning="recipients refused: " + ", ".join(sorted(refused)))
    return Delivery(external_id=message["Message-ID"])


def _reply(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return single_line(text, 200)


SINK = Sink("email", send)
