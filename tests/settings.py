"""Settings for the test suite: production settings (DEBUG off), with what tests need on top."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-key-for-the-test-suite-only-0123456789abcdef")

from threadline.settings import *  # noqa: E402, F403
from threadline.settings import STORAGES  # noqa: E402

# The HTTPS redirect stays on in production; the test client speaks plain HTTP.
SECURE_SSL_REDIRECT = False
# Hashed static names need collectstatic; tests serve the files as they are.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The real hasher takes ~0.3 s a password by design; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Schemathesis calls the application in-process as http://localhost.
ALLOWED_HOSTS = ["testserver", "localhost"]
