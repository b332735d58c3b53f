"""Rate limits: API_RATE requests per window for each token (each user for a browser session,
each address without credentials), counted in fixed windows in the shared cache.

One atomic increment per request whatever the rate: DRF's UserRateThrottle keeps every request's
time of the last window and rewrites that list on each request (at 1,200/min, a list of 1,200
floats pickled to Redis and back per request). Every answer carries the IETF draft's
RateLimit-Limit / -Remaining / -Reset headers; a 429 also Retry-After (errors.py).
"""

import math
import time

from rest_framework.throttling import SimpleRateThrottle

from config.cache import increment
from config.proxy import client_ip
from incidents.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "user"  # the rate: REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"] (API_RATE)

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            return f"throttle:token:{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"throttle:user:{request.user.pk}"
        return f"throttle:addr:{client_ip(request)}"  # X-Forwarded-For from trusted proxies only

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
