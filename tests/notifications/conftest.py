"""Delivery tests use the real servers in tests/servers.py (registered in tests/conftest.py)."""
