"""Faults with real processes: Redis down or restarted, the service killed mid-traffic."""

from __future__ import annotations

import concurrent.futures
import json
import time
from collections.abc import Iterator

import pytest

from tests.live_service import LiveService
from tests.redis_server import RedisServer


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of this test's own (with AOF), free to stop and restart."""
    server = RedisServer(appendonly=True)
    server.start()
    yield server
    server.cleanup()


def post(svc: LiveService, phone: str, text: str, message_id: str,
         timeout: float = 10) -> int:
    body = json.dumps({"phone": phone, "message": text, "message_id": message_id}).encode()
    try:
        status, answer = svc.request("POST", "/webhook/whatsapp", body,
                                     {"Content-Type": "application/json"}, timeout=timeout)
    except OSError:
        return 0
    if status == 200 and answer["reason"] == "duplicate":
        return 208
    return status


def wait_for(check: object, within: float) -> float:
    """Seconds until `check()` held; fails past `within`."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if check():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not within {within}s")


def test_redis_down_is_503_fast_then_recovers(own_redis: RedisServer) -> None:
    svc = LiveService(REDIS_URL=own_redis.url)
    svc.start()
    try:
        assert post(svc, "5531999999999", "oi", "m1") == 200
        own_redis.stop()
        for _ in range(3):
            started = time.monotonic()
            assert post(svc, "5531999999999", "oi de novo", "m2") == 503
            assert svc.request("GET", "/healthz") == (503, {
                "status": "unavailable", "store": "redis",
                "error": "Armazenamento indisponível; tente novamente."})
            assert svc.request("GET", "/sessions/active")[0] == 503
            assert time.monotonic() - started < 5, "no hang while Redis is down"
        own_redis.start()
        wait_for(lambda: svc.request("GET", "/healthz")[0] == 200, within=5)
        assert post(svc, "5531999999999", "oi de novo", "m2") == 200
        status, session = svc.request("GET", "/session/5531999999999/status")
        assert status == 200 and session["last_customer_text"] == "oi de novo"
    finally:
        svc.stop()


def _traffic(svc: LiveService, phones: int, per_phone: int, during: object) -> dict[str, str]:
    """Send messages from several phones while `during()` breaks something, retrying each with
    its id until it is accepted, as Meta and relays do. Each message must be processed (a 200)
    at most once — a retry after a lost answer is a duplicate — and be accepted in the end.
    Returns phone -> the last text sent."""
    processed: dict[str, int] = {}

    def run(phone: str) -> None:
        for n in range(per_phone):
            key, deadline = f"{phone}-{n}", time.monotonic() + 30
            while True:
                status = post(svc, phone, f"msg {n}", key, timeout=5)
                processed[key] = processed.get(key, 0) + (status == 200)
                if status in (200, 208):
                    break
                assert time.monotonic() < deadline, "message never accepted"
                time.sleep(0.05)

    all_phones = [f"55319{i:08d}" for i in range(phones)]
    with concurrent.futures.ThreadPoolExecutor(phones + 1) as pool:
        futures = [pool.submit(run, p) for p in all_phones]
        during()  # type: ignore[operator]
        for f in futures:
            f.result()
    assert len(processed) == phones * per_phone
    assert max(processed.values()) == 1, "a message was processed twice"
    return {p: f"msg {per_phone - 1}" for p in all_phones}


def _check(svc: LiveService, expected: dict[str, str]) -> None:
    for phone, text in expected.items():
        status, session = svc.request("GET", f"/session/{phone}/status")
        assert status == 200, phone
        assert session["last_customer_text"] == text
        assert post(svc, phone, "msg 0", f"{phone}-0") == 208


def test_redis_restart_under_traffic_loses_nothing(own_redis: RedisServer) -> None:
    svc = LiveService(REDIS_URL=own_redis.url)
    svc.start()
    try:
        def restart() -> None:
            time.sleep(0.5)
            own_redis.stop()
            time.sleep(0.5)
            own_redis.start()
            wait_for(lambda: svc.request("GET", "/healthz")[0] == 200, within=5)

        expected = _traffic(svc, phones=8, per_phone=15, during=restart)
        svc.stop()
        svc.start()
        _check(svc, expected)
    finally:
        svc.stop()


def test_sigkill_mid_traffic_loses_nothing(own_redis: RedisServer) -> None:
    svc = LiveService(REDIS_URL=own_redis.url)
    svc.start()
    try:
        def kill_and_restart() -> None:
            time.sleep(0.5)
            svc.kill()
            svc.start()

        expected = _traffic(svc, phones=8, per_phone=15, during=kill_and_restart)
        _check(svc, expected)
    finally:
        svc.stop()
