"""WSGI entry point (gunicorn salesmarketing.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmarketing.settings")
application = get_wsgi_application()
