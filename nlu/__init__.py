"""Dutch NLU for Leerloop (standalone: imports no other Leerloop package)."""

from nlu.intents import ENTITY_TYPES, Intent

__all__ = ["ENTITY_TYPES", "Intent"]
