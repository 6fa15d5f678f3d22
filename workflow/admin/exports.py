"""The Export page: each column by the label the record's form gives its field, in the
reader's language, and the name it has in the file where that differs."""

from __future__ import annotations

from django.utils.html import format_html
from import_export.admin import ExportMixin
from import_export.forms import SelectableFieldsExportForm


class LabelledExportForm(SelectableFieldsExportForm):
    """django-import-export names the columns on its page after the field names
    ("Credit Limit"), in English whatever the language."""

    def _get_field_label(self, resource, field_name: str) -> str:
        label = resource.column_label(field_name)
        if resource.headers_are_labels:
            return label
        # The customers' export keeps field names as headers, so that the file
        # imports back as it is: the page says which column each label becomes.
        field = resource.fields.get(field_name)
        header = field.column_name if field and field.column_name else field_name
        return format_html("{} <code>{}</code>", label, header)


class LabelledExportMixin(ExportMixin):
    """ExportMixin whose page names the columns by their labels; the resources are
    `workflow.resources.FormulaSafeResource`s."""

    export_form_class = LabelledExportForm
