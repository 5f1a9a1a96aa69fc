from rest_framework.permissions import DjangoModelPermissions, IsAuthenticated


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
