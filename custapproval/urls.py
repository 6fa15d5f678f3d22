from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from customers import api as customers_api
from workflow.admin.access import own_password_change
from workflow.api.urls import api_urls

admin.site.site_header = _("Customer approvals")
admin.site.site_title = _("Customer approvals")
admin.site.index_title = _("Customer master data under approval")

# A refused page is the admin's own page saying why, not Django's bare 403.
handler403 = "workflow.admin.denied.permission_denied"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Before the admin's own page of that address, which saves the form unaudited.
    path(
        "admin/password_change/",
        admin.site.admin_view(own_password_change),
        name="own_password_change",
    ),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    *api_urls(customers_api.register),
]
