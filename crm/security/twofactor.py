"""Two-factor sign-in (django-otp): who needs it, enrolment, verification, recovery codes."""

from __future__ import annotations

import secrets
from io import BytesIO

from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm import roles
from crm.auditing import record as record_event
from crm.security import events

# Roles that may see or change much: they sign in with a second factor (issue 14 item 2).
PRIVILEGED_ROLES = (
    roles.SALES_MANAGER,
    roles.GENERAL_MANAGER,
    roles.DPO,
    roles.AUDITOR,
    roles.ADMIN,
)
RECOVERY_CODES = 10
EXEMPT_PREFIXES = ("/static/", "/i18n/", "/healthz", "/login/", "/logout/", "/security/two-factor/")


def is_exempt_path(path: str) -> bool:
    return path.startswith(EXEMPT_PREFIXES)


def required_for(user) -> bool:
    if not settings.CRM_REQUIRE_2FA or not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name__in=PRIVILEGED_ROLES).exists()


def has_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_device(user) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (made once, kept until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (no script, allowed by the CSP)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]


def enrol_confirm(*, user, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the device with a first code; returns the new recovery codes, or None."""
    if not device.verify_token(code.strip()):
        record_event(
            action=events.TWO_FACTOR_FAILED, actor=user, obj=user, data={"step": "enrolment"}
        )
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = recovery_codes_renew(user=user)
        record_event(action=events.TWO_FACTOR_ENROLLED, actor=user, obj=user)
    return codes


def recovery_codes_renew(*, user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    return codes


def verify(*, user, code: str):
    """The device that accepts ``code`` (TOTP, or a recovery code, used up), or None."""
    code = (code or "").strip().replace(" ", "")
    if code:
        for device in devices_for_user(user, confirmed=True):
            if device.verify_token(code):
                record_event(
                    action=events.TWO_FACTOR_VERIFIED,
                    actor=user,
                    obj=user,
                    data={"device": type(device).__name__},
                )
                return device
    record_event(action=events.TWO_FACTOR_FAILED, actor=user, obj=user, data={"step": "sign-in"})
    return None
