"""The built-in Keras 3 objects a .keras config may name. Everything else (Lambda, custom
layers, functions from other modules, layers that load files) is refused, because Keras
deserializes a config by importing what it names."""

from __future__ import annotations

import re

_LAYERS = """
Activation ActivityRegularization AdaptiveAveragePooling1D AdaptiveAveragePooling2D
AdaptiveAveragePooling3D AdaptiveMaxPooling1D AdaptiveMaxPooling2D AdaptiveMaxPooling3D Add
AdditiveAttention AlphaDropout Attention AugMix AutoContrast Average AveragePooling1D
AveragePooling2D AveragePooling3D AvgPool1D AvgPool2D AvgPool3D BatchNormalization Bidirectional
CategoryEncoding CenterCrop Concatenate ContrastLimitedAdaptiveHistogramEqualization Conv1D
Conv1DTranspose Conv2D Conv2DTranspose Conv3D Conv3DTranspose ConvLSTM1D ConvLSTM2D ConvLSTM3D
Convolution1D Convolution1DTranspose Convolution2D Convolution2DTranspose Convolution3D
Convolution3DTranspose Cropping1D Cropping2D Cropping3D CutMix Dense DepthwiseConv1D
DepthwiseConv2D Discretization Dot Dropout ELU EinsumDense Embedding Equalization Flatten GRU
GRUCell GaussianDropout GaussianNoise GlobalAveragePooling1D GlobalAveragePooling2D
GlobalAveragePooling3D GlobalAvgPool1D GlobalAvgPool2D GlobalAvgPool3D GlobalMaxPool1D
GlobalMaxPool2D GlobalMaxPool3D GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D
GroupNormalization GroupQueryAttention HashedCrossing Hashing Identity InputLayer LSTM LSTMCell
LayerNormalization LeakyReLU Masking MaxNumBoundingBoxes MaxPool1D MaxPool2D MaxPool3D
MaxPooling1D MaxPooling2D MaxPooling3D Maximum MelSpectrogram Minimum MixUp MultiHeadAttention
Multiply Normalization PReLU Permute Pipeline RMSNormalization RNN RandAugment RandomBrightness
RandomColorDegeneration RandomColorJitter RandomContrast RandomCrop RandomElasticTransform
RandomErasing RandomFlip RandomGaussianBlur RandomGrayscale RandomHue RandomInvert
RandomPerspective RandomPosterization RandomRotation RandomSaturation RandomSharpness
RandomShear RandomTranslation RandomZoom ReLU RepeatVector Rescaling Reshape Resizing
ReversibleEmbedding STFTSpectrogram SeparableConv1D SeparableConv2D SeparableConvolution1D
SeparableConvolution2D SimpleRNN SimpleRNNCell Softmax Solarization SpatialDropout1D
SpatialDropout2D SpatialDropout3D SpectralNormalization StackedRNNCells Subtract
TimeDistributed UnitNormalization UpSampling1D UpSampling2D UpSampling3D ZeroPadding1D
ZeroPadding2D ZeroPadding3D
"""
LAYER_CLASSES = frozenset(_LAYERS.split())
MODEL_CLASSES = frozenset({"Functional", "Sequential", "Model"})
# Built-in layers refused anyway: they run Python code or read files named in the config.
REFUSED_LAYERS = {
    "Lambda": "runs arbitrary Python code",
    "TFSMLayer": "loads another SavedModel from a path",
    "StringLookup": "may read a vocabulary file named in the config",
    "IntegerLookup": "may read a vocabulary file named in the config",
    "TextVectorization": "may read a vocabulary file named in the config",
    "JaxLayer": "wraps arbitrary Python functions",
    "FlaxLayer": "wraps arbitrary Python modules",
    "TorchModuleWrapper": "wraps arbitrary Python modules",
}

_DTYPE_POLICIES = (
    "DTypePolicy FloatDTypePolicy QuantizedDTypePolicy QuantizedFloat8DTypePolicy "
    "DTypePolicyMap Int4DTypePolicy GPTQDTypePolicy AWQDTypePolicy"
)
_INITIALIZERS = (
    "Constant GlorotNormal GlorotUniform HeNormal HeUniform Identity IdentityInitializer "
    "LecunNormal LecunUniform Ones Orthogonal OrthogonalInitializer RandomNormal RandomUniform "
    "STFT STFTInitializer TruncatedNormal VarianceScaling Zeros"
)

# module -> class names allowed from it. None: any CamelCase class name from that module (the
# module holds nothing but such objects).
ALLOWED_BY_MODULE: dict[str, frozenset[str] | None] = {
    "keras.layers": LAYER_CLASSES,
    "keras": MODEL_CLASSES | frozenset(_DTYPE_POLICIES.split()),
    "keras.models": MODEL_CLASSES,
    "keras.src.models.functional": frozenset({"Functional"}),
    "keras.src.models.sequential": frozenset({"Sequential"}),
    "keras.src.models.model": frozenset({"Model"}),
    "keras.dtype_policies": frozenset(_DTYPE_POLICIES.split()),
    "keras.initializers": frozenset(_INITIALIZERS.split()),
    "keras.regularizers": frozenset({"L1", "L2", "L1L2", "OrthogonalRegularizer"}),
    "keras.constraints": frozenset({"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"}),
    "keras.optimizers": None,
    "keras.optimizers.schedules": None,
    "keras.losses": None,
    "keras.metrics": None,
    # Functional models record keras.ops calls as operation objects.
    "keras.src.ops.numpy": None,
    "keras.src.ops.nn": None,
    "keras.src.ops.math": None,
    "keras.src.ops.core": None,
    "keras.src.ops.image": None,
    "keras.src.ops.linalg": None,
}
CAMEL_CASE = re.compile(r"^[A-Z][A-Za-z0-9]*$")

# Values of the config's own encoding, not objects to import.
STRUCTURAL_CLASSES = frozenset(
    {
        "__keras_tensor__",
        "__tuple__",
        "__numpy__",
        "__tensor__",
        "__ellipsis__",
        "__slice__",
        "__bytes__",
    }
)

ACTIVATIONS = frozenset(
    """celu elu exponential gelu glu hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh
    leaky_relu linear log_sigmoid log_softmax mish relu relu6 selu sigmoid silu soft_shrink
    softmax softplus softsign sparse_plus sparse_sigmoid sparsemax squareplus swish tanh
    tanh_shrink threshold""".split()
)
_LOSS_AND_METRIC_FUNCTIONS = """
binary_accuracy binary_crossentropy binary_focal_crossentropy categorical_accuracy
categorical_crossentropy categorical_focal_crossentropy categorical_generalized_cross_entropy
categorical_hinge circle concordance_correlation cosine_similarity ctc dice hinge huber
kl_divergence log_cosh mean_absolute_error mean_absolute_percentage_error mean_squared_error
mean_squared_logarithmic_error pearson_correlation poisson sparse_categorical_accuracy
sparse_categorical_crossentropy sparse_top_k_categorical_accuracy squared_hinge
top_k_categorical_accuracy tversky mse mae mape msle kld logcosh accuracy acc crossentropy ce
"""
# Names a {"class_name": "function", "config": NAME} entry may give: Keras' own functions.
BUILTIN_FUNCTIONS = ACTIVATIONS | frozenset(_LOSS_AND_METRIC_FUNCTIONS.split())
