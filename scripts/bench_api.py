"""The REST API's customer list, timed at the size the benchmark built (cursor pages).

`make bench` can call `api_customer_list(user, runs)` after its customer list section
(section 4), which leaves a million customers `B0000000`…; or run it alone:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/custapproval \
        .venv/bin/python scripts/bench_api.py --rows 1000000

Each page is read as a system would, with an API token: the first page, a page deep
in the list (a cursor near its end), and the filters by group, approval status and
changed since. Cursor pages read by the account's index: the last page costs what the
first does, and nothing counts the table.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "custapproval.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The benchmark reads as fast as it can; the per-token budget is not what is timed.
os.environ["API_THROTTLE_RATE"] = "1000000/second"


def _cursor(position: str) -> str:
    """A cursor of DRF's CursorPagination that starts after `position` (an account)."""
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


def _timing(client, url: str, runs: int) -> tuple[float, float, int]:
    """Median milliseconds and queries of `runs` reads, and the rows on the page."""
    from bench import QueryCounter
    from django.db import connection

    seconds, queries, rows = [], [], 0
    for _ in range(runs):
        counter = QueryCounter()
        start = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = client.get(url)
        seconds.append(time.perf_counter() - start)
        queries.append(counter.count)
        assert response.status_code == 200, (url, response.status_code)
        rows = len(response.json()["results"])
    return statistics.median(seconds) * 1000, statistics.median(queries), rows


def api_customer_list(user, runs: int = 3) -> list[tuple[str, str]]:
    """Rows for the benchmark's table: each API list read, its ms, queries and rows,
    and the scans PostgreSQL chose (a Seq Scan of the customers would be said)."""
    from bench import list_plan
    from django.db import connection
    from rest_framework.test import APIClient

    from workflow.services.tokens import api_token_create

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_customer")
        (total,) = cursor.fetchone()
        # Where the last pages start: one index probe from the end, done once.
        cursor.execute(
            "SELECT account FROM customers_customer ORDER BY account DESC "
            "LIMIT 1 OFFSET 150"
        )
        deep = (cursor.fetchone() or ("",))[0]
    _token, key = api_token_create(
        user=user, name=f"bench-{time.time_ns()}", actor=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    pages = {
        "first page": "/api/v1/customers/",
        "page near the end (cursor)": f"/api/v1/customers/?cursor={_cursor(deep)}",
        "by group": "/api/v1/customers/?group=10",
        "status pending": "/api/v1/customers/?status=pending",
        "changed since": "/api/v1/customers/?changed_since=2000-01-01",
    }
    rows = []
    for name, url in pages.items():
        ms, queries, found = _timing(client, url, runs)
        scans, read = list_plan(client, url)
        full = " SEQ SCAN OF THE CUSTOMERS" if "Seq Scan" in scans else ""
        rows.append(
            (
                f"API customer list {name}: ms at {total:,}, queries, rows; customers read; plan",
                f"{ms:.0f}, {queries:.0f}, {found}; {read:,}; {scans}{full}",
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("Set DATABASE_URL to PostgreSQL.", file=sys.stderr)
        return 2

    import django

    django.setup()
    from bench import copy_customers, reset_bench_rows, sql
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        call_command("seed_demo", verbosity=0)
        reset_bench_rows()
        copy_customers(args.rows)
        sql("ANALYZE")
        clerk = get_user_model().objects.get(username="clerk")
        for label, value in api_customer_list(clerk, args.runs):
            print(f"{label}\n    {value}")
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
