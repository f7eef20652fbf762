"""Job submissions with a real model and dataset and generated hparams and training, so the
checks behind the ids are reached: each is accepted (202) or refused with a 422 envelope.
(The whole document is fuzzed by schemathesis in test_openapi_contract.py.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from tests.api.conftest import assert_error
from worker.pruning.contract.hparams import FIELD_NAMES
from worker.pruning.contract.training_config import TrainingConfig

# Bounded so the file runs in well under a minute.
JOB_EXAMPLES = 60


def bounded_run(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="module", autouse=True)
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Hypothesis' caches go to a temporary directory, not `.hypothesis` in the repository."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and infinities too
    st.text(max_size=12),
)
JSON_VALUES = st.one_of(JSON_SCALARS, st.lists(JSON_SCALARS, max_size=3))


def config_objects(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.one_of(st.sampled_from(names), st.text(max_size=8))
    return st.dictionaries(keys, JSON_VALUES, max_size=4)


def contrib_strings() -> st.SearchStrategy[str]:
    pair = st.tuples(st.sampled_from(FIELD_NAMES), st.text(max_size=10))
    return st.lists(pair, max_size=4).map(lambda pairs: ",".join(f"{k}={v}" for k, v in pairs))


JSON_CONTENT = {"Content-Type": "application/json"}
JOB_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "hparams": st.one_of(config_objects(FIELD_NAMES), contrib_strings(), JSON_SCALARS),
        "training": st.one_of(config_objects(tuple(TrainingConfig.model_fields)), JSON_SCALARS),
        "name": JSON_SCALARS,
    },
)


def test_generated_job_configs_are_accepted_or_refused_with_a_reason(
    client: TestClient, model_id: str, dataset_id: str
) -> None:
    @bounded_run(JOB_EXAMPLES)
    @given(fields=JOB_FIELDS)
    def holds(fields: dict[str, Any]) -> None:
        body = {"model_id": model_id, "dataset_id": dataset_id, **fields}
        # json.dumps, unlike httpx, writes NaN and Infinity, as some clients do.
        response = client.post("/v1/jobs", content=json.dumps(body), headers=JSON_CONTENT)
        if response.status_code == 202:
            # Leave room under the tenant's concurrent job limit for the next example.
            assert client.post(f"/v1/jobs/{response.json()['id']}/cancel").status_code == 202
        else:
            assert_error(response, 422)

    holds()
