"""The shared cache: Django's Redis backend, with one client object per connection pool."""

from django.core.cache.backends import redis


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
        super().__init__(server, params)
        self._class = _Client


def increment(key: str, seconds: int) -> int:
    """Add one to a counter in the cache every process shares (CACHES["shared"]: Redis, or files
    under var/ on the embedded default) that lives `seconds`; the new count. One round trip on
    Redis (INCR and EXPIRE pipelined)."""
    from django.core.cache import caches

    backend = caches["shared"]
    if isinstance(backend, redis.RedisCache):
        full_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full_key, write=True)
        with client.pipeline() as pipe:
            count, _ = pipe.incr(full_key).expire(full_key, seconds).execute()
        return count
    backend.add(key, 0, seconds)
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.add(key, 1, seconds)
        return 1
