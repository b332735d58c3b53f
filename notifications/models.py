"""Delivery: the outbox and its transports. Built out by the notifications issue; no models yet."""
