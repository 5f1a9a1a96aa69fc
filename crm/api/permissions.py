from rest_framework.permissions import BasePermission, DjangoModelPermissions, IsAuthenticated

from crm.permissions import require_perm


class ModelPermissions(DjangoModelPermissions):
    """The role's model permissions, reads included: GET needs ``view_<model>``."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
    }


class SchemaAccess(IsAuthenticated):
    """The OpenAPI schema and its docs: anyone in development, signed-in users in production."""

    def has_permission(self, request, view):
        from django.conf import settings

        if not settings.PRODUCTION:
            return True
        return super().has_permission(request, view)


class ActionPermissions(BasePermission):
    """What a write needs at all, checked before its body is read.

    ``view.action_permissions`` maps a method to permissions of which the user must hold
    one. A role that may never do the write gets 403 (audited, like every refusal of
    ``require_perm``) rather than a validation error about a body it should not send; which
    records it may act on is still the service's and the access helpers' decision.
    """

    def has_permission(self, request, view):
        needed = getattr(view, "action_permissions", {}).get(request.method, ())
        if not needed or any(request.user.has_perm(perm) for perm in needed):
            return True
        require_perm(request.user, needed[0])
        return False
