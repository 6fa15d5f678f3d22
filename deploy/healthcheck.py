"""The web container's health check: this gunicorn answers /health/web/ with 200.

Standard library only, so that it costs no Django start-up: docker-compose runs it
every ten seconds (`python deploy/healthcheck.py`).
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

URL = "http://127.0.0.1:8000/health/web/"

try:
    with urllib.request.urlopen(URL, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except (urllib.error.URLError, OSError) as error:
    print(f"{URL}: {error}", file=sys.stderr)
    sys.exit(1)
