"""Who is acting in the current request, for code that is not handed the request
(the password-change audit hook runs inside ``User.save()``)."""

from contextvars import ContextVar

_actor: ContextVar = ContextVar("security_actor", default=None)


def current_actor():
    request = _actor.get()
    if request is None:
        return None
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def in_request() -> bool:
    return _actor.get() is not None


def bind(request):
    return _actor.set(request)


def unbind(token) -> None:
    _actor.reset(token)
