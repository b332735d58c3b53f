"""Rate limits: API_RATE requests per window for each token (each user for a browser session,
each address without credentials), counted in fixed windows in the shared cache.

One atomic increment per request whatever the rate: DRF's UserRateThrottle keeps every request's
time of the last window and rewrites that list on each request (at 1,200/min, a list of 1,200
floats pickled to Redis and back per request). Every answer carries the IETF draft's
RateLimit-Limit / -Remaining / -Reset headers; a 429 also Retry-After (errors.py).
"""

import math
import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

from config.cache import OUTAGE
from incidents.models import ApiToken


def increment(key: str, seconds: int) -> int:
    """Add one to a counter that lives `seconds`; the new count. One round trip on Redis."""
    backend = caches["default"]  # `cache` is a proxy: ask the backend itself
    if isinstance(backend, RedisCache):
        # Without Redis (config/cache.py: an outage) nobody is limited: counting resumes after.
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
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, seconds)
        return 1


class TokenRateThrottle(SimpleRateThrottle):
    scope = "user"  # the rate: REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"] (API_RATE)

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            return f"throttle:token:{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"throttle:user:{request.user.pk}"
        return f"throttle:addr:{self.get_ident(request)}"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        count = increment(f"{self.get_cache_key(request, view)}:{window}", self.duration + 1)
        reset = max(1, math.ceil((window + 1) * self.duration - now))
        self.reset = reset
        view.headers = {
            **getattr(view, "headers", {}),
            "RateLimit-Limit": str(self.num_requests),
            "RateLimit-Remaining": str(max(0, self.num_requests - count)),
            "RateLimit-Reset": str(reset),
        }
        return count <= self.num_requests

    def wait(self) -> float:
        return self.reset
