"""The OpenAPI schema: served live, browsable offline, and checked into docs/ as it is."""

from __future__ import annotations

import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.management import call_command

CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def test_the_checked_in_schema_is_current(tmp_path):
    fresh = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(fresh), "--validate", "--fail-on-warn")
    assert CHECKED_IN.read_text() == fresh.read_text(), (
        "docs/openapi.yaml is out of date: run `make openapi` and commit it"
    )


def test_the_schema_is_served_to_anyone(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/o/{org_slug}/accounts/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_the_interactive_docs_load_nothing_from_other_sites(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)
    assert external == [], external
    script = re.search(r"""<script src="/static/([^"]*swagger-ui-bundle[^"]*)""", html)
    assert script and finders.find(script.group(1)), "the Swagger UI files ship with the app"
