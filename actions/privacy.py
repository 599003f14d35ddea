"""Chat actions for privacy: show what is stored, send it as a file, delete it."""

from __future__ import annotations

import json

from actions._registry import ActionContext, ActionResult, Attachment, action
from services import count_user_rows, delete_user_data, export_user_data


@action("privacy_summary")
async def privacy_summary(ctx: ActionContext) -> ActionResult:
    """Fill slots that describe what is stored about the user."""
    tz = ctx.settings.tz
    return ActionResult(
        slots={
            "has_consent": ctx.user.consent,
            "stored_name": ctx.user.name or "–",
            "since": ctx.user.created_at.astimezone(tz).strftime("%d-%m-%Y"),
            "record_count": await count_user_rows(session=ctx.session, user=ctx.user),
        }
    )


@action("privacy_export")
async def privacy_export(ctx: ActionContext) -> ActionResult:
    """Send all stored data as a JSON file."""
    document = await export_user_data(session=ctx.session, user=ctx.user)
    document["exported_at"] = ctx.now.isoformat()
    content = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    stamp = ctx.now.astimezone(ctx.settings.tz).strftime("%Y%m%d-%H%M%S")
    return ActionResult(
        attachments=[Attachment(filename=f"leerloop-gegevens-{stamp}.json", content=content)]
    )


@action("privacy_delete")
async def privacy_delete(ctx: ActionContext) -> ActionResult:
    """Delete every row of the user."""
    await delete_user_data(session=ctx.session, user=ctx.user)
    return ActionResult(user_deleted=True)
