"""The pages at two sizes of the book, timed in alternation after a warm-up.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/custapproval \\
        python scripts/bench_pages.py [--large 1000000] [--keep]

Builds two scratch databases (<name>_pages_<size>), each with `size` customers and a
tenth as many pending proposals, each with a work item for one approver (the dashboard's
tallies counted again after these writes made around the services), then times every
page at both sizes, alternating the sizes run by run after one untimed request to each,
and prints the medians, T(large)/T(small) and the queries at both sizes. `make bench`
runs it with the default sizes (100,000 and 1,000,000 customers); `--keep` keeps the
databases and reuses them on the next run (building 1M customers takes some minutes).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402  (sets the environment Django reads)


def pages(size: int, group: int) -> dict[str, str]:
    """The pages timed, for a book of `size` customers (accounts B0000000 on)."""
    customers = "/admin/customers/customer/"
    return {
        "home page (dashboard)": "/admin/",
        "My work items": "/admin/workflow/workitem/",
        "customer list": customers,
        "customer list, last page one may open (100)": f"{customers}?p=100",
        "customer list, page 5,000 asked": f"{customers}?p=5000",
        # The last 1,000 accounts and the last tenth of them: by the account index in
        # order they would come after every other customer.
        "customer list, account prefix (last 1,000)": (
            f"{customers}?q=" + f"B{size - 1000:07d}".rstrip("0")
        ),
        "customer list, account prefix (last tenth)": (
            f"{customers}?q=" + f"B{size - size // 10:07d}".rstrip("0")
        ),
        "customer list, name search": f"{customers}?q=Bench+customer+12345",
        "customer list, by group": f"{customers}?customer_group__id__exact={group}",
        "customer list, pending approval": f"{customers}?approval_status=pending",
        # The REST API's list: cursor pages in account order, never a count.
        "API customer list, first page": "/api/v1/customers/",
        "API customer list, a page near the end": (
            "/api/v1/customers/?cursor=" + _cursor(f"B{size - 1000:07d}")
        ),
        "API customer list, by group": "/api/v1/customers/?group=10",
        "API customer list, pending approval": "/api/v1/customers/?status=pending",
    }


def _cursor(position: str) -> str:
    """A cursor of DRF's CursorPagination that starts after `position` (an account)."""
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


# The goal: a page at 10x the data takes at most this much longer.
FLAT = 1.5


def database_exists(name: str) -> bool:
    from django.db import connection

    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def build(name: str, size: int) -> None:
    """`size` customers, a tenth of them with a pending proposal and a work item."""
    from django.core.management import call_command
    from django.db import connection

    from workflow.services.tallies import dashboard_tallies_recount

    bench.drop_database(name)
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    bench.use_database(name)
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    users = users_by_name()
    bench.approvals(True, users["admin"])
    with bench.search_indexes_dropped():
        for offset in range(0, size, 100_000):
            bench.copy_customers(min(100_000, size - offset), offset=offset)
    bench.make_work_items(size // 10, users["approver"], users["clerk"])
    dashboard_tallies_recount()
    bench.sql("VACUUM ANALYZE")


def users_by_name() -> dict:
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.all()}


def customers_in(name: str) -> int:
    bench.use_database(name)
    from customers.models import Customer

    try:
        return Customer.objects.filter(account__startswith="B").count()
    except Exception:  # noqa: BLE001 (a database left half built by a stopped run)
        return -1


def time_pages(names: dict[int, str], runs: int) -> list[tuple[str, str]]:
    from django.test import Client

    from customers.models import CustomerGroup

    clients = {}
    urls = {}
    for size, name in names.items():
        bench.use_database(name)
        urls[size] = pages(size, CustomerGroup.objects.get(code="10").pk)
        users = users_by_name()
        clients[size] = {}
        for role in ("approver", "clerk"):
            client = Client()
            client.force_login(users[role])
            clients[size][role] = client
    small, large = sorted(names)
    rows = []
    for page in urls[small]:
        role = "clerk" if page.startswith(("customer", "API")) else "approver"
        at_small, at_large = bench.timed_in_alternation(
            runs,
            *(
                (names[size], clients[size][role], urls[size][page])
                for size in (small, large)
            ),
        )
        s, b = at_small["seconds"], at_large["seconds"]
        sq, bq = at_small["queries"], at_large["queries"]
        verdict = "flat" if b / s <= FLAT and sq == bq else "NOT FLAT"
        rows.append(
            (
                f"8. {page}: ms at {small:,} / {large:,} customers, queries",
                f"{s * 1000:.0f} / {b * 1000:.0f} (ratio {b / s:.2f}), "
                f"{sq:.0f} / {bq:.0f}  {verdict}",
            )
        )
    return rows


def pages_section(*, small: int, large: int, runs: int, keep: bool) -> list:
    """Section 8 of `make bench`: the pages at `small` and `large` customers."""
    from django.core.management import call_command
    from django.db import connection

    base = connection.settings_dict["NAME"]
    names = {size: f"{base}_pages_{size}" for size in (small, large)}
    try:
        for size, name in names.items():
            if keep and database_exists(name) and customers_in(name) == size:
                # Kept from an earlier run: brought up to the code's migrations.
                call_command("migrate", verbosity=0)
            else:
                started = time.perf_counter()
                build(name, size)
                print(
                    f"built {name} in {time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                )
        return time_pages(names, runs)
    finally:
        bench.use_database(base)
        if not keep:
            for name in names.values():
                bench.drop_database(name)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases and reuse them"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("Set DATABASE_URL to PostgreSQL.", file=sys.stderr)
        return 2
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()
    started = time.perf_counter()
    rows = pages_section(
        small=args.small, large=args.large, runs=args.runs, keep=args.keep
    )
    width = max(len(name) for name, _ in rows)
    print(f"\nPages, {args.runs} alternating runs each (medians); load: {load()}")
    print(f"total {time.perf_counter() - started:.0f} s\n")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return (
        f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    sys.exit(main())
