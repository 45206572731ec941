"""`manifest.yml` asks for what the app serves: its commands, one URL, the issue's scopes."""

from __future__ import annotations

import re
from pathlib import Path

from handoff.commands import COMMANDS

MANIFEST = (Path(__file__).resolve().parents[3] / "manifest.yml").read_text(encoding="utf-8")


def test_the_commands_are_the_cores() -> None:
    commands = re.findall(r"^\s*- command: (\S+)$", MANIFEST, re.M)
    assert commands == ["/assumir", "/liberar", "/status", "/transferir", "/modelo"]
    slack_only = {"/modelo"}  # opens a Slack modal: no meaning elsewhere
    assert all(COMMANDS.get(c) is not None for c in commands if c not in slack_only)


def test_every_request_url_is_slack_events_on_one_placeholder_host() -> None:
    urls = re.findall(r"(?:url|request_url): (\S+)$", MANIFEST, re.M)
    assert len(urls) == 7  # five commands, events, interactivity
    assert set(urls) == {"https://handoff.example.com/slack/events"}


def test_bot_scopes() -> None:
    block = MANIFEST.split("    bot:\n", 1)[1].split("settings:", 1)[0]
    scopes = re.findall(r"^\s*- ([a-z:.]+)", block, re.M)
    assert scopes == ["chat:write", "commands", "users:read", "users:read.email",
                      "usergroups:read", "channels:history", "reactions:write", "im:write",
                      "files:write", "files:read"]


def test_thread_replies_are_subscribed() -> None:
    events = MANIFEST.split("bot_events:\n", 1)[1].split("interactivity:", 1)[0]
    assert "- message.channels" in events


def test_interactivity_is_on() -> None:
    assert re.search(r"interactivity:\n\s+is_enabled: true\n", MANIFEST)
