"""Fake LLM provider servers speaking each provider's real wire format."""
