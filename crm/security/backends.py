"""Sign-in lockout (django-axes) on every sign-in path that runs in a request."""

from axes.backends import AxesStandaloneBackend


class LoginProtectionBackend(AxesStandaloneBackend):
    """django-axes' lockout check, first in ``AUTHENTICATION_BACKENDS``.

    The sign-in page, the admin sign-in and the token endpoint all call ``authenticate``
    with the request, so all three are counted and locked. A call without a request (a
    script, ``Client.login`` in tests) cannot be attributed to a client address and is left
    to the next backend.
    """

    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
