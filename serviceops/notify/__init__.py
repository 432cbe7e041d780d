"""Slack messages and reports: templates, rendering with escaping, the client, the outbox."""
