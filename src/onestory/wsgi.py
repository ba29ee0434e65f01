import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onestory.settings")
application = get_wsgi_application()

# Import every view and build the URL maps now rather than on the first request (about 2 s:
# the API builds its schemas): with gunicorn's preload_app the workers inherit them, so no
# request waits after a start or a worker's recycling (bench/results/load.md).
_resolver = get_resolver()
_warm = (len(_resolver.url_patterns), len(_resolver.reverse_dict))
