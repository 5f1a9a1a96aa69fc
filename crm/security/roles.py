"""Permissions of the security app on the roles (``crm.roles``)."""

from crm import roles


def extend_roles() -> None:
    roles.extend(roles.ADMIN, ["axes.view_accessattempt", "axes.delete_accessattempt"])
    roles.declare_unused(
        [
            "axes.add_accessattempt",
            "axes.change_accessattempt",
            "axes.*_accesslog",
            "axes.*_accessfailurelog",
            "axes.*_accessattemptexpiration",
        ],
        reason="sign-in attempts are written by django-axes; an admin only unlocks (deletes)",
    )
    roles.declare_unused(
        ["otp_totp.*", "otp_static.*"],
        reason="each user enrols his own two-factor device on the security page",
    )
    roles.declare_unused(
        ["security.*"],
        reason="tokens, sessions and role changes are kept by the security services",
    )
