"""The aiohttp routes: WhatsApp webhook, REST API, health."""
