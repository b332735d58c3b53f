"""REST API v1 (DRF): thin views that read through selectors and write through the services the
console and the admin use. Every error has one JSON shape (errors.py)."""
