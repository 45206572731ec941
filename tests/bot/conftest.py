"""Fixtures every adapter's tests share: the fake Slack and the fake agent."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.bot.slack.conftest import EMAILS
from tests.bot.whatsapp.conftest import FakeAgent
from tests.fakes.slack import FakeSlack


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """The Slack Web API the app talks to, with the workspace's people (`EMAILS`)."""
    fake = await FakeSlack(users=EMAILS).start()
    yield fake
    await fake.close()


@pytest.fixture
async def agent() -> AsyncIterator[FakeAgent]:
    """The bot behind AGENT_URL."""
    fake = FakeAgent()
    app = web.Application()
    app.router.add_post("/agent", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}/agent"
    yield fake
    if fake.hold is not None:
        fake.hold.set()
    await runner.cleanup()
