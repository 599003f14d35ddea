"""The pictures the chat sends: a reflection's ratings and the wallet, as PNG attachments with
a caption in words. Drawing happens in a worker thread, so the event loop keeps serving."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import date, timedelta

from actions._registry import ActionContext, Attachment, AttachmentKind, Say
from actions.charts import (
    MoneyBar,
    MoneyChartTexts,
    SkillBar,
    SkillChartTexts,
    money_chart,
    skills_chart,
)
from actions.formatting import day
from services.wallet import EXPIRY_WARNING_DAYS, WalletSummary

logger = logging.getLogger(__name__)

PNG = "image/png"
MIN_MONEY_BARS = 2  # one line of money says it all in text


async def skills_picture(
    ctx: ActionContext,
    groups: Mapping[str, str],
    ratings: Mapping[str, int],
    before: Mapping[str, int] | None,
    before_on: date | None,
) -> Attachment | None:
    """The ratings per skill group, with last time's beside them."""
    if not ratings:
        return None
    bars = [
        SkillBar(label, ratings.get(uri), (before or {}).get(uri)) for uri, label in groups.items()
    ]
    texts = SkillChartTexts(
        title=ctx.render(Say("chart_skills_title")),
        now=ctx.render(Say("chart_skills_now")),
        before=(
            ctx.render(Say("chart_skills_before", {"date": day(before_on)}))
            if before and before_on
            else None
        ),
        scale=(
            ctx.render(Say("chart_scale_1")),
            ctx.render(Say("chart_scale_2")),
            ctx.render(Say("chart_scale_3")),
            ctx.render(Say("chart_scale_4")),
        ),
    )
    lines = []
    for bar in bars:
        if bar.now is None:
            lines.append(Say("chart_skills_line_unknown", {"label": bar.label}))
        elif bar.before is not None and before is not None:
            values = {"label": bar.label, "now": bar.now, "before": bar.before}
            lines.append(Say("chart_skills_line_before", values))
        else:
            lines.append(Say("chart_skills_line", {"label": bar.label, "now": bar.now}))
    caption = ctx.render(Say("chart_skills_caption", {"lines": lines}))
    content = await asyncio.to_thread(skills_chart, bars, texts)
    name = ctx.render(Say("chart_skills_filename", {"date": ctx.now.date().isoformat()}))
    return Attachment(name, content, PNG, AttachmentKind.PHOTO, caption)


async def wallet_picture(ctx: ActionContext, wallet: WalletSummary) -> Attachment | None:
    """The money per expiry date and funder; only when there is more than one line to see."""
    horizon = ctx.now.date() + timedelta(days=EXPIRY_WARNING_DAYS)
    bars = [
        MoneyBar(day(e.expires_on), e.cents, e.funder, e.expires_on <= horizon)
        for e in wallet.expiries
    ]
    if wallet.never_expires_cents:
        never = ctx.render(Say("chart_money_no_end"))
        funders = {s.funder for s in wallet.sources}
        funder = next(iter(funders)) if len(funders) == 1 else ""
        bars.append(MoneyBar(never, wallet.never_expires_cents, funder or never))
    if len(bars) < MIN_MONEY_BARS:
        return None
    texts = MoneyChartTexts(
        title=ctx.render(Say("chart_money_title")),
        amount=ctx.render(Say("chart_money_amount")),
        soon=ctx.render(Say("chart_money_soon")),
    )
    content = await asyncio.to_thread(money_chart, bars, texts)
    caption = ctx.render(Say("chart_money_caption"))
    name = ctx.render(Say("chart_money_filename", {"date": ctx.now.date().isoformat()}))
    return Attachment(name, content, PNG, AttachmentKind.PHOTO, caption)
