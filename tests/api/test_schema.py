"""The OpenAPI schema validates by drf-spectacular's own check and names every
endpoint; its documentation page is served."""

from __future__ import annotations

import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver


def api_routes() -> set[str]:
    """Every address under /api/v1/, as the schema writes it ({id}, {code})."""
    found = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if route.startswith("api/v1/") and "format" not in route:
                    path = "/" + route.replace("^", "").replace("$", "")
                    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)
                    found.add(path.replace("{pk}", "{id}"))

    walk(get_resolver().url_patterns)
    return found


def test_the_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(out),
        stdout=StringIO(),
        stderr=StringIO(),
    )
    schema = yaml.safe_load(out.read_text())

    routes = api_routes()
    assert len(routes) >= 20
    assert routes <= set(schema["paths"]), routes - set(schema["paths"])
    for needed in (
        "/api/v1/customers/",
        "/api/v1/customers/{id}/",
        "/api/v1/proposals/{id}/approve/",
        "/api/v1/work-items/{id}/delegate/",
        "/api/v1/imports/{id}/confirm/",
        "/api/v1/customer-groups/{code}/",
    ):
        assert needed in schema["paths"]
    patch = schema["paths"]["/api/v1/customers/{id}/"]["patch"]["responses"]
    assert {"200", "202", "412", "422"} <= set(patch)
    problem = patch["422"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}


@pytest.mark.django_db
def test_the_docs_page_and_schema_are_served(client, clerk):
    client.force_login(clerk)

    assert client.get("/api/docs/").status_code == 200
    assert b"openapi" in client.get("/api/schema/").content
