"""Demo second factor: every demo staff user gets the same TOTP key, published in the
README and printed by seed_demo, so that anyone can try the staff pages. Demo only."""

import base64

from django_otp.plugins.otp_totp.models import TOTPDevice

# Base32, as an authenticator app takes it by hand (20 bytes).
DEMO_TOTP_KEY = "BRABIDRAGDEMOTOTPNYCKEL234567ABC"
DEMO_DEVICE_NAME = "Demo (publicerad nyckel)"


def demo_totp_ensure(users) -> None:
    """A confirmed TOTP device with the demo key for each user; safe to run again."""
    key = base64.b32decode(DEMO_TOTP_KEY).hex()
    for user in users:
        TOTPDevice.objects.update_or_create(
            user=user, name=DEMO_DEVICE_NAME, defaults={"key": key, "confirmed": True}
        )


def demo_totp_code() -> str:
    """The code an authenticator app with the demo key shows right now."""
    from django_otp.oath import TOTP

    return f"{TOTP(base64.b32decode(DEMO_TOTP_KEY)).token():06d}"
