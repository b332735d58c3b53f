"""The shared cache: Django's Redis backend, with one client object per connection pool, that
fails open: a Redis outage makes every read a miss and every write a no-op, so callers fall back
to the database (API tokens, permissions, dashboard KPIs) or carry on (rate limits). A Redis
outage may slow the product; it never stops login, acknowledgement, ingest or the status page.

After a failure the process leaves Redis alone for PAUSE_SECONDS (a Redis that does not answer
would otherwise cost every call its connect timeout). A write lost in an outage could leave an
older value in Redis (a permission version that a revoked token should have replaced): the keys
of lost writes are deleted when Redis answers again, so nobody reads the old value afterwards.
"""

import logging
import time

from django.core.cache.backends import redis
from redis import exceptions as redis_errors

logger = logging.getLogger(__name__)

# What an outage looks like to redis-py: refused or dropped connections, timeouts, a Redis that
# is still loading or has become a read-only replica.
OUTAGE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.ReadOnlyError,
    OSError,
)
PAUSE_SECONDS = 5.0
LOST_KEYS_MAX = 10_000  # beyond this, lost writes are only logged


class _Client(redis.RedisCacheClient):
    """Django builds a new `redis.Redis` (and copies its table of some 170 reply callbacks) for
    every cache call, about 0.1 ms each; an API request makes three. One per connection pool is
    enough: a `redis.Redis` takes a connection from its pool for each command, so it may be
    shared by the threads of a process."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))  # pools live as long as this object
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        params = {**params, "OPTIONS": {**_TIMEOUTS, **params.get("OPTIONS", {})}}
        super().__init__(server, params)
        self._class = _Client
        self.down_until = 0.0  # time.monotonic() until which Redis is left alone
        self.failures = 0  # calls answered without Redis since the process started (/metrics)
        self._lost: set[str] = set()  # keys of writes lost in an outage, deleted on recovery

    # --- the outage bookkeeping ------------------------------------------------------------
    def available(self) -> bool:
        """Whether to try Redis now; on the first call after an outage, drop lost writes."""
        if self.down_until:
            if time.monotonic() < self.down_until:
                return False
            if self._lost and not self._forget_lost():
                return False
            self.down_until = 0.0
            logger.warning("cache: Redis answers again")
        return True

    def failed(self, exc: BaseException) -> None:
        if not self.down_until:
            logger.warning("cache: Redis unavailable (%s); falling back to the database", exc)
        self.failures += 1
        self.down_until = time.monotonic() + PAUSE_SECONDS

    def _forget_lost(self) -> bool:
        keys = list(self._lost)
        try:
            self._cache.delete_many(keys)  # keys made already
        except OUTAGE as exc:
            self.failed(exc)
            return False
        self._lost.difference_update(keys)
        return True

    def _lose(self, keys) -> None:
        for key in keys:
            if len(self._lost) >= LOST_KEYS_MAX:
                logger.error("cache: too many writes lost in a Redis outage; not all are undone")
                return
            self._lost.add(key)

    def _guard(self, call, fallback, lost=()):
        if not self.available():
            self.failures += 1
            self._lose(lost)
            return fallback
        try:
            return call()
        except OUTAGE as exc:
            self.failed(exc)
            self._lose(lost)
            return fallback

    # --- Django's cache API, failing open -----------------------------------------------------
    def get(self, key, default=None, version=None):
        return self._guard(lambda: super(RedisCache, self).get(key, default, version), default)

    def get_many(self, keys, version=None):
        return self._guard(lambda: super(RedisCache, self).get_many(keys, version), {})

    def has_key(self, key, version=None):
        return self._guard(lambda: super(RedisCache, self).has_key(key, version), False)

    def add(self, key, value, timeout=redis.DEFAULT_TIMEOUT, version=None):
        call = lambda: super(RedisCache, self).add(key, value, timeout, version)  # noqa: E731
        return self._guard(call, False, [self.make_key(key, version)])

    def set(self, key, value, timeout=redis.DEFAULT_TIMEOUT, version=None):
        call = lambda: super(RedisCache, self).set(key, value, timeout, version)  # noqa: E731
        return self._guard(call, None, [self.make_key(key, version)])

    def set_many(self, data, timeout=redis.DEFAULT_TIMEOUT, version=None):
        call = lambda: super(RedisCache, self).set_many(data, timeout, version)  # noqa: E731
        return self._guard(call, [], [self.make_key(key, version) for key in data])

    def touch(self, key, timeout=redis.DEFAULT_TIMEOUT, version=None):
        return self._guard(lambda: super(RedisCache, self).touch(key, timeout, version), False)

    def delete(self, key, version=None):
        call = lambda: super(RedisCache, self).delete(key, version)  # noqa: E731
        return self._guard(call, False, [self.make_key(key, version)])

    def delete_many(self, keys, version=None):
        call = lambda: super(RedisCache, self).delete_many(keys, version)  # noqa: E731
        return self._guard(call, None, [self.make_key(key, version) for key in keys])

    def incr(self, key, delta=1, version=None):
        # a counter that cannot be read starts again (rate limits fail open)
        return self._guard(lambda: super(RedisCache, self).incr(key, delta, version), delta)

    def clear(self):
        return self._guard(lambda: super(RedisCache, self).clear(), False)


# A Redis that does not answer must not hold a request for long (redis-py waits forever by
# default); cache calls take well under a millisecond when Redis is healthy.
_TIMEOUTS = {"socket_connect_timeout": 1.0, "socket_timeout": 2.0}


def increment(key: str, seconds: int) -> int:
    """Add one to a counter in the cache every process shares (CACHES["shared"]: Redis, or files
    under var/ on the embedded default) that lives `seconds`; the new count. One round trip on
    Redis (INCR and EXPIRE pipelined). Without Redis (an outage) nobody is limited: 0, and
    counting resumes when Redis answers again."""
    from django.core.cache import caches

    backend = caches["shared"]
    if isinstance(backend, redis.RedisCache):
        if not getattr(backend, "available", lambda: True)():
            return 0
        full_key = backend.make_and_validate_key(key)
        try:
            client = backend._cache.get_client(full_key, write=True)
            with client.pipeline() as pipe:
                count, _ = pipe.incr(full_key).expire(full_key, seconds).execute()
        except OUTAGE as exc:
            if not hasattr(backend, "failed"):
                raise
            backend.failed(exc)
            return 0
        return count
    backend.add(key, 0, seconds)
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.add(key, 1, seconds)
        return 1
