"""Routes the data keys and the search digests to their own database alias (``keys``) and
everything else to ``default``."""

KEYS_ALIAS = "keys"


# Search digests are derived from personal data: they live and die with the data keys.
_SEARCH_DIGEST_MODELS = {("crm", "searchdigest")}


def _is_key_model(app_label, model_name):
    if (app_label, model_name) in _SEARCH_DIGEST_MODELS:
        return True
    if (app_label, model_name) == ("audit", "chaincheckpoint"):
        return True  # the audit chain's anchor lives apart from the events it vouches for
    return app_label == "crm" and model_name == "datakey"


class KeysRouter:
    def db_for_read(self, model, **hints):
        return KEYS_ALIAS if _is_key_model(model._meta.app_label, model._meta.model_name) else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        # A data key is referenced by id only; no foreign key crosses the two databases.
        if _is_key_model(obj1._meta.app_label, obj1._meta.model_name) or _is_key_model(
            obj2._meta.app_label, obj2._meta.model_name
        ):
            return False
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if model_name is None:
            # RunPython/RunSQL operations: only on the main database, unless they say so.
            return hints.get("target_db", "default") == db
        if _is_key_model(app_label, model_name):
            return db == KEYS_ALIAS
        return db != KEYS_ALIAS
