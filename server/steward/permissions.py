"""Roles, the permission codes they grant, and the DRF permission classes that check them.

A staff user's roles are the Django groups they belong to whose names are in ROLES.
Superusers always hold the admin role. Permission codes are derived from roles only, so the client
and the server agree on them through GET /me.

Matrix (rows: role, columns: permission code):

    code            moderator  support  admin
    items.view          x         x       x
    items.decide        x                 x
    audit.view                    x       x
    accounts.view                 x       x
    accounts.act                  x       x
    jobs.view                             x
    jobs.act                              x

Moderators do not see the audit log: it shows every staff member's actions, including
support's account work, which moderation does not need.
"""

from rest_framework.permissions import BasePermission

ROLES = ("moderator", "support", "admin")

ROLE_PERMISSIONS = {
    "moderator": {"items.view", "items.decide"},
    "support": {"items.view", "audit.view", "accounts.view", "accounts.act"},
    "admin": {
        "items.view",
        "items.decide",
        "audit.view",
        "accounts.view",
        "accounts.act",
        "jobs.view",
        "jobs.act",
    },
}

ALL_PERMISSIONS = sorted(set().union(*ROLE_PERMISSIONS.values()))


def roles_of(user):
    """The Steward roles of a staff user, in ROLES order."""
    if not user or not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_steward_roles", None)
    if cached is None:
        names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if user.is_superuser:
            names.add("admin")
        cached = [role for role in ROLES if role in names]
        user._steward_roles = cached
    return cached


def permissions_of(user):
    """The sorted permission codes a staff user holds through their roles."""
    codes = set()
    for role in roles_of(user):
        codes |= ROLE_PERMISSIONS[role]
    return sorted(codes)


def has_permission_code(user, code):
    return code in permissions_of(user)


class StewardPermission(BasePermission):
    """Allows the request when the authenticated user holds `code` through a role."""

    code = None
    message = "You do not have permission to do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) and has_permission_code(
            request.user, self.code
        )


class CanViewItems(StewardPermission):
    """Read queues, items and reason templates."""

    code = "items.view"


class CanDecideItems(StewardPermission):
    """Decide on items and claim them."""

    code = "items.decide"


class CanViewAudit(StewardPermission):
    """Read the audit log."""

    code = "audit.view"


class CanViewAccounts(StewardPermission):
    """Search and read member accounts, their history and notes."""

    code = "accounts.view"


class CanActOnAccounts(StewardPermission):
    """Suspend, reactivate, log out, reset passwords and write notes on accounts."""

    code = "accounts.act"


class CanViewJobs(StewardPermission):
    """Read background jobs, their errors and tracebacks."""

    code = "jobs.view"


class CanActOnJobs(StewardPermission):
    """Retry and cancel background jobs."""

    code = "jobs.act"


class HasAnyRole(BasePermission):
    """Any staff user holding at least one Steward role."""

    message = "You do not have permission to do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and roles_of(request.user))
