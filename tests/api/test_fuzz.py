"""Generated requests never get a 5xx.

- Schemathesis against /openapi.json of a live uvicorn: valid and invalid requests made from the
  published schema get answers the schema promises (status, content type, headers, body). One
  test per operation of the app's own document, so a new endpoint is fuzzed without being listed.
  (Schemathesis' lazy pytest fixtures do not run on this pytest; its Hypothesis strategies do.)
- Job submissions with a real model and dataset and generated hparams and training, so the
  checks behind the ids are reached too: each is accepted (202) or refused with a 422 envelope.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.main import create_app
from tests.api.conftest import assert_error, new_tenant_key
from worker.pruning.contract.hparams import FIELD_NAMES
from worker.pruning.contract.training_config import TrainingConfig

# Bounded so the file runs in well under a minute.
EXAMPLES_PER_OPERATION = 20
JOB_EXAMPLES = 60
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OPERATIONS = [
    (method.upper(), path)
    for path, methods in create_app().openapi()["paths"].items()
    for method in methods
]


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


@pytest.fixture(scope="module")
def api_schema(live_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{live_url}/openapi.json")


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {new_tenant_key()}"
        yield http


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_generated_requests_get_answers_the_schema_promises(
    api_schema: schemathesis.BaseSchema,
    session: requests.Session,
    live_url: str,
    method: str,
    path: str,
) -> None:
    operation = api_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @bounded_run(EXAMPLES_PER_OPERATION)
    @given(case=cases)
    def holds(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=live_url, session=session, checks=CHECKS, timeout=30)

    holds()


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
