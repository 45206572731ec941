"""The Slack adapter: escalation cards, Assumir/Liberar buttons and slash commands.

`setup_slack(app)` mounts it on the service's aiohttp app when `SLACK_BOT_TOKEN` and
`SLACK_SIGNING_SECRET` are set; otherwise it says once, in the log, that Slack is off (the
manager still logs every mode change and notice).
"""

from bot.slack.adapter import SLACK, Slack, setup_slack

__all__ = ["SLACK", "Slack", "setup_slack"]
