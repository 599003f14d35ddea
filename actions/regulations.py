"""Answering questions about regulations: first the answer to what was asked (an age limit, an
amount by level or firm size, a rate, a window, "is it open?", "does it cover BBL?") from the
regulation's structured facts, then a short card with source and date checked; the rest behind
"Meer over deze regeling". An ended scheme is said to have ended, with what is open now."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from actions._registry import ActionContext, ActionResult, Say, action
from actions.formatting import day
from actions.phrases import mentions, phrase_table
from knowledge import (
    FactTopic,
    RegulationFact,
    facts_of,
    find_regulation,
    list_regulations,
    named_in,
    open_alternatives,
)
from knowledge.models import Regulation
from knowledge.text import fold

# Topics with a definite answer: asked and not known, the bot says so instead of guessing.
SPECIFIC = frozenset(
    {
        FactTopic.RATE,
        FactTopic.AGE,
        FactTopic.WINDOW,
        FactTopic.AMOUNT,
        FactTopic.LEERWEG,
        FactTopic.REPAY,
        FactTopic.START,
    }
)
_AGE_PATTERNS = (
    re.compile(r"\b(?:ik ben|ben ik|ik word|met|als|op|bent)\s+(?:nu\s+|al\s+|bijna\s+)?(\d{2})\b"),
    re.compile(r"\b(\d{2})\s*(?:jaar|jr|-?jarige?n?)\b"),
)
_LOWEST_AGE, _HIGHEST_AGE = 15, 99


@dataclass(frozen=True)
class Question:
    """What a question about a regulation asks: topics in order, and a stated age."""

    topics: tuple[FactTopic, ...] = ()
    age: int | None = None
    text: str = ""


@dataclass
class Answer:
    """The facts that answer a question, and the computed sentences (age checks)."""

    says: list[Say] = field(default_factory=list)
    facts: list[RegulationFact] = field(default_factory=list)


@cache
def _topic_words() -> tuple[tuple[FactTopic, tuple[str, ...]], ...]:
    table = phrase_table("regulation_topics")
    return tuple((FactTopic(name), tuple(str(w) for w in words)) for name, words in table.items())


def stated_age(text: str) -> int | None:
    """ "ik ben 58", "met 58 jaar", "als 61-jarige": the age someone gives; None without one."""
    folded = fold(text)
    if "jonger dan" in folded or "ouder dan" in folded:
        folded = re.sub(r"\b(jonger|ouder) dan\s+\d{2}\b", " ", folded)
    for pattern in _AGE_PATTERNS:
        if found := pattern.search(folded):
            age = int(found.group(1))
            if _LOWEST_AGE <= age <= _HIGHEST_AGE:
                return age
    return None


def question_of(text: object) -> Question:
    """The topics a question asks, most specific first."""
    if not isinstance(text, str) or not text.strip():
        return Question()
    age = stated_age(text)
    topics = [FactTopic.AGE] if age is not None else []
    for topic, words in _topic_words():
        if topic not in topics and mentions(text, list(words)):
            topics.append(topic)
    return Question(tuple(topics), age, text)


_SHORT_WORD = 3  # "wo", "bol", "80": only the whole word counts ("wordt" is not "wo")


def _matches(fact: RegulationFact, text: str) -> bool:
    if not fact.match:
        return False
    words = set(re.findall(r"[\w%]+", fold(text)))
    short = [w for w in fact.match if len(w) <= _SHORT_WORD and " " not in w]
    longer = [w for w in fact.match if w not in short]
    return any(fold(w) in words for w in short) or mentions(text, longer)


def _pick(facts: list[RegulationFact], question: Question) -> list[RegulationFact]:
    """Of one topic's facts: the one whose `match` words the question uses, else the general one
    (no `match`); age facts for younger people are added when the stated age is below them."""
    if not facts:
        return []
    general = [f for f in facts if not f.match and f.below_age is None]
    matched = [f for f in facts if _matches(f, question.text)]
    chosen = matched[:1] or general[:1] or [f for f in facts if f.below_age is None][:1]
    if question.age is not None:
        chosen += [f for f in facts if f.below_age is not None and question.age < f.below_age]
    return chosen


def _age_says(regulation: Regulation, age: int) -> list[Say]:
    values: dict[str, Any] = {"age": age, "title": regulation.title}
    if regulation.max_age is not None and age >= regulation.max_age:
        return [Say("regulation_age_too_old", {**values, "max_age": regulation.max_age})]
    if regulation.min_age is not None and age < regulation.min_age:
        return [Say("regulation_age_too_young", {**values, "min_age": regulation.min_age})]
    if regulation.max_age is not None:
        return [Say("regulation_age_ok", {**values, "max_age": regulation.max_age})]
    return []


def answer(regulation: Regulation, question: Question) -> Answer | None:
    """The answer to the first asked topic that the regulation has facts for; an empty answer
    when a specific topic was asked that nothing is known about; None when nothing specific
    was asked (the whole card is the answer then)."""
    facts = facts_of(regulation)
    matched = [f for f in facts if f.below_age is None and _matches(f, question.text)]
    asked = [f for t in question.topics for f in matched if f.topic == t]
    if asked and not (question.age is not None and regulation.max_age is not None):
        return Answer([], asked[:1])
    known_specific = any(
        t in SPECIFIC and any(f.topic == t for f in facts) for t in question.topics
    )
    if matched and not known_specific and question.age is None:
        return Answer([], matched[:1])  # "mag een groot hotel SLIM aanvragen?": the fact on it
    for topic in question.topics:
        of_topic = [f for f in facts if f.topic == topic]
        if topic == FactTopic.AGE and question.age is not None:
            says = _age_says(regulation, question.age)
            picked = _pick(of_topic, question)
            if says:  # the computed yes/no, plus what applies only below some age
                return Answer(says, [f for f in picked if f.below_age is not None])
            if picked:
                return Answer([], picked)
            continue
        picked = _pick(of_topic, question)
        if picked:
            return Answer([], picked)
    if any(t in SPECIFIC for t in question.topics):
        return Answer()
    return None


def _source(name: str, url: str, checked: Any) -> Say:
    return Say(
        "regulation_source",
        {"source_name": name, "source_url": url, "checked_on": day(checked)},
    )


def _regulation_source(regulation: Regulation) -> Say:
    return _source(regulation.source_name, regulation.source_url, regulation.checked_on)


def _answer_says(regulation: Regulation, found: Answer) -> tuple[list[Say], Say]:
    """The answer sentences, and the source to show under the card (the fact's own)."""
    if not found.says and not found.facts:
        return (
            [
                Say(
                    "regulation_answer_unknown",
                    {"title": regulation.title, "source_url": regulation.source_url},
                )
            ],
            _regulation_source(regulation),
        )
    says = list(found.says)
    says += [Say("regulation_answer", {"text": f.text}) for f in found.facts]
    first = found.facts[0] if found.facts else None
    if any(f.indicative for f in found.facts):
        url = str(first.source_url) if first else regulation.source_url
        says.append(Say("regulation_indicative", {"source_url": url}))
    source = (
        _source(first.source_name, str(first.source_url), first.checked_on)
        if first
        else _regulation_source(regulation)
    )
    return says, source


def _details(regulation: Regulation, source: Say | None = None) -> dict[str, Any]:
    return {
        "title": regulation.title,
        "summary": regulation.summary,
        "who": regulation.who,
        "amounts": regulation.amounts,
        "conditions": regulation.conditions,
        "how_to_apply": regulation.how_to_apply,
        "source": source or _regulation_source(regulation),
    }


async def _only_one_knows(ctx: ActionContext, question: Question) -> Regulation | None:
    """No regulation named, but only one open regulation has facts on what is asked ("wat is
    de rente?"): that one."""
    today = ctx.now.date()
    for topic in question.topics:
        if topic not in SPECIFIC or (topic == FactTopic.AGE and question.age is None):
            continue
        knowing = [
            r
            for r in await list_regulations(ctx.session)
            if r.is_open(today) and any(f.topic == topic for f in facts_of(r))
        ]
        if len(knowing) == 1:
            return knowing[0]
    return None


async def _options(ctx: ActionContext, question: Question) -> list[dict[str, str]]:
    """The open Dutch regulations to choose from; those that know about the asked topic first."""
    today = ctx.now.date()
    open_now = [
        r for r in await list_regulations(ctx.session) if r.country == "NL" and r.is_open(today)
    ]
    topics = [t for t in question.topics if t in SPECIFIC]
    if topics:
        knowing = [r for r in open_now if any(f.topic in topics for f in facts_of(r))]
        open_now = knowing or open_now
    return [{"value": r.slug, "label": r.title} for r in open_now]


@action("regulation_lookup")
async def regulation_lookup(ctx: ActionContext) -> ActionResult:
    """Find the regulation asked about (a button, the words of the question, the NLU's entity);
    offer a choice when none was named."""
    slots = ctx.slots
    text = slots.get("regulation_text")
    regulation = None
    choice = slots.get("regulation_choice")
    if isinstance(choice, str) and choice:
        regulation = await find_regulation(ctx.session, choice) or await named_in(
            ctx.session, choice
        )
    if regulation is None and isinstance(text, str) and text:
        regulation = await named_in(ctx.session, text)
    name = slots.get("regulation_name")
    if regulation is None and isinstance(name, str) and name:
        regulation = await find_regulation(ctx.session, name)
    question = question_of(text)
    if regulation is None and question.topics:
        regulation = await _only_one_knows(ctx, question)
    say: list[Say] = []
    if regulation is None and isinstance(choice, str) and choice:
        say.append(Say("regulation_unknown"))
    if regulation is None:
        return ActionResult(
            slots={"regulation_found": False, "regulation_options": await _options(ctx, question)},
            say=say,
        )
    return ActionResult(slots={"regulation_found": True, "regulation_slug": regulation.slug})


@action("regulation_explain")
async def regulation_explain(ctx: ActionContext) -> ActionResult:
    """Answer what was asked first; then the short card with source and date. For an ended
    regulation: that it ended, and what is open now."""
    regulation = await find_regulation(ctx.session, str(ctx.slots.get("regulation_slug") or ""))
    if regulation is None:
        return ActionResult(say=[Say("regulation_unknown")])
    today = ctx.now.date()
    question = question_of(ctx.slots.get("regulation_text"))
    slots = {"regulation_choice": None, "regulation_name": None, "regulation_text": None}
    if regulation.valid_until is not None and regulation.valid_until < today:
        return ActionResult(slots=slots, say=await _ended(ctx, regulation))
    if regulation.valid_from is not None and regulation.valid_from > today:
        says = [
            Say(
                "regulation_not_started",
                {**_details(regulation), "starts_on": day(regulation.valid_from)},
            )
        ]
        return ActionResult(slots=slots, say=says)
    if regulation.country != "NL":
        return ActionResult(slots=slots, say=[Say("regulation_abroad", _details(regulation))])
    found = answer(regulation, question)
    if found is None:
        return ActionResult(slots=slots, say=[Say("regulation_open", _details(regulation))])
    says, source = _answer_says(regulation, found)
    says.append(Say("regulation_card", _details(regulation, source)))
    return ActionResult(slots=slots, say=says)


async def _ended(ctx: ActionContext, regulation: Regulation) -> list[Say]:
    assert regulation.valid_until is not None
    status = [f for f in facts_of(regulation) if f.topic == FactTopic.STATUS]
    ended_on = day(regulation.valid_until + timedelta(days=1))
    says = [Say("regulation_ended", {"title": regulation.title, "ended_on": ended_on})]
    if status:
        says.append(Say("regulation_answer", {"text": status[0].text}))
    alternatives = await open_alternatives(ctx.session, regulation, ctx.now.date())
    if alternatives:
        lines = [
            Say("regulation_alternative", {"title": r.title, "summary": r.summary})
            for r in alternatives
        ]
        says.append(Say("regulation_alternatives", {"lines": lines}))
    first = status[0] if status else None
    says.append(
        _source(first.source_name, str(first.source_url), first.checked_on)
        if first
        else _regulation_source(regulation)
    )
    return says


@action("regulation_more")
async def regulation_more(ctx: ActionContext) -> ActionResult:
    """Everything stored about the regulation: who, amounts, conditions, how to apply."""
    regulation = await find_regulation(ctx.session, str(ctx.slots.get("regulation_slug") or ""))
    if regulation is None:
        return ActionResult(say=[Say("regulation_unknown")])
    return ActionResult(say=[Say("regulation_more_text", _details(regulation))])
