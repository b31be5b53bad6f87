"""The OpenAPI schema: generated without warnings, valid OpenAPI 3, served to signed-in
callers, and browsable with Swagger UI and Redoc served from our own static files."""

import re

import pytest
import yaml
from django.core.management import call_command

from api.models import ApiToken

pytestmark = pytest.mark.django_db


def test_the_schema_generates_cleanly_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn: a serializer field whose type cannot be read fails here, not in a client
    call_command("spectacular", "--file", str(target), "--validate", "--fail-on-warn")
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for path in (
        "/api/v1/agencies/",
        "/api/v1/plans/",
        "/api/v1/sections/",
        "/api/v1/tasks/",
        "/api/v1/tasks/{id}/",
        "/api/v1/progress-updates/",
        "/api/v1/indicators/",
        "/api/v1/readings/",
        "/api/v1/notifications/",
        "/api/v1/notifications/{id}/read/",
        "/api/v1/notifications/read-all/",
        "/api/v1/dashboard/overview/",
        "/api/v1/tokens/",
        "/api/v1/tokens/{id}/revoke/",
    ):
        assert path in paths, path
    create = schema["paths"]["/api/v1/progress-updates/"]["post"]
    headers = {p["name"] for p in create["parameters"] if p["in"] == "header"}
    assert headers == {"If-Match", "Idempotency-Key"}
    assert {"201", "400", "403", "404", "412", "428", "422"} <= set(create["responses"])
    task_filters = {p["name"] for p in schema["paths"]["/api/v1/tasks/"]["get"]["parameters"]}
    assert {"q", "owner_id", "owner", "at_risk", "updated_since", "ordering", "page", "page_size"} <= task_filters
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}


def test_the_schema_is_served_to_signed_in_callers_only(api, world):
    assert api.get("/api/schema/").status_code == 401
    staff = world["users"]["staff_lead"]
    _, key = ApiToken.issue(staff, "文档", created_by=staff)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/tasks/" in response.json()["paths"]


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_load_only_local_assets(client, world, page):
    client.force_login(world["users"]["staff_lead"])
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))], assets
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts
    for asset in scripts:
        served = client.get(asset)
        assert served.status_code == 200, asset
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert len(body) > 1000


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_send_someone_not_logged_in_to_the_login_page(client, db, page):
    response = client.get(page)
    assert response.status_code == 302 and response.url == f"/accounts/login/?next={page}"
