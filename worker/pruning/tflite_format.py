"""Reading a .tflite file's weight tensors back from its flatbuffer: which are stored in the
sparse format, and their values as dense arrays (sparse ones decoded), so that what a file
really holds can be counted rather than assumed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

_DTYPES = {
    schema.TensorType.FLOAT32: np.float32,
    schema.TensorType.FLOAT16: np.float16,
    schema.TensorType.INT8: np.int8,
    schema.TensorType.UINT8: np.uint8,
    schema.TensorType.INT32: np.int32,
    schema.TensorType.INT64: np.int64,
}


@dataclass(frozen=True)
class StoredWeight:
    name: str
    shape: tuple[int, ...]
    sparse: bool
    values: np.ndarray | None  # dense, in the stored dtype (int8 for int8 weights), if decoded


def _index_array(vector: object) -> np.ndarray:
    values = getattr(vector, "values", None)
    return np.asarray([] if values is None else values, dtype=np.int64)


def _densify(stored: np.ndarray, shape: tuple[int, ...], sparsity: object) -> np.ndarray:
    """TFLite's sparse format (traversal order, block map, per-dimension dense/CSR) to dense."""
    order = list(sparsity.traversalOrder)
    block_map = list(sparsity.blockMap) if sparsity.blockMap is not None else []
    metadata = sparsity.dimMetadata
    rank = len(shape)
    block_size = {
        block_map[k]: metadata[order.index(rank + k)].denseSize for k in range(len(block_map))
    }
    dense = np.zeros(shape, dtype=stored.dtype)
    coords = [0] * len(order)

    def visit(level: int, position: int) -> None:
        if level == len(order):
            index = [0] * rank
            for traversal, dim in enumerate(order):
                if dim < rank:
                    index[dim] += coords[traversal] * block_size.get(dim, 1)
                else:
                    index[block_map[dim - rank]] += coords[traversal]
            dense[tuple(index)] = stored[position]
            return
        meta = metadata[level]
        if meta.format == schema.DimensionType.DENSE:
            for i in range(meta.denseSize):
                coords[level] = i
                visit(level + 1, position * meta.denseSize + i)
        else:
            segments = _index_array(meta.arraySegments)
            indices = _index_array(meta.arrayIndices)
            for j in range(segments[position], segments[position + 1]):
                coords[level] = int(indices[j])
                visit(level + 1, j)

    visit(0, 0)
    return dense


def stored_weights(tflite: bytes, decode: bool = False) -> list[StoredWeight]:
    """Every constant tensor of rank >= 2 (kernels, filters) in the first subgraph; their
    values only when `decode` (sparse ones are decoded element by element, slowly)."""
    model = schema.ModelT.InitFromPackedBuf(tflite, 0)
    weights = []
    for tensor in model.subgraphs[0].tensors:
        data = model.buffers[tensor.buffer].data if tensor.buffer else None
        shape = tuple(int(d) for d in (tensor.shape if tensor.shape is not None else []))
        if data is None or len(data) == 0 or len(shape) < 2 or tensor.type not in _DTYPES:
            continue
        name = tensor.name.decode() if isinstance(tensor.name, bytes) else str(tensor.name)
        values = None
        if decode:
            stored = np.frombuffer(bytes(data), dtype=_DTYPES[tensor.type])
            sparse = tensor.sparsity is not None
            values = _densify(stored, shape, tensor.sparsity) if sparse else stored.reshape(shape)
        weights.append(StoredWeight(name, shape, tensor.sparsity is not None, values))
    return weights
