"""Permissions kept in the shared cache between requests.

Every API page of incidents says which actions the caller may take, so every request would ask
the database for the user's permissions (two joins over users, groups and permissions). Here the
set is cached per user, stamped with a version; any change to who is in which group, to a user's
or group's permissions, or to a user or group row, sets a new version, which makes every cached
set stale at once. Django's ModelBackend still computes the set: only where it is kept changes.
Without Redis (the embedded default) every process has a cache of its own: a change made by
another process (say a management command) counts there after at most SECONDS.
"""

import uuid

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .models import User

VERSION_KEY = "perms:version"
SECONDS = 300  # a cached set is also dropped after this, whatever happens


def _user_key(user_id: int) -> str:
    return f"perms:user:{user_id}"


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            found = cache.get_many([VERSION_KEY, _user_key(user_obj.pk)])
            version = found.get(VERSION_KEY)
            stored = found.get(_user_key(user_obj.pk))
            if version is not None and stored is not None and stored[0] == version:
                user_obj._perm_cache = stored[1]
            else:
                perms = super().get_all_permissions(user_obj)  # fills user_obj._perm_cache
                if version is None:
                    version = _new_version()
                cache.set(_user_key(user_obj.pk), (version, frozenset(perms)), SECONDS)
        return user_obj._perm_cache


def _new_version() -> str:
    version = uuid.uuid4().hex
    cache.set(VERSION_KEY, version, None)
    return version


@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
@receiver(m2m_changed, sender=Group.permissions.through)
@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
@receiver(post_save, sender=Group)
@receiver(post_delete, sender=Group)
@receiver(post_delete, sender=Permission)
def _permissions_changed(**kwargs) -> None:
    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return  # a login changes nobody's permissions
    if kwargs.get("action", "post_").startswith("post_"):
        _new_version()
