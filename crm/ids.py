"""Object ids as they travel in URLs: ASCII digits only.

``str.isdigit()`` and the regex class ``\\d`` accept any Unicode digit: ``"²".isdigit()`` is
true (and ``int("²")`` raises), and ``int("١٥")`` is 15, so a check built on them lets
``/customers/١٥/`` open card 15. URL patterns use ``[0-9]`` (``<int:…>`` does; every API
path takes its ids that way), :data:`OBJECT_ID_REGEX` names it, and code that receives an
id as text checks it with :func:`is_object_id`.
"""

from __future__ import annotations

OBJECT_ID_REGEX = "[0-9]+"


def is_object_id(value) -> bool:
    """True for an ``int`` or a text of ASCII digits only; ``"²"`` and ``"١٥"`` are not."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    text = str(value)
    return text.isascii() and text.isdigit()
