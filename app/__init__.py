"""The service: `core` (shared with the worker), `api`, `inspection` (upload checks without
TensorFlow), `devserver` (`make run`) and `admin` (operator commands)."""
