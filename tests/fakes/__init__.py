"""Small servers on 127.0.0.1 that play the external APIs (Slack, Meta Graph) in tests."""
