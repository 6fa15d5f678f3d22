"""The API's addresses: /api/v1/ for the endpoints, /api/schema/ and /api/docs/."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from .views import ImportJobViewSet, ProposalViewSet, WorkItemViewSet


def api_urls(*registrations: Callable[[DefaultRouter], None]) -> list:
    """The engine's endpoints plus those each governed app registers."""
    router = DefaultRouter()
    router.include_root_view = False
    router.register("proposals", ProposalViewSet, basename="proposal")
    router.register("work-items", WorkItemViewSet, basename="work-item")
    router.register("imports", ImportJobViewSet, basename="import")
    for register in registrations:
        register(router)
    return [
        path("api/v1/", include((router.urls, "api"), namespace="api")),
        path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
        path(
            "api/docs/",
            SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
            name="api-docs",
        ),
    ]
