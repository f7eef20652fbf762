"""Decode saved_model.pb with the protos the `tensorboard` package ships, so no TensorFlow
runtime is needed.

tensorboard has TensorFlow's MetaGraphDef but not the small wrapper around it, so it is
declared here with the same field numbers:
  SavedModel    { int64 saved_model_schema_version = 1; repeated MetaGraphDef meta_graphs = 2; }
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory
from tensorboard.compat.proto import meta_graph_pb2

from app.inspection.errors import UploadRejected

MAX_PROTO_BYTES = 512 * 1024**2

_F = descriptor_pb2.FieldDescriptorProto


def _build_saved_model_message() -> type[message.Message]:
    file = descriptor_pb2.FileDescriptorProto(
        name="shears/inspection/saved_model_wrappers.proto",
        package="shears.inspection",
        dependency=[meta_graph_pb2.DESCRIPTOR.name],
        syntax="proto3",
    )
    saved_model = file.message_type.add(name="SavedModel")
    saved_model.field.add(
        name="saved_model_schema_version", number=1, type=_F.TYPE_INT64, label=_F.LABEL_OPTIONAL
    )
    saved_model.field.add(
        name="meta_graphs",
        number=2,
        type=_F.TYPE_MESSAGE,
        label=_F.LABEL_REPEATED,
        type_name=".tensorboard.MetaGraphDef",
    )
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName(file.name)
    except KeyError:
        pool.Add(file)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("shears.inspection.SavedModel")
    )


SavedModelProto = _build_saved_model_message()


def read_saved_model(path: Path) -> Any:
    """The parsed SavedModel; 422 when the file is not one."""
    proto = _parse(path, SavedModelProto, "saved_model.pb")
    if not proto.meta_graphs:
        raise _corrupt("saved_model.pb", "it holds no MetaGraphDef")
    return proto


def _parse(path: Path, cls: type[message.Message], what: str) -> Any:
    size = path.stat().st_size
    if size > MAX_PROTO_BYTES:
        raise UploadRejected(
            413, "saved_model_too_large", f"{what} is {size} bytes, over {MAX_PROTO_BYTES}"
        )
    try:
        return cls.FromString(path.read_bytes())
    except (message.DecodeError, RuntimeError, ValueError) as exc:
        raise _corrupt(what, str(exc) or "it does not parse") from exc


def _corrupt(what: str, why: str) -> UploadRejected:
    return UploadRejected(
        422,
        "corrupt_saved_model",
        f"{what} is not a valid SavedModel file ({why}); export the model again with "
        "model.export() or tf.saved_model.save()",
    )
