"""Outages of real components: a broker nobody listens on, a Redis and a PostgreSQL of the test's
own that it stops (never the machine's shared servers)."""

import pytest

from tests.servers import free_port


@pytest.fixture
def dead_broker(settings):
    """Celery's broker is a Redis URL on a port where nothing listens (connection refused)."""
    from config import broker
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    app._pool = None
    app.amqp._producer_pool = None
    broker.reset()
    yield app.conf.broker_url
    app.conf.broker_url = previous
    app._pool = None
    app.amqp._producer_pool = None
    broker.reset()
