"""Which devices one job trains on (the worker's TRAINER_DEVICES and TRAINER_LOGICAL_CPUS).

`first` (the default): one device, TensorFlow's own choice, its first GPU or else the CPU;
`cpu`: the CPU only, even where GPUs are visible; `all`: every visible GPU, or the CPU when
there is none; or a list such as `GPU:0,GPU:1`. The CPU counts as `TRAINER_LOGICAL_CPUS`
devices (CPU:0, CPU:1, ...), so a CPU host, or a test, can train on several replicas.
No TensorFlow here: the settings check these rules when the worker starts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from worker.pruning.contract.errors import PruningError

DEFAULT_DEVICES = "first"
KEYWORDS = (DEFAULT_DEVICES, "cpu", "all")
_DEVICE = re.compile(r"^(CPU|GPU):(\d+)$")
HOW = "use first, cpu, all, or device names like GPU:0,GPU:1"


def invalid_devices(message: str) -> PruningError:
    return PruningError("invalid_devices", message)


def _device_name(text: str) -> str:
    """ "gpu:1" -> "GPU:1"; anything else is refused."""
    match = _DEVICE.match(text.strip().upper())
    if match is None:
        raise invalid_devices(f"TRAINER_DEVICES: {text.strip()!r} is not a device: {HOW}")
    return f"{match[1]}:{int(match[2])}"


@dataclass(frozen=True)
class DeviceChoice:
    keyword: str | None  # one of KEYWORDS; None for a list of names
    names: tuple[str, ...] = ()
    logical_cpus: int = 1

    def pick(self, gpus: Sequence[str], cpus: Sequence[str]) -> list[str]:
        """The devices to train on, from the names TensorFlow lists ("GPU:0", "CPU:1", ...)."""
        if self.keyword == DEFAULT_DEVICES:
            return [(*gpus, *cpus)[0]]
        if self.keyword == "cpu":
            return list(cpus)
        if self.keyword == "all":
            return list(gpus or cpus)
        missing = [name for name in self.names if name not in (*gpus, *cpus)]
        if missing:
            available = ", ".join([*gpus, *cpus])
            raise invalid_devices(
                f"TRAINER_DEVICES names {', '.join(missing)}, which this worker does not see "
                f"(it sees {available})"
            )
        return list(self.names)

    def to_argument(self) -> str:
        return self.keyword or ",".join(self.names)


ONE_DEVICE = DeviceChoice(DEFAULT_DEVICES)


def parse_devices(text: str, logical_cpus: int = 1) -> DeviceChoice:
    if logical_cpus < 1:
        raise invalid_devices(f"TRAINER_LOGICAL_CPUS must be at least 1, got {logical_cpus}")
    keyword = text.strip().lower()
    if keyword in KEYWORDS:
        return DeviceChoice(keyword, (), logical_cpus)
    names = tuple(_device_name(part) for part in text.split(",") if part.strip())
    if not names:
        raise invalid_devices(f"TRAINER_DEVICES is empty: {HOW}")
    if len(set(names)) != len(names):
        raise invalid_devices(f"TRAINER_DEVICES names a device twice: {text.strip()}")
    return DeviceChoice(None, names, logical_cpus)
