"""The floor for `bench/webhook.py`: a bare aiohttp route that makes one Redis EVALSHA.

`python bench/floor.py --port P --redis-url redis://127.0.0.1:R/0` serves `POST /` (any path):
read the JSON body, run one EVALSHA of a trivial Lua script through `redis.asyncio` (the same
client library and options style the service uses), answer a small JSON. No access log, no
middleware, nothing else: this is what one HTTP request plus one Redis round trip costs here.

With `--signing-secret S` it also serves `POST /slack/events` the least a Slack ack can cost:
read the raw body, check Slack's `v0` signature (HMAC-SHA256 over `v0:{timestamp}:{body}`, at
most five minutes old) and make one Redis round trip (`SET … NX PX`, like the service's
delivery claim), then answer an empty 200; 401 when the signature is wrong.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import time

import redis.asyncio as aioredis
from aiohttp import web

TRIVIAL = "return ARGV[1]"


def create_app(redis_url: str, signing_secret: str | None = None) -> web.Application:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    script = client.register_script(TRIVIAL)

    async def handle(request: web.Request) -> web.Response:
        data = await request.json()
        echoed = await script(keys=[], args=[str(data.get("phone", ""))])
        return web.json_response({"ok": True, "phone": echoed})

    async def slack(request: web.Request) -> web.Response:
        raw = await request.read()
        ts = request.headers.get("X-Slack-Request-Timestamp", "")
        given = request.headers.get("X-Slack-Signature", "")
        assert signing_secret is not None
        mac = hmac.new(signing_secret.encode(), b"v0:" + ts.encode() + b":" + raw,
                       hashlib.sha256).hexdigest()
        if not ts.isdigit() or abs(time.time() - int(ts)) > 300 or \
                not hmac.compare_digest("v0=" + mac, given):
            return web.Response(status=401)
        await client.set(f"floor:slack:{mac[:24]}", "1", nx=True, px=3_600_000)
        return web.Response(status=200)

    async def close(_app: web.Application) -> None:
        await client.aclose()

    app = web.Application()
    if signing_secret:
        app.router.add_post("/slack/events", slack)
    app.router.add_post("/{tail:.*}", handle)
    app.on_cleanup.append(close)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="bare aiohttp + one EVALSHA")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--signing-secret", help="also serve a signed POST /slack/events")
    args = parser.parse_args()
    web.run_app(create_app(args.redis_url, args.signing_secret), host=args.host, port=args.port,
                access_log=None, print=None)


if __name__ == "__main__":
    main()
