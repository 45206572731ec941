"""`/metrics` parses as Prometheus text and its counters move as the service acts."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Running

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
    after = await _samples(running)
    assert after[("handoff_messages_total", (("mode", "agent"), ("sender", "customer")))] == 1
    assert after[("handoff_messages_total", (("mode", "paused"), ("sender", "customer")))] == 2
    assert after[("handoff_messages_total", (("mode", "human"), ("sender", "human")))] == 1
    assert after[("handoff_escalations_total", ())] == 2
    assert after[("handoff_takeovers_total", (("source", "rest"),))] == 1
    assert after[("handoff_releases_total", (("source", "cli"),))] == 1
    assert after[("handoff_time_to_claim_seconds_count", ())] == 1
    assert after[("handoff_webhook_seconds_count", ())] == 4
    assert after[("handoff_sessions", (("mode", "paused"),))] == 1
    assert after[("handoff_sessions", (("mode", "agent"),))] == 1
    assert after[("handoff_sessions", (("mode", "human"),))] == 0
