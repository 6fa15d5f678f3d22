"""Import customers from a CSV or XLSX file, as the admin Import page does."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from customers.models import Customer
from workflow import selectors
from workflow.importing import profiles
from workflow.importing.plan import ImportOptions
from workflow.models import Source
from workflow.services import governed_records_import


class Command(BaseCommand):
    help = (
        "Import customers from FILE. Every row is imported, or none. Changes to fields under "
        "approval follow the data entity behavior (the parameters' setting unless --behaviour)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--user", required=True, help="The user the import acts as."
        )
        parser.add_argument("--behaviour", choices=["allow", "reject", "propose"])
        parser.add_argument(
            "--dry-run", action="store_true", help="Check only; write nothing."
        )
        parser.add_argument(
            "--encoding", choices=["auto", "utf-8", "windows-1252"], default="auto"
        )
        parser.add_argument("--delimiter", choices=["auto", ",", ";"], default="auto")
        parser.add_argument(
            "--decimal",
            choices=["point", "comma"],
            default="point",
            help="How numbers are written: point (1234.56) or comma (1234,56).",
        )
        parser.add_argument("--ignore-unknown-columns", action="store_true")
        parser.add_argument(
            "--sheet",
            default="",
            help="For a workbook: the sheet to read (default: the first with data).",
        )
        parser.add_argument(
            "--justification",
            default="",
            help="Why the changes are needed: one justification for every proposal "
            "the import makes (required when the workflow asks for one).",
        )
        parser.add_argument(
            "--profile",
            default="",
            help="The import profile that reads the file's columns, such as "
            "d365-customers-v3 for a Dynamics 365 Customers V3 export: "
            + ", ".join(p.name for p in profiles.profiles_for(Customer)),
        )

    def handle(self, *args, **options) -> None:
        actor = (
            get_user_model()._default_manager.filter(username=options["user"]).first()
        )
        if actor is None:
            raise CommandError(f"There is no user {options['user']!r}.")
        behaviour = (
            options["behaviour"]
            or selectors.approval_settings_for(Customer).data_entity_behavior
        )
        report = governed_records_import(
            model=Customer,
            path=options["file"],
            file_name=options["file"],
            options=ImportOptions(
                behaviour=behaviour,
                encoding=options["encoding"],
                delimiter=options["delimiter"],
                decimal_format=options["decimal"],
                ignore_unknown_columns=options["ignore_unknown_columns"],
                sheet=options["sheet"],
                profile=options["profile"],
                justification=options["justification"],
            ),
            actor=actor,
            dry_run=options["dry_run"],
            source=Source.COMMAND,
        )
        counts = report.counts
        columns = report.columns
        if columns.get("profile"):
            self.stdout.write(
                f"Read with the import profile {columns['profile']!r}: "
                f"{columns['read']} columns fill fields, "
                f"{columns['profile_ignored_count']} have no field here."
            )
        if columns.get("ignored_count"):
            self.stdout.write(
                f"Ignored {columns['ignored_count']} unknown columns: "
                + ", ".join(columns["ignored"])
            )
        self.stdout.write(
            f"{report.total_rows} rows: {counts.get('new', 0)} new, {counts.get('updated', 0)} updated, "
            f"{counts.get('unchanged', 0)} unchanged, {counts.get('proposals', 0)} with proposed changes, "
            f"{counts.get('invalid', 0)} with errors."
        )
        for row in report.rows:
            for change in row.get("changes", []):
                proposed = " (proposed)" if change["proposed"] else ""
                self.stdout.write(
                    f"line {row['line']}, {row['key']}: {change['field']} "
                    f"{change['old']!r} -> {change['new']!r}{proposed}"
                )
        for error in report.errors:
            self.stdout.write(
                f"line {error['line']}, column {error['column']}, value {error['value']!r}: {error['message']}"
            )
        if report.error_count > len(report.errors):
            self.stdout.write(
                f"... and {report.error_count - len(report.errors)} more errors."
            )
        if report.refused:
            raise CommandError(report.refused)
        if report.error_count:
            raise CommandError(
                "Nothing was imported: fix the rows above and import the file again."
            )
        self.stdout.write(
            "Checked; nothing was written (dry run)."
            if options["dry_run"]
            else "Imported."
        )
