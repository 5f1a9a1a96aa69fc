"""Querysets of models whose rows are encrypted under per-subject data keys."""

from django.db import models

from crm.encryption import data_keys_preload


class KeyPreloadingQuerySet(models.QuerySet):
    """``.preload_keys()``: unwrap every row's data key in one query before the rows load.

    Without it each subject's key is fetched when its first value is decrypted, one query
    per subject on the ``keys`` database; with it a page of 50 rows costs one.
    """

    key_field = "data_key_id"

    def preload_keys(self):
        clone = self._chain()
        clone._preload_keys = True
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._preload_keys = getattr(self, "_preload_keys", False)
        return clone

    def _fetch_all(self):
        if self._result_cache is None and getattr(self, "_preload_keys", False):
            key_ids = self.values_list(self.key_field, flat=True)
            key_ids._preload_keys = False
            data_keys_preload(key_ids)
        super()._fetch_all()
