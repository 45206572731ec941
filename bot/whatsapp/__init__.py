"""WhatsApp Cloud API adapter: Meta's webhooks in, the bot's replies out, nothing lost."""
