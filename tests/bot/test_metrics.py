"""`/metrics` parses as Prometheus text and its counters move as the service acts."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Running
from tests.wait import eventually

PHONE = "5531999999999"


async def _samples(r: Running) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with r.request("GET", "/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_counters_move(running: Running) -> None:
    before = await _samples(running)
    assert before[("handoff_sessions", (("mode", "paused"),))] == 0
    for name in ("handoff_escalations_total", "handoff_auto_releases_total"):
        assert before[(name, ())] == 0
    await running.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "oi"})
    await running.json("POST", "/webhook/whatsapp",
                       json={"phone": PHONE, "message": "quero um atendente"})
    await running.json("POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana"})
    await running.json("POST", "/webhook/whatsapp",
                       json={"phone": PHONE, "message": "Oi!", "sender_type": "human",
                             "attendant_id": "ana"})
    await running.json("POST", f"/session/{PHONE}/release?source=cli")
    await running.json("POST", "/webhook/whatsapp", json={"phone": "5531900000000",
                                                          "message": "atendente"})
    await eventually(lambda: _lag_is(running, "metrics", 0))
    after = await _samples(running)
    assert after[("handoff_messages_total", (("mode", "agent"), ("sender", "customer")))] == 1
    assert after[("handoff_messages_total", (("mode", "paused"), ("sender", "customer")))] == 2
    assert after[("handoff_messages_total", (("mode", "human"), ("sender", "human")))] == 1
    assert after[("handoff_escalations_total", ())] == 2
    assert after[("handoff_takeovers_total", (("source", "rest"),))] == 1
    assert after[("handoff_releases_total", (("source", "cli"),))] == 1
    assert after[("handoff_time_to_claim_seconds_count", ())] == 1
    assert after[("handoff_first_reply_seconds_count", ())] == 1
    assert after[("handoff_queue_length", ())] == 1
    assert after[("handoff_webhook_seconds_count", ())] == 4
    assert after[("handoff_sessions", (("mode", "paused"),))] == 1
    assert after[("handoff_sessions", (("mode", "agent"),))] == 1
    assert after[("handoff_sessions", (("mode", "human"),))] == 0


async def test_the_event_stream_shows_its_length_and_each_groups_lag(running: Running) -> None:
    outbox = running.backend.outbox
    await outbox.prepare(["stalled"])  # a group nobody reads: the stream is held for it
    await running.json("POST", "/webhook/whatsapp", json={"phone": PHONE, "message": "atendente"})
    await running.json("POST", f"/session/{PHONE}/takeover", json={"attendant_id": "ana"})
    await eventually(lambda: _lag_is(running, "metrics", 0))
    samples = await _samples(running)
    assert samples[("handoff_outbox_lag", (("group", "stalled"),))] == 2
    assert samples[("handoff_outbox_lag", (("group", "customer"),))] == 0
    assert samples[("handoff_outbox_pending", (("group", "stalled"),))] == 0
    assert samples[("handoff_outbox_length", ())] == 2, "not trimmed while a group lags"
    shard = outbox.shard_of(PHONE)
    for envelope in await outbox.read("stalled", shard, 10, 0):
        await outbox.ack("stalled", shard, envelope.id)
    await eventually(lambda: _length_is(running, 0))


async def _lag_is(r: Running, group: str, lag: float) -> bool:
    found = (await _samples(r)).get(("handoff_outbox_lag", (("group", group),)))
    return found == lag


async def _length_is(r: Running, length: float) -> bool:
    return (await _samples(r)).get(("handoff_outbox_length", ())) == length
