"""Leerloop with a real Rasa 3.6 assistant: NLU server, action server and project export.

- `nlu_router()`: `POST /model/parse` as Rasa's HTTP API has it, on Leerloop's HTTP API
  (`endpoints.yml` `nlu: url:`);
- `create_action_server(services)`: what `leerloop rasa actions` serves — Rasa's custom-action
  webhook running Leerloop's flows (`endpoints.yml` `action_endpoint:`), and `/model/parse`;
- `export_project(dir, options)`: what `leerloop rasa export DIR` writes — domain, rules,
  config.yml and endpoints.yml from Leerloop's own intents, slots, texts and NLU data.
"""

from bot.rasa._action_server import (
    ACTION_NAMES,
    CAPABILITY_ACTIONS,
    GENERIC_ACTION,
    RasaActions,
    button_payload,
    create_action_server,
)
from bot.rasa._export import ExportOptions, NluMode, export_project
from bot.rasa._nlu_server import RASA_VERSION, RasaError, nlu_router, parse_slash

__all__ = [
    "ACTION_NAMES",
    "CAPABILITY_ACTIONS",
    "GENERIC_ACTION",
    "RASA_VERSION",
    "ExportOptions",
    "NluMode",
    "RasaActions",
    "RasaError",
    "button_payload",
    "create_action_server",
    "export_project",
    "nlu_router",
    "parse_slash",
]
