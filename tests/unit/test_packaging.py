"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine here): the
services the issue asks for, commands that name real modules, installs that match pyproject."""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def load_compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def services() -> dict[str, Any]:
    return load_compose()["services"]


def extras() -> dict[str, list[Requirement]]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    optional = pyproject["project"]["optional-dependencies"]
    return {name: [Requirement(r) for r in reqs] for name, reqs in optional.items()}


def base_requirements() -> list[Requirement]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [Requirement(r) for r in pyproject["project"]["dependencies"]]


def dockerfile_stages() -> dict[str, dict[str, Any]]:
    """Each stage's base image and its RUN commands (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        line = line.strip()
        if match := re.match(r"FROM\s+(\S+)\s+AS\s+(\S+)", line, re.IGNORECASE):
            current = stages[match.group(2)] = {"from": match.group(1), "runs": [], "copies": []}
        elif line.upper().startswith("RUN ") and current is not None:
            current["runs"].append(line[4:])
        elif line.upper().startswith("COPY ") and current is not None:
            current["copies"].extend(line.split()[1:-1])
    return stages


def stage_chain(name: str) -> list[dict[str, Any]]:
    """The stage and the stages it is built FROM, nearest first."""
    stages, chain = dockerfile_stages(), []
    while name in stages:
        chain.append(stages[name])
        name = stages[name]["from"]
    return chain


def pip_installs(name: str) -> list[list[str]]:
    """The arguments of every `pip install` in the stage and its ancestors."""
    installs = []
    for stage in stage_chain(name):
        for run in stage["runs"]:
            words = shlex.split(run)
            for i in range(len(words) - 1):
                if words[i].endswith("pip") and words[i + 1] == "install":
                    args = []
                    for word in words[i + 2 :]:
                        if word in ("&&", ";", "||"):
                            break
                        args.append(word)
                    installs.append([a for a in args if not a.startswith("-")])
    return installs


def installed_requirements(stage: str) -> list[Requirement]:
    """What the stage's pip lines ask for, with the project's extras expanded."""
    requirements: list[Requirement] = []
    for args in pip_installs(stage):
        for arg in args:
            if arg.startswith("."):
                requirements += base_requirements()
                names = re.findall(r"\[(.*)\]", arg)
                for extra in names[0].split(",") if names else []:
                    requirements += extras()[extra.strip()]
            else:
                requirements.append(Requirement(arg.replace("${TENSORFLOW_VERSION}", "0")))
    return requirements


# The compose file.


def test_compose_has_the_five_services() -> None:
    assert set(services()) == {"postgres", "redis", "migrate", "api", "worker"}


def test_postgres_16_keeps_its_data_in_a_volume_and_has_a_healthcheck() -> None:
    postgres = services()["postgres"]
    assert postgres["image"] == "postgres:16"
    volume = postgres["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data" and volume[0] in load_compose()["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_redis_7_persists_and_never_evicts() -> None:
    redis = services()["redis"]
    assert redis["image"] == "redis:7"
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command
    assert redis["volumes"][0].split(":")[0] in load_compose()["volumes"]
    assert "redis-cli" in redis["healthcheck"]["test"]


def test_migrate_is_one_shot_after_postgres_is_healthy() -> None:
    migrate = services()["migrate"]
    assert migrate["command"] == ["alembic", "upgrade", "head"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["api", "worker"])
def test_api_and_worker_start_after_the_migrations_succeeded(name: str) -> None:
    depends = services()[name]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["redis"]["condition"] == "service_healthy"


def test_the_worker_reserves_an_nvidia_gpu_and_runs_one_job_at_a_time() -> None:
    worker = services()["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    command = worker["command"]
    assert command[command.index("--concurrency") + 1] == "1"
    assert command[command.index("-Q") + 1] == "gpu"
    assert worker["build"]["target"] == "worker"


def uncommented_services() -> dict[str, Any]:
    """The services with the commented-out GPU variants uncommented, as a user would."""
    text = (ROOT / "docker-compose.yml").read_text()
    return yaml.safe_load(re.sub(r"^  # (?=worker-|  )", "  ", text, flags=re.M))["services"]


@pytest.mark.parametrize(
    ("name", "reservation", "trainer_devices"),
    [("worker-gpu1", {"device_ids": ["1"]}, None), ("worker-all-gpus", {"count": "all"}, "all")],
)
def test_the_gpu_variants_run_like_the_worker_once_uncommented(
    name: str, reservation: dict[str, Any], trainer_devices: str | None
) -> None:
    worker, variant = uncommented_services()["worker"], uncommented_services()[name]
    (device,) = variant["deploy"]["resources"]["reservations"]["devices"]
    assert device == {"driver": "nvidia", "capabilities": ["gpu"], **reservation}
    assert variant.get("environment", {}).get("TRAINER_DEVICES") == trainer_devices
    for key in ("env_file", "build", "command", "volumes", "depends_on", "stop_grace_period"):
        assert variant[key] == worker[key], key


@pytest.mark.parametrize("name", ["migrate", "api", "worker"])
def test_our_services_read_dot_env_and_build_the_right_target(name: str) -> None:
    service = services()[name]
    assert service["env_file"] == ".env"
    assert service["build"]["target"] == ("worker" if name == "worker" else "api")


def test_env_example_points_the_services_at_postgres_and_redis() -> None:
    env = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    user, password, db = env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_DB"]
    assert env["DATABASE_URL"].endswith(f"://{user}:{password}@postgres:5432/{db}")
    assert env["REDIS_URL"].startswith("redis://redis:6379")


def _module_defines(module: str, names: set[str]) -> bool:
    path = ROOT / (module.replace(".", "/") + ".py")
    assert path.is_file(), f"{path.relative_to(ROOT)} does not exist"
    tree = ast.parse(path.read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return bool(defined & names)


def test_every_service_command_names_code_that_exists() -> None:
    api = services()["api"]["command"]
    module, factory = api[api.index("--factory") + 1].split(":")
    assert _module_defines(module, {factory})
    worker = services()["worker"]["command"]
    # `celery -A module` finds the module's `app` or `celery` attribute.
    assert _module_defines(worker[worker.index("-A") + 1], {"app", "celery"})
    assert (ROOT / "alembic.ini").is_file() and (ROOT / "migrations" / "env.py").is_file()


def test_the_images_default_commands_match_compose() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for name in ("api", "worker"):
        assert f"CMD {services()[name]['command']}".replace("'", '"') in text


# The Dockerfile.


def test_the_dockerfile_has_api_and_worker_targets() -> None:
    stages = dockerfile_stages()
    assert {"api", "worker"} <= set(stages)
    assert stage_chain("api")[-1]["from"] == "python:3.11-slim"


def test_every_pip_install_names_extras_that_exist() -> None:
    known = set(extras())
    for stage in dockerfile_stages():
        for args in pip_installs(stage):
            for arg in args:
                for group in re.findall(r"^\.\[(.*)\]$", arg):
                    assert set(group.split(",")) <= known, f"{arg} in stage {stage}"


def test_the_api_image_installs_no_tensorflow() -> None:
    names = {r.name.lower() for r in installed_requirements("api")}
    assert names and not any(n.startswith(("tensorflow", "keras", "tf-")) for n in names)
    assert not any("tensorflow" in stage["from"] for stage in stage_chain("api"))


def test_the_api_image_holds_every_module_the_api_imports() -> None:
    copied = [ROOT / source for stage in stage_chain("api") for source in stage["copies"]]
    missing = set()
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("worker"):
                module = ROOT / (node.module.replace(".", "/") + ".py")  # type: ignore[union-attr]
                if not any(module == c or c in module.parents for c in copied):
                    missing.add(node.module)
    assert not missing, sorted(missing)
    engine_module = ROOT / "worker/pruning/masks.py"  # the API image holds only the contract
    assert not any(engine_module == c or c in engine_module.parents for c in copied)


def test_the_worker_image_gets_tensorflows_gpu_build_and_never_the_cpu_one() -> None:
    requirements = installed_requirements("worker")
    gpu_base = any(
        re.match(r"tensorflow/tensorflow:.*gpu", s["from"]) for s in stage_chain("worker")
    )
    gpu_pip = any(r.name == "tensorflow" and "and-cuda" in r.extras for r in requirements)
    assert gpu_base or gpu_pip
    assert "tensorflow-cpu" not in {r.name.lower() for r in requirements}
    assert "keras" in {r.name.lower() for r in requirements}


def test_the_gpu_extra_is_the_worker_extra_with_cuda_tensorflow() -> None:
    def without_tensorflow(reqs: list[Requirement]) -> set[str]:
        return {str(r) for r in reqs if not r.name.lower().startswith("tensorflow")}

    assert without_tensorflow(extras()["gpu"]) == without_tensorflow(extras()["worker"])
