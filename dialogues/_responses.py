"""The bot's texts: `dialogues/responses*.yml`, keyed by name, with `{placeholders}`."""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.yaml_files import load_yaml

DIALOGUES_DIR = Path(__file__).resolve().parent


class _ResponseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    responses: dict[str, str | list[str]]


class _Formatter(string.Formatter):
    """`str.format` with Dutch plurals: `{n:# lid|# leden}` gives "1 lid", "3 leden", "0 leden"
    (`#` is the number; a form without `#` is only the word, for a verb: `{n:past|passen}`).
    Three forms are none|one|other: `{n:niemand|# lid|# leden}`."""

    def get_value(self, key: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, str):
            if key not in kwargs:
                raise KeyError(f"no value for placeholder {{{key}}}")
            return kwargs[key]
        return super().get_value(key, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        if "|" not in format_spec:
            return super().format_field(value, format_spec)
        forms = format_spec.split("|")
        if len(forms) not in (2, 3) or isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"plural {{:{format_spec}}} needs a whole number, not {value!r}")
        if len(forms) == 3 and value == 0:
            form = forms[0]
        else:
            form = forms[-2] if value == 1 else forms[-1]
        return form.replace("#", str(value))


_FORMATTER = _Formatter()


class ResponseCatalogue:
    """All response texts; a key may have several variants (chosen by the turn number)."""

    def __init__(self, responses: dict[str, tuple[str, ...]]) -> None:
        self._responses = responses

    @classmethod
    def load(cls, directory: Path = DIALOGUES_DIR) -> ResponseCatalogue:
        merged: dict[str, tuple[str, ...]] = {}
        for path in sorted(directory.glob("responses*.yml")):
            parsed = _ResponseFile.model_validate(load_yaml(path))
            for key, value in parsed.responses.items():
                if key in merged:
                    raise ValueError(f"response {key!r} is defined twice ({path.name})")
                variants = (value,) if isinstance(value, str) else tuple(value)
                if not variants:
                    raise ValueError(f"response {key!r} has no text ({path.name})")
                merged[key] = tuple(v.strip() for v in variants)
        return cls(merged)

    def __contains__(self, key: object) -> bool:
        return key in self._responses

    def names(self) -> frozenset[str]:
        return frozenset(self._responses)

    def variants(self, key: str) -> tuple[str, ...]:
        return self._responses[key]

    def render(self, key: str, values: Mapping[str, Any] | None = None, turn: int = 0) -> str:
        """Render `key` with `values`; a missing placeholder value is an error, never silent."""
        try:
            variants = self._responses[key]
        except KeyError:
            raise KeyError(f"unknown response {key!r}") from None
        template = variants[turn % len(variants)]
        return _FORMATTER.vformat(template, (), dict(values or {}))

    def placeholders(self, key: str) -> set[str]:
        names: set[str] = set()
        for template in self._responses[key]:
            names.update(f for _, f, _, _ in _FORMATTER.parse(template) if f)
        return names
