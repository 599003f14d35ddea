from __future__ import annotations

import pytest

from nlu import NluModel, load_or_train


@pytest.fixture(scope="session")
def nlu_model() -> NluModel:
    """The trained model (`make test` trains it first when it is missing or stale)."""
    return load_or_train()
