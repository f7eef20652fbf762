"""Which TensorFlow ops an uploaded SavedModel may contain.

Collected from the SavedModels that Keras 3 export(), tf.saved_model.save() of tf.Module and
Keras models, and tf-keras model.save() write for common layers, then widened with their
ordinary neighbours. Anything not listed (file, network, Python, print ops and unknown ops)
is refused.
"""

from __future__ import annotations

_VARIABLES_AND_PLUMBING = """
VarHandleOp ReadVariableOp AssignVariableOp AssignAddVariableOp AssignSubVariableOp
VarIsInitializedOp DestroyResourceOp DisableCopyOnRead VariableShape ResourceGather
ResourceGatherNd ResourceScatterAdd ResourceScatterSub ResourceScatterMul ResourceScatterDiv
ResourceScatterMin ResourceScatterMax ResourceScatterUpdate ResourceScatterNdUpdate
ResourceScatterNdAdd ResourceScatterNdSub ResourceStridedSliceAssign
VariableV2 Variable Assign AssignAdd AssignSub IsVariableInitialized
Placeholder PlaceholderWithDefault Const HostConst Identity IdentityN NoOp StopGradient
PreventGradient Snapshot EnsureShape CheckNumerics CheckNumericsV2 Assert
"""

_CONTROL_FLOW = """
StatefulPartitionedCall PartitionedCall If StatelessIf While StatelessWhile Case StatelessCase
Switch Merge Enter Exit NextIteration LoopCond ControlTrigger RefSwitch RefMerge RefEnter
RefExit RefNextIteration
TensorListFromTensor TensorListGetItem TensorListReserve TensorListSetItem TensorListStack
TensorListLength TensorListElementShape TensorListPushBack TensorListPopBack TensorListConcatV2
TensorListSplit TensorListGather TensorListScatterIntoExistingList TensorListScatterV2
TensorListResize EmptyTensorList
TensorArrayV3 TensorArrayReadV3 TensorArrayWriteV3 TensorArrayGatherV3 TensorArrayScatterV3
TensorArraySizeV3 TensorArrayConcatV3 TensorArraySplitV3 TensorArrayCloseV3
"""

_MATH = """
Abs Acos Acosh Add AddN AddV2 All Any ApproximateEqual ArgMax ArgMin Asin Asinh Atan Atan2
Atanh BatchMatMul BatchMatMulV2 BatchMatMulV3 Betainc BiasAdd BiasAddV1 BitwiseAnd BitwiseOr
BitwiseXor Bucketize Cast Ceil ClipByValue Complex ComplexAbs Conj Cos Cosh Cross Cumprod
Cumsum CumulativeLogsumexp DenseBincount Bincount Digamma Div DivNoNan Einsum Equal Erf Erfc
Erfinv EuclideanNorm Exp Expm1 Floor FloorDiv FloorMod Greater GreaterEqual Igamma Igammac Imag
Inv Invert IsFinite IsInf IsNan L2Loss LeftShift Less LessEqual Lgamma LinSpace Log Log1p
LogicalAnd LogicalNot LogicalOr MatMul Max Maximum Mean Min Minimum Mod Mul MulNoNan Ndtri Neg
NextAfter NotEqual Polygamma Pow Prod Real RealDiv Reciprocal ReciprocalGrad RightShift Rint
Round Rsqrt RsqrtGrad SegmentMax SegmentMean SegmentMin SegmentProd SegmentSum Select SelectV2
Sigmoid SigmoidGrad Sign Sin Sinh SparseSegmentMean SparseSegmentSqrtN SparseSegmentSum Sqrt
SqrtGrad Square SquaredDifference Sub Sum Tan Tanh TanhGrad TruncateDiv TruncateMod
UnsortedSegmentMax UnsortedSegmentMin UnsortedSegmentProd UnsortedSegmentSum Xdivy Xlog1py
Xlogy Zeta
Cholesky LogMatrixDeterminant MatrixBandPart MatrixDeterminant MatrixDiag MatrixDiagV2
MatrixDiagV3 MatrixDiagPart MatrixDiagPartV2 MatrixDiagPartV3 MatrixInverse MatrixSetDiag
MatrixSetDiagV2 MatrixSetDiagV3 MatrixSolve MatrixTriangularSolve Qr SelfAdjointEigV2 Svd
FFT IFFT FFT2D IFFT2D FFT3D IFFT3D RFFT IRFFT RFFT2D IRFFT2D RFFT3D IRFFT3D
"""

_NEURAL_NETWORK = """
Conv Conv2D Conv3D Conv2DBackpropInput Conv2DBackpropInputV2 Conv2DBackpropFilter
Conv2DBackpropFilterV2 Conv3DBackpropInputV2 Conv3DBackpropFilterV2 DepthwiseConv2dNative
DepthwiseConv2dNativeBackpropInput DepthwiseConv2dNativeBackpropFilter Dilation2D
AvgPool AvgPool3D AvgPoolGrad AvgPool3DGrad MaxPool MaxPoolV2 MaxPool3D MaxPoolWithArgmax
MaxPoolGrad MaxPoolGradV2 MaxPool3DGrad FractionalAvgPool FractionalMaxPool
FusedBatchNorm FusedBatchNormV2 FusedBatchNormV3 FusedBatchNormGrad FusedBatchNormGradV2
FusedBatchNormGradV3 LRN BiasAddGrad
Relu Relu6 Elu Selu LeakyRelu Softplus Softsign Softmax LogSoftmax ReluGrad Relu6Grad EluGrad
SeluGrad LeakyReluGrad SoftplusGrad SoftsignGrad
SoftmaxCrossEntropyWithLogits SparseSoftmaxCrossEntropyWithLogits InTopKV2 TopKV2 NthElement
CudnnRNN CudnnRNNV2 CudnnRNNV3 CudnnRNNBackprop CudnnRNNBackpropV2 CudnnRNNBackpropV3
CudnnRNNParamsSize CudnnRNNCanonicalToParams CudnnRNNCanonicalToParamsV2
CudnnRNNParamsToCanonical CudnnRNNParamsToCanonicalV2 BlockLSTM BlockLSTMV2 LSTMBlockCell
GRUBlockCell
FakeQuantWithMinMaxArgs FakeQuantWithMinMaxVars FakeQuantWithMinMaxVarsPerChannel
QuantizeAndDequantizeV2 QuantizeAndDequantizeV3 QuantizeAndDequantizeV4
"""

_ARRAYS = """
BatchToSpace BatchToSpaceND Bitcast BroadcastArgs BroadcastGradientArgs BroadcastTo Concat
ConcatOffset ConcatV2 ConjugateTranspose DepthToSpace Diag DiagPart DynamicPartition
DynamicStitch ParallelDynamicStitch Empty ExpandDims ExtractImagePatches ExtractVolumePatches
Fill Gather GatherNd GatherV2 InvertPermutation ListDiff LowerBound MirrorPad OneHot OnesLike
Pack Pad PadV2 Range Rank Reshape Reverse ReverseSequence ReverseV2 Roll ScatterNd Shape ShapeN
Size Slice SpaceToBatch SpaceToBatchND SpaceToDepth Split SplitV Squeeze StridedSlice
StridedSliceGrad TensorScatterAdd TensorScatterMax TensorScatterMin TensorScatterSub
TensorScatterUpdate TensorStridedSliceUpdate Tile Transpose Unique UniqueV2 UniqueWithCounts
Unpack UpperBound Where ZerosLike
ResizeArea ResizeBicubic ResizeBilinear ResizeNearestNeighbor ScaleAndTranslate
ImageProjectiveTransformV2 ImageProjectiveTransformV3 CropAndResize AdjustContrastv2
AdjustHue AdjustSaturation RGBToHSV HSVToRGB NonMaxSuppressionV3 NonMaxSuppressionV4
NonMaxSuppressionV5 CombinedNonMaxSuppression
"""

_RANDOM = """
RandomUniform RandomUniformInt RandomStandardNormal TruncatedNormal Multinomial RandomGamma
RandomPoisson RandomPoissonV2 RandomShuffle
StatelessRandomUniform StatelessRandomUniformV2 StatelessRandomNormal StatelessRandomNormalV2
StatelessTruncatedNormal StatelessTruncatedNormalV2 StatelessRandomUniformInt
StatelessRandomUniformIntV2 StatelessRandomUniformFullInt StatelessRandomUniformFullIntV2
StatelessRandomGetKeyCounter StatelessRandomGetKeyCounterAlg StatelessRandomGetAlg
StatelessMultinomial StatelessRandomBinomial StatelessRandomGammaV2 StatelessRandomGammaV3
StatelessRandomPoisson RngReadAndSkip RngSkip StatefulUniform StatefulUniformInt
StatefulUniformFullInt StatefulStandardNormalV2 StatefulTruncatedNormal
"""

# In-memory lookup tables and pure string transforms; nothing here touches files.
_TABLES_AND_TEXT = """
HashTableV2 MutableHashTableV2 MutableDenseHashTableV2 LookupTableFindV2 LookupTableImportV2
LookupTableInsertV2 LookupTableSizeV2 LookupTableExportV2 LookupTableRemoveV2
InitializeTableV2 StringToHashBucketFast StringLower StringUpper StringStrip StringLength
StringSplitV2 StaticRegexReplace Substr StringToNumber AsString
"""

# TensorFlow's own checkpoint functions use these; allowed only where no signature reaches.
CHECKPOINT_ONLY_OPS = frozenset(
    "SaveV2 RestoreV2 MergeV2Checkpoints ShardedFilename ShardedFilespec StringJoin "
    "StaticRegexFullMatch".split()
)

ALLOWED_OPS = frozenset(
    " ".join(
        (
            _VARIABLES_AND_PLUMBING,
            _CONTROL_FLOW,
            _MATH,
            _NEURAL_NETWORK,
            _ARRAYS,
            _RANDOM,
            _TABLES_AND_TEXT,
        )
    ).split()
)

# Known-dangerous ops get a reason in the refusal; every other unlisted op is simply unknown.
_REFUSAL_REASONS = {
    "reads or writes files": "ReadFile WriteFile MatchingFiles DeleteFile FileExists IsDirectory "
    "CreateDir RecursiveCreateDir WholeFileReader WholeFileReaderV2 TextLineReaderV2 "
    "FixedLengthRecordReaderV2 TFRecordReaderV2 ImmutableConst InitializeTableFromTextFile "
    "InitializeTableFromTextFileV2 Save SaveSlices Restore RestoreSlice "
    "WriteSummary WriteScalarSummary CreateSummaryFileWriter CreateSummaryDbWriter "
    "TFRecordDataset TFRecordDatasetV2 TextLineDataset FixedLengthRecordDataset "
    "FixedLengthRecordDatasetV2 SaveDataset SaveDatasetV2 LoadDataset SnapshotDataset "
    "SnapshotDatasetV2 CSVDataset CSVDatasetV2 LMDBDataset SqlDataset",
    "runs Python code": "PyFunc PyFuncStateless EagerPyFunc",
    "prints or formats output": "Print PrintV2 StringFormat",
    "talks to the network or other processes": "Rpc TryRpc RpcClient RpcServer RpcCall _Send "
    "_Recv Send Recv _HostSend _HostRecv CollectiveReduce CollectiveReduceV2 CollectiveGather "
    "CollectiveGatherV2 CollectiveBcastSend CollectiveBcastRecv CollectiveBcastSendV2 "
    "CollectiveBcastRecvV2 CollectiveAllToAllV2 CollectiveAllToAllV3",
}
REFUSAL_REASONS = {op: why for why, ops in _REFUSAL_REASONS.items() for op in ops.split()}
CHECKPOINT_REASON = "reads or writes checkpoint files, which only TensorFlow's own save/restore "
CHECKPOINT_REASON += "functions may do, never code that a serving signature runs"


def refusal_reason(op: str) -> str:
    if op in CHECKPOINT_ONLY_OPS:
        return CHECKPOINT_REASON
    return REFUSAL_REASONS.get(
        op,
        "is not on the allow-list of ordinary math, neural-network, variable and control-flow ops",
    )
