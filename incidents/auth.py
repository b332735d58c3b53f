"""Permissions and API tokens kept in the shared cache between requests.

Every API page of incidents says which actions the caller may take, so every request would ask
the database for the user's permissions (two joins over users, groups and permissions). Here the
set is cached per user, stamped with a version; any change to who is in which group, to a user's
or group's permissions, or to a user or group row, sets a new version, which makes every cached
set stale at once. Django's ModelBackend still computes the set: only where it is kept changes.
A bearer token's row (with its user and the user's groups) is kept the same way: saving,
revoking or deleting a token sets a new version too, so a revoked token stops at once.

Only with a cache all processes share (Redis): without one (the embedded default) a change made
by another process (say a management command) would not be seen, so nothing is kept.
"""

import uuid

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.dispatch import receiver

from .models import ApiToken, User

VERSION_KEY = "perms:version"
SECONDS = 300  # a cached set is also dropped after this, whatever happens


def _user_key(user_id: int) -> str:
    return f"perms:user:{user_id}"


def _shared() -> bool:
    return isinstance(caches["default"], RedisCache)  # `cache` is a proxy: ask the backend


def _cached(key: str):
    """The value stored under `key` if it is of the current version, else None; and the
    current version, read (or set) before the caller reads the database: a change committed
    after that read sets a newer version, so what the caller keeps is stale at once."""
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY) or _new_version()
    stored = found.get(key)
    if stored is not None and stored[0] == version:
        return stored[1], version
    return None, version


def _keep(key: str, version: str, value, seconds: int = SECONDS) -> None:
    cache.set(key, (version, value), seconds)


def token_for(key_hash: str) -> ApiToken | None:
    """The unrevoked token with this hash, its user and the user's groups loaded."""
    key = f"token:{key_hash}"
    if _shared():
        token, version = _cached(key)
        if token is not None:
            return token
    token = (
        ApiToken.objects.select_related("user")
        .prefetch_related("user__groups")  # role_of asks several times per request
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        .first()
    )
    if token is not None and _shared():
        _keep(key, version, token, 60)
    return token


def token_used(token: ApiToken, at) -> None:
    """Record the token's use (the caller limits this to once a minute), here and in the
    cached copy, which would otherwise ask for it on every request."""
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
    token.last_used_at = at
    if _shared():
        key = f"token:{token.key_hash}"
        cached, version = _cached(key)
        if cached is not None:
            _keep(key, version, token, 60)


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not _shared():
            return super().get_all_permissions(user_obj)
        if not hasattr(user_obj, "_perm_cache"):
            perms, version = _cached(_user_key(user_obj.pk))
            if perms is not None:
                user_obj._perm_cache = perms
            else:
                perms = super().get_all_permissions(user_obj)  # fills user_obj._perm_cache
                _keep(_user_key(user_obj.pk), version, frozenset(perms))
        return user_obj._perm_cache


def _new_version() -> str:
    """Make every kept permission set and token stale (also: a token was revoked)."""
    version = uuid.uuid4().hex
    cache.set(VERSION_KEY, version, None)
    return version


def tokens_changed() -> None:
    """Now, and again when the transaction commits: a request that read the version after the
    first but the row before the commit would keep the old row under the current version."""
    _new_version()
    transaction.on_commit(_new_version)


@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
@receiver(m2m_changed, sender=Group.permissions.through)
@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
@receiver(post_save, sender=Group)
@receiver(post_delete, sender=Group)
@receiver(post_delete, sender=Permission)
@receiver(post_save, sender=ApiToken)
@receiver(post_delete, sender=ApiToken)
@receiver(post_migrate)  # migrations change group permissions through historical models
def _permissions_changed(**kwargs) -> None:
    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return  # a login changes nobody's permissions
    if kwargs.get("action", "post_").startswith("post_"):
        tokens_changed()
