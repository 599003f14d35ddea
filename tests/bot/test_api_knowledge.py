"""The knowledge-base API: institutions' courses (auth, ownership, validation, atomic imports,
OOAPI) and admins' regulations."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot import Services
from core.models import OrgKind
from tests.bot.conftest import token_for
from tests.knowledge.test_catalogue import OOAPI_PAGE

pytestmark = pytest.mark.db

COURSE: dict[str, Any] = {
    "title": "Excel voor gevorderden",
    "description": "Draaitabellen en macro's.",
    "level": "mbo-4",
    "format": "klassikaal",
    "location": "Zwolle",
    "price_cents": 34900,
    "duration_hours": 16,
    "url": "https://roc.example/excel",
    "topics": ["excel", "kantoor"],
    "skills": ["werken met computers"],
    "start_dates": ["2027-03-01"],
}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def institution(services: Services) -> dict[str, str]:
    return _auth(await token_for(services, OrgKind.INSTITUTION, "ROC A"))


@pytest.fixture
async def other_institution(services: Services) -> dict[str, str]:
    return _auth(await token_for(services, OrgKind.INSTITUTION, "ROC B"))


@pytest.fixture
async def admin(services: Services) -> dict[str, str]:
    return _auth(await token_for(services, OrgKind.ADMIN, "Beheer"))


async def test_courses_need_an_institution_token(
    client: httpx.AsyncClient, services: Services
) -> None:
    assert (await client.get("/api/v1/courses")).status_code == 401
    employer = _auth(await token_for(services, OrgKind.EMPLOYER))
    response = await client.put("/api/v1/courses/x", json=COURSE, headers=employer)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "this endpoint is for organisations of kind: institution"
    )


async def test_put_get_delete_a_course(
    client: httpx.AsyncClient, institution: dict[str, str]
) -> None:
    created = await client.put("/api/v1/courses/excel-2", json=COURSE, headers=institution)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["course_id"] == "excel-2"
    assert body["provider"] == "ROC A"
    assert body["region"] == "Overijssel"
    assert body["skills"] == [
        "http://data.europa.eu/esco/skill/243eb885-07c7-4b77-ab9c-827551d83dc4"
    ]
    changed = await client.put(
        "/api/v1/courses/excel-2", json={**COURSE, "price_cents": 29900}, headers=institution
    )
    assert changed.status_code == 200
    read = await client.get("/api/v1/courses/excel-2", headers=institution)
    assert read.json()["price_cents"] == 29900
    found = await client.get(
        "/api/v1/courses", params={"q": "excel gevorderd", "mine": "true"}, headers=institution
    )
    assert [c["course_id"] for c in found.json()["items"]] == ["excel-2"]
    assert (await client.delete("/api/v1/courses/excel-2", headers=institution)).status_code == 204
    missing = await client.get("/api/v1/courses/excel-2", headers=institution)
    assert missing.status_code == 404
    assert missing.json() == {"error": {"status": 404, "message": "you have no course excel-2"}}


async def test_an_institution_cannot_touch_another_ones_course(
    client: httpx.AsyncClient, institution: dict[str, str], other_institution: dict[str, str]
) -> None:
    await client.put("/api/v1/courses/shared-id", json=COURSE, headers=institution)
    assert (
        await client.get("/api/v1/courses/shared-id", headers=other_institution)
    ).status_code == 404
    assert (
        await client.delete("/api/v1/courses/shared-id", headers=other_institution)
    ).status_code == 404
    # The same id at B is B's own course; A's course is unchanged.
    own = await client.put(
        "/api/v1/courses/shared-id",
        json={**COURSE, "title": "Van B"},
        headers=other_institution,
    )
    assert own.status_code == 201
    mine = await client.get("/api/v1/courses/shared-id", headers=institution)
    assert mine.json()["title"] == COURSE["title"]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"title": ""}, "body.title", "String should have at least 1 character"),
        ({"price_cents": -1}, "body.price_cents", "Input should be greater than or equal to 0"),
        ({"format": "per post"}, "body.format", "must be one of online, klassikaal, blended"),
        ({"url": "ftp://x.example"}, "body.url", "URL scheme should be 'http' or 'https'"),
        ({"colour": "blue"}, "body.colour", "Extra inputs are not permitted"),
        ({"start_dates": ["morgen"]}, "body.start_dates.0", None),
    ],
)
async def test_validation_errors_are_422_with_the_field(
    client: httpx.AsyncClient,
    institution: dict[str, str],
    change: dict[str, Any],
    field: str,
    reason: str | None,
) -> None:
    response = await client.put(
        "/api/v1/courses/bad", json={**COURSE, **change}, headers=institution
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] == "the request is not valid"
    fields = {d["field"]: d["reason"] for d in error["details"]}
    assert field in fields
    if reason is not None:
        assert reason in fields[field]


async def test_checks_that_need_the_database_are_422_too(
    client: httpx.AsyncClient, institution: dict[str, str]
) -> None:
    response = await client.put(
        "/api/v1/courses/bad",
        json={**COURSE, "region": "Limburg", "skills": ["toveren"]},
        headers=institution,
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"row": 0, "field": "skills", "reason": "unknown ESCO skill group: toveren"},
        {"row": 0, "field": "region", "reason": "Zwolle is in Overijssel, not Limburg"},
    ]


async def test_csv_import_with_one_bad_row_imports_nothing(
    client: httpx.AsyncClient, institution: dict[str, str]
) -> None:
    csv_body = (
        "course_id,title,format,location,price_cents\n"
        "a1,Goede cursus,online,,1000\n"
        "a2,Ook goed,klassikaal,Utrecht,2000\n"
        "a3,Fout,klassikaal,,abc\n"
    )
    headers = {**institution, "Content-Type": "text/csv"}
    response = await client.post("/api/v1/courses/import", content=csv_body, headers=headers)
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert {(d["row"], d["field"]) for d in details} == {(3, "price_cents")}
    listed = await client.get("/api/v1/courses", params={"mine": "true"}, headers=institution)
    assert listed.json()["total"] == 0
    fixed = csv_body.replace("a3,Fout,klassikaal,,abc", "a3,Goed nu,klassikaal,Breda,300")
    ok = await client.post("/api/v1/courses/import", content=fixed, headers=headers)
    assert ok.status_code == 200
    assert ok.json() == {"created": 3, "updated": 0}


async def test_json_import_and_format_detection(
    client: httpx.AsyncClient, institution: dict[str, str]
) -> None:
    rows = [{"course_id": "j1", **COURSE}, {"course_id": "j2", "title": "Alleen een titel"}]
    response = await client.post(
        "/api/v1/courses/import", json={"courses": rows}, headers=institution
    )
    assert response.json() == {"created": 2, "updated": 0}
    unknown = await client.post(
        "/api/v1/courses/import",
        content=b"<xml/>",
        headers={**institution, "Content-Type": "application/xml"},
    )
    assert unknown.status_code == 415
    broken = await client.post(
        "/api/v1/courses/import",
        content=b"[{",
        headers={**institution, "Content-Type": "application/json"},
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["details"][0]["field"] == "body"


async def test_ooapi_import_of_a_valid_page(
    client: httpx.AsyncClient, institution: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/courses/import",
        params={"format": "ooapi"},
        content=json.dumps(OOAPI_PAGE),
        headers={**institution, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 0}
    found = await client.get(
        "/api/v1/courses", params={"q": "dementie", "mine": "true"}, headers=institution
    )
    assert [c["title"] for c in found.json()["items"]] == ["Zorg bij dementie"]


async def test_course_search_filters(
    client: httpx.AsyncClient, institution: dict[str, str]
) -> None:
    response = await client.get(
        "/api/v1/courses",
        params={"q": "zorg", "max_price_cents": 50000, "format": "online", "limit": 50},
        headers=institution,
    )
    items = response.json()["items"]
    assert items
    assert all(c["format"] == "online" and c["price_cents"] <= 50000 for c in items)
    near = await client.get(
        "/api/v1/courses",
        params={"q": "excel", "near": "Drachten", "within_km": 40},
        headers=institution,
    )
    assert [c["location"] for c in near.json()["items"]] == ["Leeuwarden"]
    bad = await client.get("/api/v1/courses", params={"near": "Atlantis"}, headers=institution)
    assert bad.status_code == 422


async def test_regulations_are_for_admins(
    client: httpx.AsyncClient, admin: dict[str, str], institution: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/regulations", headers=institution)).status_code == 403
    listed = (await client.get("/api/v1/regulations", headers=admin)).json()["items"]
    stap = next(r for r in listed if r["slug"] == "stap-budget")
    assert stap["status"] == "ended"
    assert stap["checked_on"] == "2026-12-01"
    assert stap["review_by"] and stap["facts"][0]["source_url"].startswith("https://")


async def test_admin_updates_a_fact_and_a_homepage_source_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    llk = (await client.get("/api/v1/regulations/levenlanglerenkrediet", headers=admin)).json()
    body = {k: v for k, v in llk.items() if k not in ("slug", "status")}
    rate = next(f for f in body["facts"] if f["topic"] == "rate")
    rate["text"] = "Voorbeeldtekst van een beheerder over de rente."
    rate["checked_on"], rate["review_by"] = "2027-01-05", "2028-01-31"
    updated = await client.put(
        "/api/v1/regulations/levenlanglerenkrediet", json=body, headers=admin
    )
    assert updated.status_code == 200, updated.text
    facts = updated.json()["facts"]
    assert next(f for f in facts if f["topic"] == "rate")["review_by"] == "2028-01-31"
    rate["source_url"] = "https://www.duo.nl/"
    refused = await client.put(
        "/api/v1/regulations/levenlanglerenkrediet", json=body, headers=admin
    )
    assert refused.status_code == 422
    assert "homepage" in refused.text


async def test_admin_writes_and_deletes_a_regulation(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {
        "title": "Scholingsfonds Voorbeeld",
        "kind": "fonds",
        "summary": "Betaalt opleidingen in de voorbeeldsector.",
        "source_name": "voorbeeld.example",
        "source_url": "https://voorbeeld.example/fonds",
        "checked_on": "2026-11-27",
        "replaced_by": ["levenlanglerenkrediet"],
        "valid_until": "2025-12-31",
    }
    created = await client.put("/api/v1/regulations/voorbeeldfonds", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "ended"
    unknown = await client.put(
        "/api/v1/regulations/voorbeeldfonds",
        json={**body, "replaced_by": ["bestaat-niet"]},
        headers=admin,
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"] == [
        {"field": "replaced_by", "reason": "unknown regulation: bestaat-niet"}
    ]
    missing_source = {k: v for k, v in body.items() if k != "source_url"}
    assert (
        await client.put("/api/v1/regulations/x", json=missing_source, headers=admin)
    ).status_code == 422
    still_named = await client.delete("/api/v1/regulations/levenlanglerenkrediet", headers=admin)
    assert still_named.status_code == 409
    assert (
        await client.delete("/api/v1/regulations/voorbeeldfonds", headers=admin)
    ).status_code == 204
    assert (
        await client.get("/api/v1/regulations/voorbeeldfonds", headers=admin)
    ).status_code == 404
