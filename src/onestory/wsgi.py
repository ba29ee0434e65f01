import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application
from django.template.loader import get_template
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onestory.settings")
application = get_wsgi_application()

# Import every view, build the URL maps and compile OneStory's templates now rather than on
# each worker's first requests (about 2 s for the URLs alone: the API builds its schemas):
# with gunicorn's preload_app the workers inherit them, so no request waits after a start
# or a worker's recycling (bench/results/load.md).
_resolver = get_resolver()
_warm = (len(_resolver.url_patterns), len(_resolver.reverse_dict))
_templates = Path(__file__).resolve().parent / "templates"
for _path in sorted(_templates.rglob("*.html")):
    get_template(_path.relative_to(_templates).as_posix())
