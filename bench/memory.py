"""Memory benchmark: `python bench/memory.py` from the repo root. Aim: under 2 KiB a session.

Creates `--sessions` (100,000) sessions through `SessionManager.handle_message`, as the webhook
does: each one customer message with a realistic pt-BR text and a WhatsApp message id (so the
store keeps its duplicate-delivery claim, for the service's default 8 days); `--escalated`
(10%) of them ask for a person (paused, an event) and are then taken over by an attendant (human,
a second event). Then:

* memory store: in a fresh process, resident set size (RSS, /proc) after minus before, ÷
  sessions. Floor: the same count of plain Python dicts holding the same fields and values, in
  another fresh process;
* Redis store (`RedisStore`, its own redis-server): the sum of `MEMORY USAGE key SAMPLES 0` over
  every key, ÷ sessions, broken down by key kind, and `INFO memory` `used_memory` after minus
  before, ÷ sessions. Floor: one bare Redis hash per session with the same fields and values.

Everything it starts is stopped on exit, error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import queue
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/memory.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bench.common import BenchRedis, Child, children, handle_signals, machine  # noqa: E402
from bench.common import rss_bytes as _rss  # noqa: E402

AIM = 2048
DEDUPE_TTL = 8 * 24 * 3600.0  # the service's default HANDOFF_DEDUPE_TTL_SECONDS

CITIES = ["Belo Horizonte", "Contagem", "São João del-Rei", "Juiz de Fora", "Uberlândia",
          "São Paulo", "Campinas", "Rio de Janeiro", "Niterói", "Curitiba", "Vitória"]
NAMES = ["Ana Paula", "João", "Maria José", "Luiz Fernando", "Conceição", "Sebastião",
         "Fernanda", "Antônio", "Letícia", "Raimundo", "Patrícia", "Zé Carlos"]
TEMPLATES = [
    "Oi, boa tarde! O pedido {pedido} já saiu para entrega?",
    "Bom dia! Vocês entregam em {cidade}? Queria dois queijos canastra meia-cura e um doce "
    "de leite.",
    "Olá, meu nome é {nome}. Comprei um kit presente semana passada (pedido {pedido}) e veio "
    "faltando a goiabada cascão. Como faço?",
    "Qual o valor do frete para o CEP {cep}?",
    "Vocês aceitam Pix? Dá pra pagar na entrega?",
    "Obrigado, {nome} aqui. Chegou tudo certinho!",
    "Boa noite, o queijo do pedido {pedido} chegou meio mole, é normal?",
    "Tem pão de queijo congelado? Quanto custa o pacote de 1 kg?",
    "Oi",
    "Quero queijo canastra",
    "Vocês têm loja física em {cidade}? Qual o horário de funcionamento no sábado?",
    "Consigo trocar o endereço de entrega do pedido {pedido}? Mudei para {cidade}.",
]
ESCALATE = [
    "Quero falar com um atendente, por favor. O pedido {pedido} veio errado.",
    "Preciso falar com uma pessoa, o rastreio do pedido {pedido} não atualiza há 5 dias.",
    "Atendimento humano por favor",
]


@dataclass
class Message:
    phone: str
    text: str
    message_id: str
    escalate: bool


def message(i: int, escalate_every: int) -> Message:
    """The i-th session's first message: every value a fresh object, as a request makes it."""
    phone = f"55{11 + i % 89}9{i:08d}"
    escalate = escalate_every > 0 and i % escalate_every == 0
    pool = ESCALATE if escalate else TEMPLATES
    text = pool[i % len(pool)].format(
        pedido=f"#{100000 + i}", cidade=CITIES[i % len(CITIES)], nome=NAMES[i % len(NAMES)],
        cep=f"{30000 + i % 9999}-{i % 1000:03d}")
    # A Cloud API message id, as long as Meta's (wamid. + base64 of phone and a 16-byte id).
    message_id = f"wamid.HBgN{phone}FQIAEhgg{(i * 2654435761) % (1 << 64):016X}{i:016X}"
    return Message(phone, text, message_id, escalate)


def attendant(i: int) -> str:
    return f"atendente{i % 25}@empresa.com.br"


async def fill(manager: Any, n: int, escalate_every: int, concurrency: int) -> None:
    """Every session through the manager: the message, and a takeover for the escalated."""

    async def one(i: int) -> None:
        m = message(i, escalate_every)
        await manager.handle_message(m.phone, m.text, message_id=m.message_id,
                                     source="whatsapp")
        if m.escalate:
            await manager.takeover(m.phone, attendant(i), source="slack")

    for start in range(0, n, concurrency):
        await asyncio.gather(*(one(i) for i in range(start, min(n, start + concurrency))))


# ---------------------------------------------------------------- in-process (children)


def memory_store_child(n: int, escalate_every: int, out: Any) -> None:
    from handoff.backends import memory_backend
    from handoff.manager import SessionManager

    backend = memory_backend(DEDUPE_TTL)
    manager = SessionManager(backend.store, backend.claims)
    # Warm up everything a first message touches (imports, caches), then measure.
    asyncio.run(manager.handle_message("5531900000000", "Oi", message_id="warm"))
    gc.collect()
    before = _rss()
    started = time.perf_counter()
    asyncio.run(fill(manager, n, escalate_every, 1))
    seconds = time.perf_counter() - started
    gc.collect()
    after = _rss()
    sessions = asyncio.run(manager.list_active())
    modes = Counter(s.mode.value for s in sessions)
    out.put({"rss": after - before, "seconds": seconds, "modes": dict(modes)})


def dict_floor_child(n: int, escalate_every: int, out: Any) -> None:
    now = time.time()
    gc.collect()
    before = _rss()
    table: dict[str, dict[str, Any]] = {}
    for i in range(n):
        m = message(i, escalate_every)
        t = now + i / 1000  # a fresh float, as each session's times are
        table[m.phone] = {
            "phone": m.phone, "mode": "human" if m.escalate else "agent",
            "human_attendant": attendant(i) if m.escalate else None,
            "created_at": t, "updated_at": t + 0.5, "paused_at": None,
            "taken_at": t + 0.5 if m.escalate else None, "last_customer_message": t + 0.0,
            "last_customer_text": m.text, "last_human_message": None, "metadata": {}}
    gc.collect()
    after = _rss()
    out.put({"rss": after - before, "count": len(table)})


def in_child(fn: Any, *args: Any) -> dict[str, Any]:
    out = Child.ctx.Queue()
    child = Child(fn, *args, out)
    with children([child]):
        deadline = time.monotonic() + 600
        while True:
            try:
                return dict(out.get(timeout=1))
            except queue.Empty:
                if not child.proc.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"{fn.__name__} failed (exit {child.proc.exitcode})"
                                       ) from None


# ---------------------------------------------------------------- Redis


@dataclass
class RedisFigures:
    used: int = 0  # INFO used_memory delta
    usage: int = 0  # sum of MEMORY USAGE
    keys: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [keys, bytes]
    encodings: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def used_memory(client: redis.Redis) -> int:
    gc.collect()
    return int(client.info("memory")["used_memory"])


def memory_usage(client: redis.Redis, figures: RedisFigures, hashes: str) -> None:
    """Sum MEMORY USAGE over every key (exact: SAMPLES 0), by kind; encodings of `hashes`."""
    batch: list[str] = []

    def flush() -> None:
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
            if key.startswith(hashes):
                pipe.object("encoding", key)
        answers = iter(pipe.execute())
        for key in batch:
            size = int(next(answers) or 0)
            if key.startswith(hashes):
                enc = str(next(answers))
                figures.encodings[enc] = figures.encodings.get(enc, 0) + 1
            kind = kind_of(key)
            row = figures.by_kind.setdefault(kind, [0, 0])
            row[0] += 1
            row[1] += size
            figures.usage += size
            figures.keys += 1
        batch.clear()

    for key in client.scan_iter(count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            flush()
    if batch:
        flush()


def kind_of(key: str) -> str:
    parts = key.split(":")
    if parts[0] == "handoff" and len(parts) > 2:
        if parts[1] == "c":
            return f"c:{parts[2]}"  # claims: seen:… (message ids), slack:…
        if parts[1] == "i":
            return f"i:{parts[2]}"
        return parts[1]
    return parts[0]


def redis_floor(client: redis.Redis, n: int, escalate_every: int) -> RedisFigures:
    client.flushall()
    figures = RedisFigures()
    before = used_memory(client)
    started = time.perf_counter()
    now = time.time()
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        m = message(i, escalate_every)
        t = repr(now + i / 1000)
        fields: dict[Any, Any] = {"p": m.phone, "m": "agent", "c": t, "u": t, "lcm": t,
                                  "lct": m.text}
        if m.escalate:
            fields.update({"m": "human", "pa": t, "h": attendant(i), "ta": t})
        pipe.hset(f"floor:{m.phone}", mapping=fields)
        if len(pipe) >= 1000:
            pipe.execute()
    pipe.execute()
    figures.seconds = time.perf_counter() - started
    figures.used = used_memory(client) - before
    memory_usage(client, figures, "floor:")
    return figures


def redis_store(client: redis.Redis, url: str, n: int, escalate_every: int,
                concurrency: int) -> RedisFigures:
    from handoff.backends import redis_backend
    from handoff.manager import SessionManager

    client.flushall()
    figures = RedisFigures()
    before = used_memory(client)

    async def run() -> None:
        backend = redis_backend(url, dedupe_ttl=DEDUPE_TTL)
        try:
            await fill(SessionManager(backend.store, backend.claims), n, escalate_every,
                       concurrency)
        finally:
            await backend.close()

    started = time.perf_counter()
    asyncio.run(run())
    figures.seconds = time.perf_counter() - started
    figures.used = used_memory(client) - before
    memory_usage(client, figures, "handoff:s:")
    return figures


# ---------------------------------------------------------------- report


def per(value: float, n: int) -> str:
    return f"{value / n:8.0f}"


def verdict(value: float) -> str:
    return "met" if value < AIM else "NOT met"


def report(n: int, args: argparse.Namespace, mem: dict[str, Any] | None,
           floor: dict[str, Any] | None,
           rstore: RedisFigures | None, rfloor: RedisFigures | None) -> None:
    print()
    print(f"machine: {machine()}")
    print(f"sessions: {n}, one customer message each with a message id; every "
          f"{args.escalate_every}th asks for a person and is taken over"
          + (f" (memory store modes: {mem.get('modes')})" if mem else ""))
    print()
    head = f"{'store':<8} {'measure':<40} {'bytes/session':>14} {'floor':>9} {'aim 2048':>9}"
    print(head)
    print("-" * len(head))
    if mem and floor:
        print(f"{'memory':<8} {'process RSS delta':<40} {per(mem['rss'], n):>14} "
              f"{per(floor['rss'], n):>9} {verdict(mem['rss'] / n):>9}")
    if rstore and rfloor:
        print(f"{'redis':<8} {'sum of MEMORY USAGE over every key':<40} "
              f"{per(rstore.usage, n):>14} {per(rfloor.usage, n):>9} "
              f"{verdict(rstore.usage / n):>9}")
        print(f"{'redis':<8} {'INFO used_memory delta':<40} {per(rstore.used, n):>14} "
              f"{per(rfloor.used, n):>9} {verdict(rstore.used / n):>9}")
    print()
    print("floor: memory - a plain dict per session with the same fields and values;")
    print("       redis  - one bare hash per session with the same fields and values.")
    times = [f"memory store {mem['seconds']:.1f} s"] if mem else []
    if rstore:
        times.append(f"Redis store {rstore.seconds:.1f} s ({n / rstore.seconds:.0f} "
                     f"sessions/s, {args.concurrency} at a time)")
    print("fill time: " + ", ".join(times))
    if rstore:
        print()
        print("Redis, by key kind (MEMORY USAGE):")
        for kind, (keys, size) in sorted(rstore.by_kind.items(), key=lambda kv: -kv[1][1]):
            print(f"  {kind:<12} {keys:>8} keys {size / n:8.0f} bytes/session "
                  f"{size / max(keys, 1):8.0f} bytes/key")
        print(f"  session hash encodings: {rstore.encodings}; floor hashes: "
              f"{rfloor.encodings if rfloor else '-'}")


def summarize(n: int, mem: dict[str, Any] | None, floor: dict[str, Any] | None,
              rstore: RedisFigures | None, rfloor: RedisFigures | None) -> list[str]:
    lines = []
    if mem and floor:
        lines.append(f"memory/session memory store {mem['rss'] / n:6.0f} B RSS  "
                     f"(floor: plain dict {floor['rss'] / n:.0f} B; aim < 2048: "
                     f"{verdict(mem['rss'] / n)})")
    if rstore and rfloor:
        lines.append(f"memory/session redis  {rstore.usage / n:6.0f} B MEMORY USAGE, "
                     f"{rstore.used / n:.0f} B used_memory  (floor: bare hash "
                     f"{rfloor.usage / n:.0f} B / {rfloor.used / n:.0f} B; aim < 2048: "
                     f"{verdict(rstore.usage / n)})")
    return lines


def main(argv: list[str] | None = None, summary: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--escalate-every", type=int, default=10,
                        help="every Nth session asks for a person and is taken over (0: none)")
    parser.add_argument("--concurrency", type=int, default=64,
                        help="sessions created at once in the Redis store")
    parser.add_argument("--stores", default="memory,redis", help="memory,redis or one of them")
    args = parser.parse_args(argv)
    stores = {s.strip() for s in args.stores.split(",") if s.strip()}
    if not stores or stores - {"memory", "redis"}:
        parser.error("--stores: memory, redis")
    if args.sessions < 1 or args.escalate_every < 0 or not 1 <= args.concurrency <= 100:
        parser.error("--sessions positive, --escalate-every >= 0, --concurrency 1..100")
    n = args.sessions

    handle_signals()
    rds: BenchRedis | None = None
    client: redis.Redis | None = None
    try:
        mem: dict[str, Any] | None = None
        floor: dict[str, Any] | None = None
        if "memory" in stores:
            print(f"memory store: {n} sessions ...", file=sys.stderr, flush=True)
            mem = in_child(memory_store_child, n, args.escalate_every)
            floor = in_child(dict_floor_child, n, args.escalate_every)
        rstore = rfloor = None
        if "redis" in stores:
            rds = BenchRedis()
            rds.start()
            client = redis.Redis.from_url(rds.url, decode_responses=True)
            print(f"redis: {n} bare hashes, then {n} sessions ...", file=sys.stderr, flush=True)
            rfloor = redis_floor(client, n, args.escalate_every)
            rstore = redis_store(client, rds.url, n, args.escalate_every, args.concurrency)
        report(n, args, mem, floor, rstore, rfloor)
        if summary is not None:
            summary.extend(summarize(n, mem, floor, rstore, rfloor))
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
        if rds is not None:
            rds.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
