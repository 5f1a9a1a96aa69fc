"""Querysets of models whose rows are encrypted under per-subject data keys."""

from django.db import models

from crm.encryption import data_keys_preload


class KeyPreloadingQuerySet(models.QuerySet):
    """``.preload_keys()``: unwrap every row's data key in one query once the rows load.

    Without it each subject's key is fetched when its first value is decrypted, one query
    per subject on the ``keys`` database; with it a page of 50 rows costs one. The key ids
    are read from the rows just fetched (values open lazily, on first access), so the
    queryset's filter runs once, not a second time for the keys.
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
        fetching = self._result_cache is None
        super()._fetch_all()
        if fetching and getattr(self, "_preload_keys", False):
            data_keys_preload(
                {
                    key_id
                    for row in self._result_cache
                    if isinstance(row, models.Model)
                    and (key_id := row.__dict__.get(self.key_field)) is not None
                }
            )
