"""Admin pages: the regulations with their review dates, overdue ones first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from bot.portal._web import Page, page_for
from core.db import utcnow
from core.models import OrgKind
from knowledge import list_regulations
from knowledge.regulations import REVIEW_DAYS, by_review, review_due, status

AdminPage = Annotated[Page, page_for(OrgKind.ADMIN)]


def admin_routes() -> APIRouter:
    router = APIRouter()

    @router.get("/regelingen", response_class=HTMLResponse)
    async def regulations(page: AdminPage) -> HTMLResponse:
        """Every regulation, the one whose check is longest overdue first."""
        today = utcnow().date()
        rows = [
            {
                "regulation": r,
                "due": review_due(r),
                "overdue": review_due(r) < today,
                "status": status(r, today),
            }
            for r in by_review(await list_regulations(page.session))
        ]
        return page.render(
            "regulations.html",
            {"rows": rows, "review_days": REVIEW_DAYS, "overdue": sum(r["overdue"] for r in rows)},
        )

    return router
