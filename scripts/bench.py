"""make bench: ours against django-import-export's defaults and raw PostgreSQL, side by side.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/custapproval make bench

Builds its own data in a scratch database (test_<name>, dropped at the end), runs each
measurement at least three times, alternating the contenders, and prints one table of
medians and ratios, plus peak Python memory of the imports. Not part of CI.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "custapproval.settings.local")
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The home page is timed computing its dashboard, not reading it from the cache.
os.environ["DASHBOARD_CACHE_SECONDS"] = "0"


def iban_of(n: int, bank: str = "ABNA") -> str:
    """A valid Dutch IBAN of its own for customer n (another bank: a new account).

    Each customer has its own, as in a real file: a file that repeats a few IBANs
    would let an import's remembered verdicts skip the IBAN check, which a real one
    does not."""
    bban = f"{bank}{n:010d}"
    digits = "".join(str(int(c, 36)) for c in bban + "NL00")
    return f"NL{98 - int(digits) % 97:02d}{bban}"


COLUMNS = [
    "account",
    "name",
    "customer_group",
    "credit_limit",
    "payment_terms",
    "bank_account",
    "phone",
    "city",
]
ROWS: list[list[str]] = []


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def measured(memory: bool = False):
    """Seconds and queries; with `memory`, the peak of Python allocations (slower)."""
    from django.db import connection

    counter = QueryCounter()
    result = {}
    if memory:
        tracemalloc.start()
    start = time.perf_counter()
    with connection.execute_wrapper(counter):
        yield result
    result["seconds"] = time.perf_counter() - start
    result["queries"] = counter.count
    if memory:
        result["peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()


# The realistic update (issue 17): every row renamed with a new phone, and of every 100
# rows 5 raise the credit limit, 3 give a new IBAN (both proposed for approval) and 2
# lower the credit limit, which the demo workflow approves automatically.
MIX = {
    "credit limit up": range(0, 5),
    "new IBAN": range(5, 8),
    "credit limit down": range(8, 10),
}


def write_csv(path: Path, count: int, *, changed: bool) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(COLUMNS)
        for n in range(count):
            limit = 10000 + (n % 50) * 1000
            iban = iban_of(n)
            if changed and n % 100 in MIX["credit limit up"]:
                limit += 500
            elif changed and n % 100 in MIX["new IBAN"]:
                iban = iban_of(n, bank="INGB")
            elif changed and n % 100 in MIX["credit limit down"]:
                limit -= 500
            writer.writerow(
                [
                    f"B{n:07d}",
                    f"Bench customer {n}{' (renamed)' if changed else ''}",
                    "10",
                    f"{limit}.00",
                    "Net30",
                    iban,
                    f"+31 20 {n:07d}" if not changed else f"+31 30 {n:07d}",
                    "Utrecht",
                ]
            )


def write_xlsx(path: Path, count: int) -> None:
    """The rows of `write_csv` as a workbook, written as openpyxl streams it."""
    from openpyxl import Workbook

    source = path.with_suffix(".csv")
    write_csv(source, count, changed=False)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Customers")
    with source.open(newline="") as handle:
        for row in csv.reader(handle, delimiter=";"):
            sheet.append(row)
    book.save(path)


def far_dimension_copy(source: Path, target: Path) -> None:
    """The same workbook with a sheet that declares A1:XFD1048576 and has a formatted,
    empty cell there, as Excel writes after a far cell was once touched."""
    import re
    import zipfile

    sheet = "xl/worksheets/sheet1.xml"
    with (
        zipfile.ZipFile(source) as old,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new,
    ):
        for info in old.infolist():
            data = old.read(info)
            if info.filename == sheet:
                text = re.sub(r"<dimension [^>]*/>", "", data.decode())
                text = re.sub(
                    r"(<worksheet[^>]*>)", r'\1<dimension ref="A1:XFD1048576"/>', text
                )
                text = text.replace(
                    "</sheetData>",
                    '<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>',
                )
                data = text.encode()
            new.writestr(info.filename, data)


def wide_header_copy(source: Path, target: Path, columns: int) -> None:
    """The same CSV with a header of `columns` columns (the rows keep theirs)."""
    with source.open() as old, target.open("w") as new:
        header = old.readline().rstrip("\n")
        extra = columns - len(header.split(";"))
        new.write(header + "".join(f";extra{n}" for n in range(extra)) + "\n")
        for line in old:
            new.write(line)


def awkward_files(work: Path, rows: int, runs: int, actor) -> list[tuple[str, str]]:
    """A preview (read and plan) of the same rows as a normal workbook and as one whose
    sheet declares A1:XFD1048576; as a normal CSV and under a 40,000-column header."""
    from django.test import override_settings

    from customers.models import Customer
    from workflow.importing.plan import ImportOptions
    from workflow.services import governed_records_import

    files = {
        "xlsx": work / "normal.xlsx",
        "far": work / "far.xlsx",
        "csv": work / "normal.csv",
        "wide": work / "wide.csv",
    }
    write_xlsx(files["xlsx"], rows)
    far_dimension_copy(files["xlsx"], files["far"])
    write_csv(files["csv"], rows, changed=False)
    wide_header_copy(files["csv"], files["wide"], 40_000)

    def preview(path: Path) -> Callable[[], dict]:
        def run() -> dict:
            with measured() as result:
                report = governed_records_import(
                    model=Customer,
                    path=path,
                    file_name=path.name,
                    options=ImportOptions(
                        behaviour="propose", ignore_unknown_columns=True
                    ),
                    actor=actor,
                    dry_run=True,
                )
            assert report.ok and report.total_rows == rows, (
                report.refused or report.errors[:3]
            )
            return result

        return run

    with override_settings(IMPORT_MAX_COLUMNS=50_000, IMPORT_MAX_ROW_CHARS=1_000_000):
        times = median_runs(
            runs, {name: preview(path) for name, path in files.items()}, lambda: None
        )
        peaks = {}
        for name, path in files.items():
            with measured(memory=True) as peak:
                preview(path)()
            peaks[name] = peak["peak_mb"]

    def row(normal: str, awkward: str) -> str:
        first, second = times[normal]["seconds"], times[awkward]["seconds"]
        return (
            f"{first:.2f} / {second:.2f} (ratio {second / first:.2f}); "
            f"peak {peaks[normal]:.1f} / {peaks[awkward]:.1f} MB"
        )

    return [
        (
            f"7. preview of {rows:,} rows, s: workbook / same rows declaring A1:XFD1048576",
            row("xlsx", "far"),
        ),
        (
            f"7. preview of {rows:,} rows, s: CSV / same rows under a 40,000-column header",
            row("csv", "wide"),
        ),
    ]


def models_count(name: str):
    from django.db.models import Count

    return Count(name)


def sql(statement: str, params=None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def truncate(tables: str) -> None:
    # The audit table refuses DELETE and TRUNCATE (also by CASCADE) by trigger; the owner
    # of a scratch database may switch its triggers off for one transaction.
    sql(
        "ALTER TABLE workflow_auditentry DISABLE TRIGGER USER; "
        f"TRUNCATE {tables} CASCADE; "
        "ALTER TABLE workflow_auditentry ENABLE TRIGGER USER"
    )


def reset_bench_rows() -> None:
    """No proposals, and of the customers only the demo's. The table is emptied and
    those put back (as kept the first time), not the bench's rows deleted: every
    contender starts from the same compact table, not from one that holds the last
    contender's dead rows until a vacuum comes by."""
    sql(
        "CREATE TABLE IF NOT EXISTS bench_kept_customers AS SELECT * "
        "FROM customers_customer WHERE account NOT LIKE 'B%%' AND account NOT LIKE 'Z%%'"
    )
    truncate(
        "workflow_auditentry, workflow_workitem, workflow_proposedchange, "
        "workflow_changeproposal, customers_customer"
    )
    sql("INSERT INTO customers_customer SELECT * FROM bench_kept_customers")


class Book:
    """The bench's customers (B0000000 …) as `copy_customers` makes them, made fresh
    before each contender of an update: only the rows the last contenders may have
    changed (the first `touched`), so that a contender that changes 1,000 rows costs a
    restore of 1,000 rows, not of the whole book."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.touched = rows  # Unknown at first: made anew whole.

    def changing(self, rows: int, run: Callable[[], object]) -> Callable[[], object]:
        """`run`, noting that it may change the first `rows` customers."""

        def noted() -> object:
            self.touched = max(self.touched, rows)
            return run()

        return noted

    def fresh(self) -> None:
        truncate(
            "workflow_auditentry, workflow_workitem, workflow_proposedchange, "
            "workflow_changeproposal"
        )
        if self.touched >= self.rows:
            reset_bench_rows()
        elif self.touched:
            sql(
                "DELETE FROM customers_customer WHERE account LIKE 'B%%' AND account < %s",
                [f"B{self.touched:07d}"],
            )
        restored = min(self.touched, self.rows)
        if restored >= 20_000:
            # Every contender then starts from the same freshly built search indexes.
            load_customers(restored)
        else:
            copy_customers(restored)
        self.touched = 0


def copy_customers(count: int, *, offset: int = 0) -> None:
    """Raw COPY of `count` customers: the floor no Python import can beat."""
    from django.db import connection

    from customers.models import CustomerGroup, PaymentTerms

    group = CustomerGroup.objects.get(code="10").pk
    terms = PaymentTerms.objects.get(code="Net30").pk
    buffer = io.StringIO()
    for n in range(offset, offset + count):
        limit = 10000 + (n % 50) * 1000
        buffer.write(
            f"B{n:07d}\tBench customer {n}\t{group}\tEUR\t{limit}.00\tf\t\t\t\t{iban_of(n)}\tf\tf\t\t"
            f"+31 20 {n:07d}\t\t\tUtrecht\tNL\tnow\tnow\t{terms}\n"
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            "COPY customers_customer (account, name, customer_group_id, currency, credit_limit, "
            "mandatory_credit_limit, credit_rating, payment_specification, tax_exempt_number, bank_account, "
            "exclude_interest_charges, exclude_collection_fees, email, phone, street, postal_code, city, "
            "country, created_at, updated_at, payment_terms_id) FROM STDIN",
            buffer,
        )


def load_customers(count: int) -> None:
    """The bench's first `count` customers made, not timed: copied as one loads many
    rows, the search indexes built after."""
    with search_indexes_dropped():
        copy_customers(count)


@contextmanager
def search_indexes_dropped():
    """Loads many rows the way one would: trigram indexes built after, not per row."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'customers_customer' AND indexdef LIKE '%%gin_trgm_ops%%'"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _name, definition in indexes:
                cursor.execute(definition)


def copy_update_from(path: Path) -> None:
    """Raw COPY into a temporary table and one UPDATE … FROM: the floor for updates."""
    from django.db import connection, transaction

    from workflow.enforcement import engine_writes

    # The floor writes fields under approval directly, as only the engine may.
    with transaction.atomic(), engine_writes(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_in (account text, name text, customer_group text, credit_limit numeric, "
            "payment_terms text, bank_account text, phone text, city text) ON COMMIT DROP"
        )
        with path.open() as handle:
            cursor.cursor.copy_expert(
                "COPY bench_in FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)",
                handle,
            )
        cursor.execute(
            "UPDATE customers_customer c SET name = b.name, credit_limit = b.credit_limit, "
            "bank_account = b.bank_account, phone = b.phone, city = b.city, updated_at = now() "
            "FROM bench_in b WHERE c.account = b.account"
        )


def plain_resource_import(path: Path, limit: int) -> int:
    """django-import-export with its defaults: a plain ModelResource, import_data, no bulk."""
    import tablib
    from import_export import fields, resources, widgets

    from customers.models import Customer, CustomerGroup, PaymentTerms

    class PlainCustomerResource(resources.ModelResource):
        customer_group = fields.Field(
            "customer_group",
            "customer_group",
            widgets.ForeignKeyWidget(CustomerGroup, "code"),
        )
        payment_terms = fields.Field(
            "payment_terms",
            "payment_terms",
            widgets.ForeignKeyWidget(PaymentTerms, "code"),
        )

        class Meta:
            model = Customer
            import_id_fields = ["account"]
            fields = COLUMNS

    with path.open() as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        dataset = tablib.Dataset(headers=header)
        for n, row in enumerate(reader):
            if n >= limit:
                break
            dataset.append(row)
    from django.db import transaction

    from workflow.enforcement import engine_writes

    # The library's default path writes fields under approval directly, which the
    # product refuses; the baseline is allowed to, so that it measures the library.
    with transaction.atomic(), engine_writes():
        result = PlainCustomerResource().import_data(
            dataset, dry_run=False, raise_errors=True
        )
    return result.totals.get("new", 0) + result.totals.get("update", 0)


def ours(path: Path, behaviour: str, actor) -> dict:
    from customers.models import Customer
    from workflow.importing.plan import ImportOptions
    from workflow.services import governed_records_import

    report = governed_records_import(
        model=Customer,
        path=path,
        file_name=path.name,
        options=ImportOptions(behaviour=behaviour),
        actor=actor,
        dry_run=False,
    )
    if not report.ok:
        raise SystemExit(f"our import failed: {report.refused or report.errors[:3]}")
    return report.counts


def median_runs(
    runs: int,
    contenders: dict[str, Callable[[], dict]],
    before: Callable[[], None],
    warm_up: dict[str, Callable[[], object]] | None = None,
    once: frozenset[str] = frozenset(),
) -> dict:
    """Each contender `runs` times, in turn (A B C A B C …); medians per contender.

    With `warm_up`, each contender first runs once on a small input, not timed: the
    first run of a code path pays for imports, caches and the connection's first
    statements, which would otherwise land on whichever contender runs first.
    Contenders in `once` run in the first round only (a secondary figure, which keeps
    the default run under ten minutes).
    """
    for run in (warm_up or {}).values():
        before()
        run()
    samples: dict[str, list[dict]] = {name: [] for name in contenders}
    for round_number in range(runs):
        for name, run in contenders.items():
            if round_number and name in once:
                continue
            before()
            samples[name].append(run())
    return {
        name: {key: statistics.median(s[key] for s in results) for key in results[0]}
        for name, results in samples.items()
    }


def approvals(on: bool, actor) -> None:
    from customers.models import Customer
    from workflow import services

    services.approval_settings_update(
        model=Customer,
        approvals_enabled=on,
        data_entity_behavior="propose",
        enabled_fields=["credit_limit", "bank_account", "payment_terms"],
        actor=actor,
    )


def page_runs(args) -> int:
    """Timed requests per page and size: a page takes a tenth of a second, so more
    than an import's runs, for a median that one slow request does not move."""
    return max(args.runs, 5)


# Databases copied from the bench's own for a larger size of the same pages
# (`clone_database`), dropped when the bench ends.
CLONES: list[str] = []


def use_database(name: str) -> None:
    """The bench's connection points at database `name` from its next query on."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def drop_database(name: str) -> None:
    from django.db import connection

    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def clone_database(source: str, target: str) -> None:
    """`target` made a copy of database `source` as it stands, and used from now on:
    the smaller size of a page stays in `source`, to be timed beside the larger one
    in alternation (`timed_in_alternation`), not before it was loaded."""
    from django.db import connection

    use_database(source)
    file_copy = connection.pg_version >= 150000
    with connection._nodb_cursor() as cursor:
        # No session may be on a database being copied (a scratch database: ours).
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [source],
        )
        cursor.execute(f'DROP DATABASE IF EXISTS "{target}"')
        # The files copied at once, not each block through the write-ahead log.
        strategy = " STRATEGY = FILE_COPY" if file_copy else ""
        cursor.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"{strategy}')
    CLONES.append(target)
    use_database(target)


def timed_in_alternation(runs: int, *sides: tuple[str, object, str]) -> list[dict]:
    """The same page at each of `sides` (database, logged-in client, url): one untimed
    request to each, then `runs` timed requests to each, the sides in alternation and
    their order turned round every run. The median time and queries of each side;
    the connection is left on the last side (the larger size)."""
    samples: list[list[dict]] = [[] for _ in sides]
    for run in range(runs):
        order = list(enumerate(sides))
        for index, (database, client, url) in order if run % 2 == 0 else order[::-1]:
            use_database(database)
            # page_timing's untimed request opens the connection and warms it.
            samples[index].append(page_timing(client, url, 1))
    use_database(sides[-1][0])
    return [
        {
            "seconds": statistics.median(s["seconds"] for s in side),
            "queries": statistics.median(s["queries"] for s in side),
        }
        for side in samples
    ]


def page_timing(client, url: str, runs: int) -> dict:
    """Median time and queries of a page, after one request not timed (a warm-up)."""
    from django.db import connection

    assert client.get(url).status_code == 200, url
    seconds, queries = [], []
    for _ in range(runs):
        counter = QueryCounter()
        start = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = client.get(url)
        seconds.append(time.perf_counter() - start)
        queries.append(counter.count)
        assert response.status_code == 200, (url, response.status_code)
    return {
        "seconds": statistics.median(seconds),
        "queries": statistics.median(queries),
    }


# The customer list's status filter and searches, timed at the large size only; the
# terms find a few dozen customers among the million (bench_searchable_customers).
STATUS_PAGES = {
    "status not submitted": "?approval_status=draft",
    "status pending approval": "?approval_status=pending",
    "status changes requested": "?approval_status=changes_requested",
    "status conflict": "?approval_status=conflict",
    "status no proposed changes": "?approval_status=none",
    "search by city": "?q=Zierikzee",
    "search by e-mail": "?q=%40zeeuwsehandel.example",
    "search by IBAN in groups": "?q=GB33+BUKB+2020+1555+5555+55",
    "search by phone, national": "?q=020+012+3456",
}


def make_status_proposals(counts: dict[str, int], clerk) -> None:
    """Proposals in each open state and ended in conflict, on customers spread over
    the table (bench data through the model's transitions, not the services)."""
    from django.contrib.contenttypes.models import ContentType

    from customers.models import Customer
    from workflow import selectors
    from workflow.bulk_sql import instances_insert
    from workflow.models import ChangeProposal

    content_type = ContentType.objects.get_for_model(Customer)
    workflow = selectors.active_workflow_for(Customer)
    step = workflow.steps.order_by("sequence").first()
    total = sum(counts.values())
    customers = Customer.objects.filter(account__startswith="B")
    every = max(customers.count() // total, 1)
    picked = iter(list(customers.order_by("pk").values_list("pk", "account"))[::every])
    proposals = []
    for state, count in counts.items():
        for _ in range(count):
            pk, account = next(picked)
            proposal = ChangeProposal(
                content_type=content_type,
                object_id=pk,
                object_repr=account,
                created_by=clerk,
            )
            if state != "draft":
                proposal.submit(by=clerk, workflow=workflow)
                proposal.advance(next_step=step)
            if state == "changes_requested":
                proposal.request_change()
            if state == "conflict":
                proposal.mark_conflict()
            proposals.append(proposal)
    instances_insert(ChangeProposal, proposals)


def bench_searchable_customers(offset: int, count: int = 50) -> None:
    """A few customers in Zierikzee with their own e-mail domain and IBAN."""
    from customers.models import CustomerGroup

    group = CustomerGroup.objects.get(code="10").pk
    for n in range(offset, offset + count):
        sql(
            "INSERT INTO customers_customer (account, name, customer_group_id, currency, "
            "credit_limit, mandatory_credit_limit, credit_rating, payment_specification, "
            "tax_exempt_number, bank_account, exclude_interest_charges, "
            "exclude_collection_fees, email, phone, street, postal_code, city, country, "
            "created_at, updated_at) VALUES (%s, %s, %s, 'EUR', 10000, false, '', '', '', "
            "'GB33BUKB20201555555555', false, false, %s, '+31 113 555 000', '', '', "
            "'Zierikzee', 'NL', now(), now())",
            [
                f"Z{n:07d}",
                f"Zeeuwse handel {n}",
                group,
                f"finance{n}@zeeuwsehandel.example",
            ],
        )


def list_plan(client, url: str) -> tuple[str, int]:
    """The plan PostgreSQL chose for the list's queries that read the customer table:
    its scans of that table and of the proposals, and how many customer rows they read."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    scans: list[str] = []
    read = 0
    for query in captured:
        if 'FROM "customers_customer"' not in query["sql"]:
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
            (plan,) = cursor.fetchone()
        if isinstance(plan, str):
            plan = json.loads(plan)
        stack = [plan[0]["Plan"]]
        while stack:
            node = stack.pop()
            stack.extend(node.get("Plans", []))
            if node.get("Relation Name") == "customers_customer":
                read += (
                    node["Actual Rows"]
                    + node.get("Rows Removed by Filter", 0)
                    + node.get("Rows Removed by Index Recheck", 0)
                ) * node["Actual Loops"]
            if node["Node Type"].endswith("Scan") and (
                node.get("Relation Name") == "customers_customer"
                or node.get("Index Name", "").startswith("customers_customer")
            ):
                scans.append(
                    f"{node['Node Type']} {node.get('Index Name', '')}".strip()
                )
    return ", ".join(sorted(set(scans))), read


def customer_list(args, clerk, book: Book | None = None) -> list[tuple[str, str]]:
    """4. The customer list at the full size and at the large size, timed in
    alternation (the large size in a copy of the database, loaded further); its status
    filter and searches at the large size, with the plans PostgreSQL chose. With
    `book`, the full size is the book's customers, made fresh; else they are made
    anew. The bench goes on in the large size's database."""
    from django.db import connection
    from django.test import Client

    from customers.models import CustomerGroup

    rows: list[tuple[str, str]] = []
    if book is None:
        reset_bench_rows()
        load_customers(args.rows)
    else:
        book.fresh()
    sql("ANALYZE customers_customer")
    browser = Client()
    browser.force_login(clerk)
    group = CustomerGroup.objects.get(code="10").pk
    pages = {
        "unfiltered": "/admin/customers/customer/",
        "by account": "/admin/customers/customer/?q=B0000123",
        "by group": f"/admin/customers/customer/?customer_group__id__exact={group}",
    }
    # The full size stays in this database; the large one is a copy, loaded further.
    full_size = connection.settings_dict["NAME"]
    large_size = f"{full_size}_large"
    clone_database(full_size, large_size)
    with search_indexes_dropped():
        copy_customers(args.large - args.rows, offset=args.rows)
        bench_searchable_customers(args.large)
    make_status_proposals(
        {"draft": 200, "pending": 1_000, "changes_requested": 200, "conflict": 100},
        clerk,
    )
    # Vacuumed as after any large load: else autovacuum takes the new million rows on
    # while the pages here (and in section 5) are timed.
    sql("VACUUM ANALYZE")
    small_pages, large_pages = {}, {}
    for name, url in pages.items():
        small_pages[name], large_pages[name] = timed_in_alternation(
            page_runs(args), (full_size, browser, url), (large_size, browser, url)
        )
    for name in pages:
        rows.append(
            (
                f"4. customer list {name}: ms at {args.rows:,} / {args.large:,}, queries",
                f"{small_pages[name]['seconds'] * 1000:.0f} / {large_pages[name]['seconds'] * 1000:.0f} "
                f"(ratio {large_pages[name]['seconds'] / small_pages[name]['seconds']:.2f}), "
                f"{small_pages[name]['queries']:.0f} / {large_pages[name]['queries']:.0f}",
            )
        )
    for name, query in STATUS_PAGES.items():
        url = f"/admin/customers/customer/{query}"
        timing = page_timing(browser, url, page_runs(args))
        scans, read = list_plan(browser, url)
        full_scan = " SEQ SCAN OF THE CUSTOMERS" if "Seq Scan" in scans else ""
        rows.append(
            (
                f"4. customer list {name}: ms at {args.large:,}, queries; customers read; plan",
                f"{timing['seconds'] * 1000:.0f}, {timing['queries']:.0f}; {read:,}; "
                f"{scans}{full_scan}",
            )
        )
    return rows


def insert_like(template, overrides: dict[str, str], source: str, params=()) -> int:
    """Rows of `template`'s table, one per row of `source` (the SQL after SELECT …):
    every column as `template` holds it (built through the model and its transitions,
    as the services build one), but `overrides` (column -> SQL expression over
    `source`'s rows). One statement for any number of rows; returns the last key
    before them, so that the caller can pick the new rows out."""
    from django.db import connection

    opts = template._meta
    columns, values, values_params = [], [], []
    for model_field in opts.concrete_fields:
        if model_field.primary_key:
            continue
        columns.append(f'"{model_field.column}"')
        if model_field.column in overrides:
            values.append(overrides[model_field.column])
            continue
        values.append("%s")
        values_params.append(
            model_field.get_db_prep_save(
                model_field.pre_save(template, True), connection
            )
        )
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{opts.db_table}"')
        (before,) = cursor.fetchone()
        cursor.execute(
            f'INSERT INTO "{opts.db_table}" ({", ".join(columns)}) '
            f"SELECT {', '.join(values)} {source}",
            [*values_params, *params],
        )
    return before


def make_work_items(count: int, approver, clerk) -> None:
    """Pending proposals of a raised credit limit with one work item each for
    `approver`, on the first `count` bench customers (bench data, not a service: one
    proposal built through the model's transitions, copied by SQL)."""
    from django.contrib.contenttypes.models import ContentType

    from customers.models import Customer
    from workflow import selectors
    from workflow.models import ChangeProposal, ProposalState, ProposedChange, WorkItem

    content_type = ContentType.objects.get_for_model(Customer)
    workflow = selectors.active_workflow_for(Customer)
    step = workflow.steps.order_by("sequence").first()
    proposal = ChangeProposal(
        content_type=content_type, object_id=0, object_repr="", created_by=clerk
    )
    proposal.submit(by=clerk, workflow=workflow)
    proposal.advance(next_step=step)
    assert proposal.state == ProposalState.PENDING

    def apart(moment, position: str) -> str:
        # A millisecond apart, as made one after the other: a queue of a hundred
        # thousand items all made in the same instant would be an artefact of the bench.
        return f"'{moment.isoformat()}'::timestamptz + ({position}) * interval '1 millisecond'"

    in_order = "row_number() OVER (ORDER BY c.id)"
    before = insert_like(
        proposal,
        {
            "object_id": "c.id",
            "object_repr": "c.account",
            "created_at": apart(proposal.created_at, in_order),
            "submitted_at": apart(proposal.submitted_at, in_order),
        },
        "FROM customers_customer c WHERE c.account LIKE 'B%%' ORDER BY c.id LIMIT %s",
        [count],
    )
    made_in_order = "row_number() OVER (ORDER BY p.id)"
    made = (
        "FROM workflow_changeproposal p JOIN customers_customer c ON c.id = p.object_id "
        "WHERE p.id > %s ORDER BY p.id"
    )
    change = ProposedChange(
        proposal=proposal, field_name="credit_limit", proposed_by=clerk
    )
    insert_like(
        change,
        {
            "proposal_id": "p.id",
            "proposed_at": apart(change.proposed_at, made_in_order),
            # As the services store a decimal: its text, two places.
            "original_value": "to_jsonb(c.credit_limit::text)",
            "proposed_value": "to_jsonb((c.credit_limit + 1)::text)",
        },
        made,
        [before],
    )
    item = WorkItem(proposal=proposal, step=step, assignee=approver, submission_round=1)
    insert_like(
        item,
        {
            "proposal_id": "p.id",
            "created_at": apart(item.created_at, made_in_order),
        },
        made,
        [before],
    )
    # Written around the services: the dashboard's tallies are counted again.
    from workflow.services.tallies import dashboard_tallies_recount

    dashboard_tallies_recount()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--plain-rows", type=int, default=1_000, help="rows for the slow default import"
    )
    parser.add_argument(
        "--large",
        type=int,
        default=1_000_000,
        help="customers for the large changelist",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--pages",
        action="store_true",
        help="also section 8: every page at --rows and at --large customers, in "
        "alternation (builds both; about 4 minutes for 1,000,000 on 2 cores)",
    )
    parser.add_argument(
        "--imports-only",
        action="store_true",
        help="only sections 1 and 2, the imports (and what the mix's proposals became)",
    )
    parser.add_argument(
        "--customer-list-only",
        action="store_true",
        help="only section 4, the customer list (its status filter and searches)",
    )
    parser.add_argument(
        "--million",
        action="store_true",
        help="only section 9: a million rows end to end (create, then the realistic "
        "update) through import_customers and the Import page's background path, "
        "beside COPY of the same rows; wall time, rows/s, ratio to COPY, peak memory "
        "(scripts/bench_million.py; tens of minutes at a million rows)",
    )
    parser.add_argument(
        "--million-rows",
        type=int,
        default=1_000_000,
        help="rows for --million (smaller for a trial)",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print(
            "Set DATABASE_URL to PostgreSQL; the benchmark compares against COPY.",
            file=sys.stderr,
        )
        return 2

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    test_name = connection.settings_dict["NAME"]
    started = time.perf_counter()
    table: list[tuple[str, str]] = []

    def progress(section: str) -> None:
        print(f"[{time.perf_counter() - started:5.0f} s] {section}", file=sys.stderr)

    try:
        from django.contrib.auth import get_user_model

        call_command("seed_demo", verbosity=0)
        users = {u.username: u for u in get_user_model().objects.all()}
        clerk, approver = users["clerk"], users["approver"]
        work = Path(tempfile.mkdtemp(prefix="bench-"))
        create_file, update_file, small_update = (
            work / "create.csv",
            work / "update.csv",
            work / "update10k.csv",
        )
        if args.million:
            import bench_million

            table = bench_million.million_section(
                rows=args.million_rows, users=users, work=work, progress=progress
            )
            args.rows, args.runs = args.million_rows, 1
            return report(table, args, started)
        if args.customer_list_only:
            progress("4. Customer list at the full size and at the large size")
            approvals(True, users["admin"])
            return report(customer_list(args, clerk), args, started)
        small_rows = min(10_000, args.rows)
        warm_rows = min(1_000, args.rows)
        warm_create, warm_update = work / "warm_create.csv", work / "warm_update.csv"
        write_csv(create_file, args.rows, changed=False)
        write_csv(update_file, args.rows, changed=True)
        small_create = work / "create10k.csv"
        write_csv(small_create, small_rows, changed=False)
        write_csv(small_update, small_rows, changed=True)
        write_csv(warm_create, warm_rows, changed=False)
        write_csv(warm_update, warm_rows, changed=True)

        def timed(run: Callable[[], object], rows: int) -> Callable[[], dict]:
            def wrapper() -> dict:
                with measured() as result:
                    run()
                result["rows_per_s"] = rows / result["seconds"]
                result["queries_per_1000"] = result["queries"] / rows * 1000
                return result

            return wrapper

        def import_rows(
            number: str, what: str, results: dict, floor: str
        ) -> list[tuple[str, str]]:
            """Rows/s of ours at both sizes (timed in alternation), of the defaults and
            COPY, their ratios, and our queries per 1,000 rows at both sizes."""
            ours_full, ours_small = results["ours"], results["ours_small"]
            return [
                (
                    f"{number}. {what}, rows/s: ours at {args.rows:,} / {small_rows:,} rows (the smaller once)",
                    f"{ours_full['rows_per_s']:,.0f} / {ours_small['rows_per_s']:,.0f}",
                ),
                (
                    f"{number}. {what}, rows/s: django-import-export defaults",
                    f"{results['plain']['rows_per_s']:,.0f}",
                ),
                (
                    f"{number}. {what}, rows/s: {floor}",
                    f"{results['copy']['rows_per_s']:,.0f}",
                ),
                (
                    f"{number}. ours / defaults",
                    f"{ours_full['rows_per_s'] / results['plain']['rows_per_s']:.1f}x",
                ),
                (
                    f"{number}. ours / {floor}",
                    f"{ours_full['rows_per_s'] / results['copy']['rows_per_s']:.2f}",
                ),
                (
                    f"{number}. queries per 1,000 rows, ours at {args.rows:,} / {small_rows:,} rows",
                    f"{ours_full['queries_per_1000']:,.1f} / {ours_small['queries_per_1000']:,.1f}",
                ),
            ]

        # 1. Create import, approvals off. Each contender warms up on a small file;
        # then the contenders and our two sizes are timed in alternation.

        progress("1. Create import, approvals off")
        approvals(False, users["admin"])
        results = median_runs(
            args.runs,
            {
                "ours": timed(lambda: ours(create_file, "allow", clerk), args.rows),
                "ours_small": timed(
                    lambda: ours(small_create, "allow", clerk), small_rows
                ),
                "plain": timed(
                    lambda: plain_resource_import(create_file, args.plain_rows),
                    args.plain_rows,
                ),
                "copy": timed(lambda: copy_customers(args.rows), args.rows),
            },
            reset_bench_rows,
            once=frozenset({"ours_small"}),
            warm_up={
                "ours": lambda: ours(warm_create, "allow", clerk),
                "plain": lambda: plain_resource_import(warm_create, 100),
                "copy": lambda: copy_customers(warm_rows),
            },
        )
        table += import_rows("1", "create import", results, "raw COPY")

        # 2. Update import, the realistic mix (MIX), behaviour: propose.

        progress(
            "2. Update import, realistic mix (10% propose, 2% approved automatically)"
        )
        approvals(True, users["admin"])

        book = Book(args.rows)
        fresh_book = book.fresh
        changing = book.changing

        results = median_runs(
            args.runs,
            {
                "ours": timed(
                    changing(args.rows, lambda: ours(update_file, "propose", clerk)),
                    args.rows,
                ),
                "ours_small": timed(
                    changing(small_rows, lambda: ours(small_update, "propose", clerk)),
                    small_rows,
                ),
                "plain": timed(
                    changing(
                        args.plain_rows,
                        lambda: plain_resource_import(update_file, args.plain_rows),
                    ),
                    args.plain_rows,
                ),
                "copy": timed(
                    changing(args.rows, lambda: copy_update_from(update_file)),
                    args.rows,
                ),
            },
            fresh_book,
            once=frozenset({"ours_small"}),
            warm_up={
                "ours": changing(
                    warm_rows, lambda: ours(warm_update, "propose", clerk)
                ),
                "plain": changing(100, lambda: plain_resource_import(warm_update, 100)),
                "copy": changing(warm_rows, lambda: copy_update_from(warm_update)),
            },
        )
        table += import_rows(
            "2", "update import (realistic mix)", results, "COPY + UPDATE FROM"
        )
        if args.imports_only:
            # The outcome of the mix, once more, not timed: what the proposals became.
            from workflow.models import ChangeProposal

            fresh_book()
            changing(small_rows, lambda: ours(small_update, "propose", clerk))()
            states = dict(
                ChangeProposal.objects.values_list("state").annotate(
                    n=models_count("pk")
                )
            )
            table.append(
                (
                    f"2. proposals of the update of {small_rows:,} rows, by state",
                    ", ".join(f"{k} {v:,}" for k, v in sorted(states.items())),
                )
            )
            return report(table, args, started)

        # 3. Memory flat in the file size.
        from workflow.importing.read_ahead import AHEAD_BATCHES

        progress("3. Peak memory of the update import at two file sizes")
        # Peak Python memory (tracemalloc, which slows Python down) at two file sizes.
        memory_sizes = (min(5_000, args.rows), min(20_000, args.rows))
        peaks = []
        # These imports change the first 20,000 customers: only they need to be fresh.
        book.touched = min(book.touched, memory_sizes[1])
        for size in memory_sizes:
            write_csv(work / f"memory{size}.csv", size, changed=True)
            fresh_book()
            book.touched = size
            with measured(memory=True) as run:
                ours(work / f"memory{size}.csv", "propose", clerk)
            peaks.append(run["peak_mb"])
        table += [
            (
                f"3. peak Python memory of our update import (the importing process; its reading "
                f"process holds {AHEAD_BATCHES} batches at most), MB: {memory_sizes[0]:,} / {memory_sizes[1]:,} rows",
                f"{peaks[0]:.1f} / {peaks[1]:.1f}",
            ),
        ]

        # 4. Customer list at the full size and at the large size.

        progress("4. Customer list at the full size and at the large size")
        table += customer_list(args, clerk, book)

        # 5. My work items with 10k and with 100k pending work items.

        progress("5. My work items with 10k and with 100k pending work items")
        # On the first of section 4's million customers, without its proposals.
        truncate(
            "workflow_auditentry, workflow_workitem, workflow_proposedchange, "
            "workflow_changeproposal"
        )
        approver_browser = Client()
        approver_browser.force_login(approver)
        make_work_items(min(10_000, args.rows), approver, clerk)
        sql("VACUUM ANALYZE")
        # The few items stay in this database; the many are made in a copy of it,
        # and the two are timed in alternation. The bench goes on in the copy.
        few_items = connection.settings_dict["NAME"]
        many_items = f"{few_items}_items"
        clone_database(few_items, many_items)
        truncate("workflow_workitem, workflow_proposedchange, workflow_changeproposal")
        make_work_items(args.rows, approver, clerk)
        sql("VACUUM ANALYZE")
        few, many = timed_in_alternation(
            page_runs(args),
            (few_items, approver_browser, "/admin/workflow/workitem/"),
            (many_items, approver_browser, "/admin/workflow/workitem/"),
        )
        few_home, many_home = timed_in_alternation(
            page_runs(args),
            (few_items, approver_browser, "/admin/"),
            (many_items, approver_browser, "/admin/"),
        )
        table.append(
            (
                f"5. My work items: ms at {min(10_000, args.rows):,} / {args.rows:,} items, queries",
                f"{few['seconds'] * 1000:.0f} / {many['seconds'] * 1000:.0f} (ratio {many['seconds'] / few['seconds']:.2f}), "
                f"{few['queries']:.0f} / {many['queries']:.0f}",
            )
        )
        table.append(
            (
                f"5. home page, dashboard counted anew: ms at {min(10_000, args.rows):,} / {args.rows:,} proposals, queries",
                f"{few_home['seconds'] * 1000:.0f} / {many_home['seconds'] * 1000:.0f} "
                f"(ratio {many_home['seconds'] / few_home['seconds']:.2f}), "
                f"{few_home['queries']:.0f} / {many_home['queries']:.0f}",
            )
        )
        # 6. Approving 10k proposals in one go against one at a time.
        progress("6. Approving 10k proposals in one go against one at a time")
        from workflow.models import ChangeProposal
        from workflow.services import proposal_approve, proposals_approve_bulk

        bulk_count = min(10_000, args.rows)
        loop_count = min(100, bulk_count)

        def fresh_proposals(count: int) -> list[int]:
            truncate(
                "workflow_auditentry, workflow_workitem, workflow_proposedchange, "
                "workflow_changeproposal"
            )
            make_work_items(count, approver, clerk)
            return list(ChangeProposal.objects.values_list("pk", flat=True))

        bulk_runs, loop_runs = [], []
        for _ in range(args.runs):
            ids = fresh_proposals(bulk_count)
            with measured() as bulk:
                outcome = proposals_approve_bulk(proposal_ids=ids, actor=approver)
            assert len(outcome.applied) == bulk_count, (
                outcome.refused,
                outcome.conflicts[:3],
            )
            bulk_runs.append(bulk)
            ids = fresh_proposals(loop_count)
            with measured() as loop:
                for pk in ids:
                    proposal_approve(
                        proposal=ChangeProposal.objects.get(pk=pk), actor=approver
                    )
            loop_runs.append(loop)
        bulk_s = statistics.median(r["seconds"] for r in bulk_runs)
        bulk_q = statistics.median(r["queries"] for r in bulk_runs)
        loop_s = statistics.median(r["seconds"] for r in loop_runs) / loop_count
        loop_q = statistics.median(r["queries"] for r in loop_runs) / loop_count
        table += [
            (
                f"6. bulk approve of {bulk_count:,}: seconds, queries",
                f"{bulk_s:.1f}, {bulk_q:.0f}",
            ),
            (
                f"6. one at a time ({loop_count} measured): seconds, queries per proposal",
                f"{loop_s:.3f}, {loop_q:.0f}",
            ),
            (
                "6. bulk / one at a time, per proposal",
                f"{loop_s / (bulk_s / bulk_count):.1f}x",
            ),
        ]
        # 7. Awkward files: the same rows as a far-dimension workbook and a wide CSV.
        progress("7. Awkward files against normal files of the same rows")
        table += awkward_files(work, min(5_000, args.rows), args.runs, clerk)
        if args.pages:
            progress("8. The pages at two sizes, in alternation")
            import bench_pages

            # Its databases are named after the bench's own, not after a copy.
            use_database(test_name)

            table += bench_pages.pages_section(
                small=args.rows, large=args.large, runs=page_runs(args), keep=False
            )
    finally:
        use_database(test_name)
        for clone in CLONES:
            drop_database(clone)
        connection.creation.destroy_test_db(original_name, verbosity=0)

    return report(table, args, started)


def report(table: list[tuple[str, str]], args, started: float) -> int:
    width = max(len(name) for name, _ in table)
    pages = "" if args.million else f"; pages {page_runs(args)}"
    print(
        f"\nBenchmark, {args.runs} alternating runs each (medians{pages}), "
        f"{args.rows:,} rows; total {time.perf_counter() - started:.0f} s\n"
    )
    for name, value in table:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
