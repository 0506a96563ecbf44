from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.base import Mention
from sentiment.vader import score
from sql.rows import batch_tables
from sql.store import Store
from triage.brands import BrandMatch
from triage.reach import Reach
from triage.scored import ScoredMention
from triage.spikes import BrandActivity, detect_spikes

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def mentions_at(times: list[datetime], text: str, start: int = 0) -> list[ScoredMention]:
    return [ScoredMention(
        Mention(source="test", external_id=f"{start + i}", url=None, title=None, text=text,
                published_at=at),
        "src", (BrandMatch("Acme", ("acme",)),), score(text), Reach(0, 0, 0, "unknown"))
        for i, at in enumerate(times)]


def quiet_baseline(hours: int = 48, per_hour: int = 3) -> list[datetime]:
    return [NOW - timedelta(hours=h, minutes=10 * k) for h in range(2, hours)
            for k in range(per_hour)]


def test_a_burst_after_a_quiet_baseline_raises_exactly_one_alert(tmp_path):
    from earful.cycle import raise_spike_alerts

    store = Store(tmp_path / "s.duckdb")
    calm = mentions_at(quiet_baseline(), "Acme opened a new store")
    burst = mentions_at([NOW - timedelta(minutes=m % 55 + 1) for m in range(60)],
                        "Acme is down again, terrible", start=10_000)
    store.write_batch(batch_tables(calm + burst, [], NOW))

    first = raise_spike_alerts(store, NOW)
    assert len([a for a in first if "mentions in the last hour" in a]) == 1
    assert any("negative" in a for a in first)  # the burst is also all negative
    assert raise_spike_alerts(store, NOW) == []  # rerun of the same hour: nothing new
    later = mentions_at([NOW + timedelta(minutes=m % 55 + 1) for m in range(60)],
                        "Acme is down again, terrible", start=20_000)
    store.write_batch(batch_tables(later, [], NOW + timedelta(hours=1)))
    assert raise_spike_alerts(store, NOW + timedelta(hours=1)) == []  # cooldown: same spike
    assert store.count("alerts") == len(first)


def test_no_alert_during_warm_up_or_for_normal_volume():
    new_brand = BrandActivity("Acme", 80, 10, 20, 2, baseline_hours=5)
    assert detect_spikes(new_brand, NOW) == []  # too little history
    normal = BrandActivity("Acme", 6, 1, 7 * 24 * 5, 100, baseline_hours=7 * 24)
    assert detect_spikes(normal, NOW) == []
    tiny = BrandActivity("Acme", 3, 0, 20, 0, baseline_hours=100)  # 0.2/h → 3 is not a spike
    assert detect_spikes(tiny, NOW) == []


def test_alert_after_cooldown_is_a_new_spike():
    busy = BrandActivity("Acme", 90, 5, 7 * 24 * 5, 100, baseline_hours=7 * 24,
                         last_volume_alert=NOW - timedelta(hours=7))
    (alert,) = detect_spikes(busy, NOW)
    assert alert.kind == "volume" and alert.observed == 90
    assert "90 mentions in the last hour" in alert.message
