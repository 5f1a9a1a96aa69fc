"""Test settings: the product's settings plus a small app with encrypted test models."""

import os

# Hermetic: the suite never reads the developer's .env (``make run`` writes one with its own
# keys, language and database); only the real environment (CI's DATABASE_URL…) counts.
os.environ["CRM_ENV_FILE"] = ""

from crm.settings import *  # noqa: E402, F403
from crm.settings import INSTALLED_APPS, PASSWORD_HASHERS  # noqa: E402

# tests.plugin_app stands in for an app built on customers: it plugs into the card through
# the registries only (card tabs, API sections, timeline, roles). Never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp", "tests.plugin_app"]
# Argon2 is deliberately slow; tests hash many passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LANGUAGE_CODE = "en"

# Threads of the live server and of concurrency tests must not keep connections open past
# their request, or the test databases cannot be dropped at the end of the run.
for _database in DATABASES.values():  # noqa: F405
    _database["CONN_MAX_AGE"] = 0
