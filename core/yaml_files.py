"""Reading the YAML files Leerloop is made of (flows, texts, knowledge data), with libyaml.

PyYAML's `safe_load` parses in pure Python: the flows and texts alone took 2.6 s of every start
(the biggest part of `leerloop chat`'s time to its first reply). libyaml's `CSafeLoader` builds the
same safe objects about ten times faster; PyYAML's wheels include it (pure Python otherwise).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    """Like `yaml.safe_load(path.read_text("utf-8"))`."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)  # noqa: S506 - safe
