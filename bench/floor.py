"""The floor for `bench/webhook.py`: a bare aiohttp route that makes one Redis EVALSHA.

`python bench/floor.py --port P --redis-url redis://127.0.0.1:R/0` serves `POST /` (any path):
read the JSON body, run one EVALSHA of a trivial Lua script through `redis.asyncio` (the same
client library and options style the service uses), answer a small JSON. No access log, no
middleware, nothing else: this is what one HTTP request plus one Redis round trip costs here.
"""

from __future__ import annotations

import argparse

import redis.asyncio as aioredis
from aiohttp import web

TRIVIAL = "return ARGV[1]"


def create_app(redis_url: str) -> web.Application:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    script = client.register_script(TRIVIAL)

    async def handle(request: web.Request) -> web.Response:
        data = await request.json()
        echoed = await script(keys=[], args=[str(data.get("phone", ""))])
        return web.json_response({"ok": True, "phone": echoed})

    async def close(_app: web.Application) -> None:
        await client.aclose()

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    app.on_cleanup.append(close)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="bare aiohttp + one EVALSHA")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args()
    web.run_app(create_app(args.redis_url), host=args.host, port=args.port,
                access_log=None, print=None)


if __name__ == "__main__":
    main()
