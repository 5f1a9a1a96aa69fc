from django.conf import settings

from crm import navigation as nav
from crm import roles


def navigation(request):
    """The navigation entries and role names of the signed-in user, for the base layout."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_entries": [], "header_badges": [], "user_role_labels": [], **_company()}
    return {
        **_company(),
        "nav_entries": nav.entries_for(user),
        "header_badges": nav.badges_for(user),
        "user_role_labels": [roles.label(name) for name in user.role_names],
    }


def _company():
    return {"company_name": settings.CRM["COMPANY_NAME"]}
