"""Loopback HTTP stubs of the remote APIs the providers call (no network in tests)."""
