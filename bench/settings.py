"""Settings of the HTTP benchmark's server: the product's, plus two bench-only pages.

    DJANGO_SETTINGS_MODULE=bench.settings gunicorn salesmarketing.wsgi ...

Everything comes from `salesmarketing.settings` (and so from the environment, as in
production); only the URL map and a template directory are added, so that the floor
pages (`bench/urls.py`) run on the same server, through the same middleware, without
adding a URL to the product.
"""

from copy import deepcopy

from salesmarketing.settings import *  # noqa: F403
from salesmarketing.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.urls"

TEMPLATES = deepcopy(TEMPLATES)
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]
TEMPLATES[1]["DIRS"] = [*TEMPLATES[1].get("DIRS", []), BASE_DIR / "bench" / "jinja2"]
