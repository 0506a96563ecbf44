from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from conftest import FIXTURES, make_settings
from connectors.base import SourceSpec, SourceState
from connectors.errors import FatalError, RetriableError
from connectors.http import make_client
from connectors.rss import fetch, parse_feed, unwrap_google_link
from earful.cycle import fetch_source
from earful.fixtureserver import FixtureServer, Route


def _parse(name: str, url: str = "http://feeds.test/feeds/x.xml"):
    return parse_feed((FIXTURES / "rss" / name).read_bytes(), feed_url=url,
                      headers={"content-type": "application/xml"})


def test_rss2_entries_become_mentions_with_stable_ids():
    mentions, errors = _parse("rss2.xml")
    assert errors == []
    ids = [m.external_id for m in mentions]
    assert ids[0] == "http://liftoff.example/news/2026/acme-fail"
    assert ids[1] == "http://feeds.test/feeds/x.xml#item-2"  # bare guid scoped to its feed
    assert ids[2] == "http://liftoff.example/news/2026/weather"  # no guid: the link
    assert ids[3].startswith("http://feeds.test/feeds/x.xml#sha256:")  # neither: a hash
    assert [m.external_id for m in _parse("rss2.xml")[0]] == ids  # stable across polls
    assert len({m.id for m in mentions}) == 4


def test_rss2_text_is_plain_and_links_resolved():
    first, second, *_ = _parse("rss2.xml")[0]
    assert first.text == "Another Acme launch failed. Customers are furious & want refunds."
    assert "alert" not in first.text and "<" not in first.text
    assert first.author.name == "Jane Editor"  # "e-mail (Name)": the e-mail is dropped
    assert second.url == "http://feeds.test/news/2026/acme-engine"
    assert second.author.name == "Bob Writer"
    assert first.lang == "en"


def test_timestamps_are_aware_utc():
    mentions, _ = _parse("rss2.xml")
    assert mentions[0].published_at == datetime(2026, 11, 10, 7, 39, 21, tzinfo=UTC)
    atom, _ = _parse("atom.xml")
    assert atom[0].published_at == datetime(2026, 11, 10, 12, 29, 29, tzinfo=UTC)
    assert atom[1].published_at == datetime(2026, 11, 9, 10, 0, tzinfo=UTC)  # updated only
    assert all(m.published_at.utcoffset() == timedelta(0) for m in mentions + atom)


def test_atom_xml_base_and_xhtml_content():
    entry = _parse("atom.xml")[0][0]
    assert entry.url == "http://atom.example/blog/2026/11/10/draft-07"
    assert entry.text == "[Update: The Atom draft is finished.] Acme support was great."
    assert entry.author.name == "Mark Pilgrim"
    assert entry.external_id == "tag:atom.example,2026:3.2397"


def test_google_alerts_links_unwrapped_and_highlights_removed():
    (entry,), _ = _parse("google-alerts.xml")
    assert entry.url == "https://news.example/acme-recall?ref=rss"
    assert entry.title == "Acme recalls faulty anvils after customer injuries"
    assert entry.text == "Angry Acme customers call the recall of 10,000 broken anvils a disaster."
    assert unwrap_google_link("https://example.com/url?url=https://x.test") == \
        "https://example.com/url?url=https://x.test"


@pytest.mark.parametrize("name", ["not-a-feed.html", "truncated.xml"])
def test_malformed_feed_raises_fatal(name):
    with pytest.raises(FatalError, match="malformed feed"):
        _parse(name)


def test_crafted_long_author_is_cut_before_parsing():
    author = "a" * 30_000 + "@" + "b" * 30_000
    body = (f"<rss version='2.0'><channel><title>t</title><item><title>Acme</title>"
            f"<author>{author}</author><guid>urn:x:1</guid></item></channel></rss>").encode()
    (mention,), _ = parse_feed(body, feed_url="http://feeds.test/a.xml")
    assert mention.author.name is None or len(mention.author.name) <= 512


def _spec(url: str) -> SourceSpec:
    return SourceSpec(name="feed", kind="rss", url=url)


def test_conditional_get_round_trip(rss_server):
    url = rss_server.url("/feeds/rss2.xml")
    with make_client() as client:
        first = fetch(client, _spec(url), SourceState("feed"))
        assert len(first.mentions) == 4 and not first.not_modified
        assert first.state.etag and first.state.last_modified
        second = fetch(client, _spec(url), first.state)
    assert second.not_modified and second.mentions == []
    sent = rss_server.hits("/feeds/rss2.xml")[-1]
    assert sent["if-none-match"] == first.state.etag
    assert sent["if-modified-since"] == first.state.last_modified


def test_last_modified_alone_gives_304(rss_server):
    url = rss_server.url("/feeds/atom.xml")
    state = SourceState("feed", last_modified="Sun, 22 Nov 2026 00:00:00 GMT")
    with make_client() as client:
        result = fetch(client, _spec(url), state)
    assert result.not_modified


def test_changed_feed_is_fetched_again(rss_server):
    url = rss_server.url("/feeds/rss2.xml")
    with make_client() as client:
        first = fetch(client, _spec(url), SourceState("feed"))
        rss_server.routes["/feeds/rss2.xml"] = Route(
            (FIXTURES / "rss" / "atom.xml").read_bytes())
        second = fetch(client, _spec(url), first.state)
    assert not second.not_modified and len(second.mentions) == 2
    assert second.state.etag != first.state.etag


def test_malformed_feed_recorded_on_state_with_backoff(tmp_path, rss_server):
    settings = make_settings(tmp_path, [
        {"name": "bad", "kind": "rss", "url": rss_server.url("/feeds/not-a-feed.html"),
         "poll_interval": "10m"}])
    source = settings.sources[0]
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    with make_client() as client:
        first = fetch_source(client, source, SourceState("bad"), settings, now=now)
        second = fetch_source(client, source, first.state, settings, now=now)
    assert first.status == "error" and "malformed feed" in first.message
    assert first.state.error_count == 1 and "malformed feed" in first.state.last_error
    assert first.state.next_check_at == now + timedelta(minutes=10)
    assert second.state.error_count == 2
    assert second.state.next_check_at == now + timedelta(minutes=20)  # backs off


def test_http_errors_are_typed(monkeypatch):
    monkeypatch.setattr("connectors.http.RETRY_BACKOFF_S", 0.0)
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response({"/gone": 404, "/boom": 503}[request.url.path])

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(FatalError, match="404"):
        fetch(client, _spec("http://feeds.test/gone"), SourceState("feed"))
    with pytest.raises(RetriableError, match="503"):
        fetch(client, _spec("http://feeds.test/boom"), SourceState("feed"))
    assert calls.count("/boom") == 3  # two bounded retries, then the error


def test_oversized_body_is_refused():
    server = FixtureServer({"/big.xml": Route(b"<rss>" + b" " * 5000 + b"</rss>")}).start()
    try:
        spec = SourceSpec(name="feed", kind="rss", url=server.url("/big.xml"), max_bytes=1000)
        with make_client() as client, pytest.raises(FatalError, match="byte cap"):
            fetch(client, spec, SourceState("feed"))
    finally:
        server.stop()


# --- YouTube channel feeds: Media RSS statistics as engagement ---------------------------

YOUTUBE_FEED = "https://www.youtube.com/feeds/videos.xml?channel_id=UCq7ExampleGadgetRevw01"
CHANNEL = "UCq7ExampleGadgetRevw01"


def test_youtube_channel_feed_fills_views_and_likes():
    (outage, archive, live), errors = _parse("youtube-channel.xml", YOUTUBE_FEED)
    assert errors == []
    assert outage.external_id == "yt:video:aCm3Outag3x"
    assert outage.url == "https://www.youtube.com/watch?v=aCm3Outag3x"
    assert outage.title == "Acme Cloud went down for 9 hours — is it still worth it?"
    assert outage.text.startswith("Our whole studio runs on Acme Cloud")
    assert "9 hours & support never answered" in outage.text  # entity decoded, plain text
    assert outage.published_at == datetime(2026, 11, 20, 16, 0, 7, tzinfo=UTC)
    # <media:statistics views="48213"/>, <media:starRating count="1290" average="5.00" max="5">
    assert outage.engagement.views == 48213
    assert outage.engagement.likes == 1290
    assert outage.author.id == CHANNEL
    assert outage.author.name == "Gadget Bench (example)"
    assert outage.author.url == f"https://www.youtube.com/channel/{CHANNEL}"
    # average 4.37 of 5: the count mixes likes and dislikes, so likes stay unknown.
    assert archive.engagement.views == 7020 and archive.engagement.likes is None
    # No media:community (a live stream just scheduled): nothing is invented.
    assert live.engagement.views is None and live.engagement.likes is None
    assert live.text == "" and live.title == "Live: unboxing the Acme Anvil Pro"


def test_youtube_views_are_the_reach_of_the_video():
    from triage.reach import estimate_reach

    outage = _parse("youtube-channel.xml", YOUTUBE_FEED)[0][0]
    reach = estimate_reach(outage)
    assert reach.expected == 48213 and reach.method == "views"


def test_media_engagement_reads_only_what_is_there():
    from connectors.rss import media_engagement

    assert media_engagement({}).views is None
    assert media_engagement({"media_statistics": {"views": "1,234"}}).views == 1234
    assert media_engagement({"media_statistics": {"views": "lots"}}).views is None
    assert media_engagement({"media_statistics": {"views": "-3"}}).views is None
    assert media_engagement({"media_statistics": "views"}).views is None  # wrong type
    top = {"count": "12", "average": "5.00", "min": "1", "max": "5"}
    assert media_engagement({"media_starrating": top}).likes == 12
    assert media_engagement({"media_starrating": {**top, "average": "4.9"}}).likes is None
    assert media_engagement({"media_starrating": {"count": "12"}}).likes is None  # no scale


def test_youtube_channel_of_the_brand_is_own():
    body = (FIXTURES / "rss" / "youtube-channel.xml").read_bytes()
    by_url, _ = parse_feed(body, feed_url=YOUTUBE_FEED, own_handles=frozenset(
        {f"https://www.youtube.com/channel/{CHANNEL.lower()}"}))
    by_id, _ = parse_feed(body, feed_url=YOUTUBE_FEED,
                          own_handles=frozenset({CHANNEL.lower()}))
    others, _ = parse_feed(body, feed_url=YOUTUBE_FEED, own_handles=frozenset({"acme"}))
    assert all(m.is_own for m in by_url + by_id)
    assert not any(m.is_own for m in others)


def test_youtube_channel_feed_through_fetch(rss_server):
    url = rss_server.url("/feeds/youtube-channel.xml")
    spec = SourceSpec(name="tube", kind="rss", url=url,
                      own_handles=frozenset({CHANNEL.lower()}))
    with make_client() as client:
        result = fetch(client, spec, SourceState("tube"))
    assert [m.engagement.views for m in result.mentions] == [48213, 7020, None]
    assert all(m.source == "rss" and m.is_own for m in result.mentions)
    assert result.state.etag  # conditional GET works for channel feeds like any feed


# --- items "complete in themselves", localised dates, mislabelled feeds -----------------


def test_description_only_items_are_each_kept():
    # RSS 2.0: title, link and guid may all be omitted when the description is the text.
    (supply, support, plant), errors = _parse("description-only.xml")
    assert errors == []
    assert supply.title is None and supply.url is None
    assert supply.text == "Acme liefert wieder: die Ambosse sind zurück im Lager."
    assert support.text == "Der Acme-Kundendienst antwortet seit einer Woche nicht."
    # Neither has a date: the text alone tells them apart, and stays stable across polls.
    ids = [m.external_id for m in (supply, support, plant)]
    assert len(set(ids)) == 3
    assert all(i.startswith("http://feeds.test/feeds/x.xml#sha256:") for i in ids)
    assert [m.external_id for m in _parse("description-only.xml")[0]] == ids
    assert supply.lang == "de"


def test_localised_weekday_in_pub_date_is_still_read():
    plant = _parse("description-only.xml")[0][2]
    # "Di, 10 Nov 2026 09:39:21 +0100": the German weekday is dropped, the date kept.
    assert plant.published_at == datetime(2026, 11, 10, 8, 39, 21, tzinfo=UTC)


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/xml",
                                          "text/plain"])
def test_empty_feed_served_with_a_wrong_media_type_is_not_an_error(content_type):
    body = (FIXTURES / "rss" / "empty.xml").read_bytes()
    mentions, errors = parse_feed(body, feed_url="http://feeds.test/empty.xml",
                                  headers={"content-type": content_type})
    assert mentions == [] and errors == []
    server = FixtureServer({"/empty.xml": Route(body, content_type=content_type)}).start()
    try:
        with make_client() as client:
            result = fetch(client, _spec(server.url("/empty.xml")), SourceState("feed"))
    finally:
        server.stop()
    assert result.mentions == [] and result.item_errors == [] and result.state.etag


def test_feed_in_windows_1252_declared_utf8_keeps_its_entries():
    # A server that says utf-8 for a windows-1252 body: feedparser decodes it anyway.
    body = ('<rss version="2.0"><channel><title>t</title><item><title>Acme café</title>'
            '<guid>urn:x:1</guid></item></channel></rss>').encode("cp1252")
    (mention,), errors = parse_feed(body, feed_url="http://feeds.test/a.xml",
                                    headers={"content-type": "application/rss+xml; "
                                             "charset=utf-8"})
    assert errors == [] and mention.title == "Acme café"
