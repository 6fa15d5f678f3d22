"""Reading what the customer pages and an import report show."""

from __future__ import annotations


def form_values(response) -> dict[str, object]:
    """The values a customer form shows, as the browser posts them back (with the
    record's version and values the form was loaded with)."""
    form = response.context["adminform"].form
    data = {}
    if response.context.get("record_version"):
        data["_record_version"] = response.context["record_version"]
    if response.context.get("record_loaded"):
        data["_record_loaded"] = response.context["record_loaded"]
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = value
    return data


def form_errors(response) -> dict[str, list[str]]:
    """The form's errors by field ("__all__" for the form's own), as the page shows them."""
    return {
        name: list(messages)
        for name, messages in response.context["adminform"].form.errors.items()
    }


def row_errors(report) -> list[tuple[int, str, str]]:
    """Each error of an import as (line, column, message)."""
    return [(e["line"], e["column"], e["message"]) for e in report.errors]
