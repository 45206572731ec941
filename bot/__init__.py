"""Adapters around the session core: HTTP app, Slack app, outbound clients, CLI, monitor."""
