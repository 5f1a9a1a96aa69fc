"""Base serializer: fields a caller must never set are read-only everywhere."""

from rest_framework import serializers

# Owner, status, version, verification and audit fields are set by services only.
PROTECTED_FIELD_NAMES = frozenset(
    {
        "id",
        "owner",
        "status",
        "version",
        "data_key_id",
        "created_at",
        "updated_at",
        "verified",
        "is_verified",
        "verified_at",
        "approved_at",
    }
)
PROTECTED_SUFFIXES = ("_by", "_verified")


def is_protected(name: str) -> bool:
    return name in PROTECTED_FIELD_NAMES or name.endswith(PROTECTED_SUFFIXES)


class ModelSerializer(serializers.ModelSerializer):
    """Every model serializer of the project derives from this one."""

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            if is_protected(name):
                field.read_only = True
                field.required = False
        return fields


class DateField(serializers.DateField):
    """A date between 1900-01-01 and 2100-12-31 (``crm.validation``), as in forms and imports."""

    def __init__(self, **kwargs):
        from crm.validation import validate_date_in_range

        kwargs["validators"] = [*kwargs.get("validators", ()), validate_date_in_range]
        super().__init__(**kwargs)


class ScalarCharField(serializers.CharField):
    """One text value: a list or mapping is refused (DRF's ``CharField`` does too), NUL
    characters as well; for the values of a ``DictField`` whose keys the caller chooses."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)
