"""Layer catalog: every layer kind mogui offers, with typed, validated parameters.

Parameter names are the Keras constructor arguments, so the engine can pass them through
unchanged. Nothing here imports Keras.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ActivationName = Literal[
    "linear", "relu", "gelu", "elu", "selu", "swish", "tanh", "sigmoid", "softmax", "softplus"
]
Padding = Literal["valid", "same"]

ACTIVATIONS: tuple[str, ...] = ActivationName.__args__  # type: ignore[attr-defined]


class LayerParams(BaseModel):
    """Base class of a layer's parameters; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid")


class DenseParams(LayerParams):
    units: int = Field(64, ge=1)
    activation: ActivationName = "relu"
    use_bias: bool = True


class DropoutParams(LayerParams):
    rate: float = Field(0.2, ge=0.0, lt=1.0)


class BatchNormalizationParams(LayerParams):
    momentum: float = Field(0.99, gt=0.0, lt=1.0)
    epsilon: float = Field(1e-3, gt=0.0)


class LayerNormalizationParams(LayerParams):
    epsilon: float = Field(1e-3, gt=0.0)


class NormalizationParams(LayerParams):
    """Normalization: mean and variance per feature along ``axis``, learnt from the training
    rows before the first epoch (not by the optimizer)."""

    axis: int = -1


class ActivationParams(LayerParams):
    activation: ActivationName = "relu"


class ConvParams(LayerParams):
    """Conv1D, Conv2D and Conv2DTranspose (square kernels and strides)."""

    filters: int = Field(32, ge=1)
    kernel_size: int = Field(3, ge=1)
    strides: int = Field(1, ge=1)
    padding: Padding = "same"
    activation: ActivationName = "relu"


class PoolingParams(LayerParams):
    """MaxPooling1D/2D and AveragePooling1D/2D (strides: the pool size)."""

    pool_size: int = Field(2, ge=1)
    padding: Padding = "valid"


class NoParams(LayerParams):
    pass


class ReshapeParams(LayerParams):
    target_shape: list[int] = Field(default_factory=lambda: [-1], min_length=1)

    @field_validator("target_shape")
    @classmethod
    def _one_unknown_axis(cls, shape: list[int]) -> list[int]:
        if shape.count(-1) > 1:
            raise ValueError("may contain -1 at most once (one axis can be inferred)")
        if any(n == 0 or n < -1 for n in shape):
            raise ValueError("sizes must be >= 1, or -1 for one inferred axis")
        return shape


class EmbeddingParams(LayerParams):
    input_dim: int = Field(1000, ge=1)
    output_dim: int = Field(32, ge=1)


class RecurrentParams(LayerParams):
    units: int = Field(32, ge=1)
    return_sequences: bool = False
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


class ConcatenateParams(LayerParams):
    axis: int = -1


class UpSamplingParams(LayerParams):
    size: int = Field(2, ge=1, description="each pixel becomes size x size pixels")
    interpolation: Literal["nearest", "bilinear"] = "nearest"


class BidirectionalParams(LayerParams):
    """An LSTM or GRU run forwards and backwards over the steps, the two outputs merged."""

    layer: Literal["LSTM", "GRU"] = "LSTM"
    units: int = Field(32, ge=1)
    return_sequences: bool = False
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    merge_mode: Literal["concat", "sum", "mul", "ave"] = "concat"


class AttentionParams(LayerParams):
    num_heads: int = Field(4, ge=1)
    key_dim: int = Field(16, ge=1, description="size of each head's query and key")
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


class RescalingParams(LayerParams):
    """x * scale + offset; the default maps pixel values 0..255 to 0..1."""

    scale: float = 1 / 255
    offset: float = 0.0


FillMode = Literal["reflect", "wrap", "constant", "nearest"]


class RandomFlipParams(LayerParams):
    mode: Literal["horizontal", "vertical", "horizontal_and_vertical"] = "horizontal"


class RandomRotationParams(LayerParams):
    factor: float = Field(0.1, gt=0.0, le=1.0,
                          description="rotates by up to factor x 360 degrees either way")
    fill_mode: FillMode = "reflect"


class RandomZoomParams(LayerParams):
    height_factor: float = Field(0.1, gt=0.0, lt=1.0,
                                 description="zooms in or out by up to this fraction")
    fill_mode: FillMode = "reflect"


class PermuteParams(LayerParams):
    dims: list[int] = Field(default_factory=lambda: [2, 1], min_length=1)

    @field_validator("dims")
    @classmethod
    def _a_permutation(cls, dims: list[int]) -> list[int]:
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"must list each of the axes 1..{len(dims)} once, in the new "
                             "order (axis 0, the batch, stays), e.g. 2, 1")
        return dims


@dataclass(frozen=True)
class LayerKind:
    """One entry of the catalog."""

    name: str
    params: type[LayerParams]
    category: str
    summary: str
    min_inputs: int = 1
    max_inputs: int | None = 1
    #: What several inputs mean, in order, when they are not merged (MultiHeadAttention).
    input_roles: tuple[str, ...] = ()

    @property
    def is_merge(self) -> bool:
        """Takes its inputs as one list (Concatenate, Add)."""
        return self.min_inputs > 1

    def too_many_inputs(self, count: int) -> str | None:
        """Why ``count`` inputs are too many (``"takes 1 input, got 2; …"``), or ``None``."""
        if self.max_inputs is None or count <= self.max_inputs:
            return None
        if self.input_roles:
            return (f"takes at most {self.max_inputs} inputs ({', '.join(self.input_roles)}), "
                    f"got {count}; merge the others with Concatenate or Add first")
        return (f"takes {self.max_inputs} input, got {count}; merge them with Concatenate or "
                "Add first")


_KINDS = [
    LayerKind("Dense", DenseParams, "Core", "Fully connected layer"),
    LayerKind("Dropout", DropoutParams, "Regularization", "Randomly zeroes inputs while training"),
    LayerKind("BatchNormalization", BatchNormalizationParams, "Normalization",
              "Normalizes each feature over the batch"),
    LayerKind("LayerNormalization", LayerNormalizationParams, "Normalization",
              "Normalizes each sample over its features"),
    LayerKind("Normalization", NormalizationParams, "Normalization",
              "Scales each feature to mean 0 and variance 1, as measured on the training rows"),
    LayerKind("Activation", ActivationParams, "Core", "Applies an activation function"),
    LayerKind("Conv1D", ConvParams, "Convolution", "1-D convolution over (steps, channels)"),
    LayerKind("Conv2D", ConvParams, "Convolution",
              "2-D convolution over (height, width, channels)"),
    LayerKind("Conv2DTranspose", ConvParams, "Convolution",
              "Transposed 2-D convolution: upsamples (height, width) by strides"),
    LayerKind("UpSampling2D", UpSamplingParams, "Convolution",
              "Repeats (or interpolates) pixels to enlarge height and width"),
    LayerKind("MaxPooling1D", PoolingParams, "Pooling", "Max over windows of steps"),
    LayerKind("MaxPooling2D", PoolingParams, "Pooling", "Max over spatial windows"),
    LayerKind("AveragePooling1D", PoolingParams, "Pooling", "Mean over windows of steps"),
    LayerKind("AveragePooling2D", PoolingParams, "Pooling", "Mean over spatial windows"),
    LayerKind("GlobalAveragePooling1D", NoParams, "Pooling", "Mean over all steps"),
    LayerKind("GlobalAveragePooling2D", NoParams, "Pooling", "Mean over height and width"),
    LayerKind("Flatten", NoParams, "Reshaping", "Flattens all but the batch axis"),
    LayerKind("Reshape", ReshapeParams, "Reshaping",
              "Reshapes to target_shape (-1 infers one axis)"),
    LayerKind("Permute", PermuteParams, "Reshaping",
              "Reorders the axes after the batch axis (dims: 1-based)"),
    LayerKind("Embedding", EmbeddingParams, "Core", "Maps integer ids to dense vectors"),
    LayerKind("LSTM", RecurrentParams, "Recurrent", "Long short-term memory layer"),
    LayerKind("GRU", RecurrentParams, "Recurrent", "Gated recurrent unit layer"),
    LayerKind("Bidirectional", BidirectionalParams, "Recurrent",
              "An LSTM or GRU over the steps in both directions"),
    LayerKind("MultiHeadAttention", AttentionParams, "Attention",
              "Attention of a query sequence over a value sequence; one input: self-attention",
              max_inputs=3, input_roles=("query", "value", "key")),
    LayerKind("Rescaling", RescalingParams, "Preprocessing",
              "Multiplies by scale and adds offset (e.g. pixels 0..255 to 0..1)"),
    LayerKind("RandomFlip", RandomFlipParams, "Augmentation",
              "Flips images at random while training (not when predicting)"),
    LayerKind("RandomRotation", RandomRotationParams, "Augmentation",
              "Rotates images at random while training (not when predicting)"),
    LayerKind("RandomZoom", RandomZoomParams, "Augmentation",
              "Zooms images in or out at random while training (not when predicting)"),
    LayerKind("Concatenate", ConcatenateParams, "Merge", "Joins tensors along an axis",
              min_inputs=2, max_inputs=None),
    LayerKind("Add", NoParams, "Merge", "Adds tensors of the same shape",
              min_inputs=2, max_inputs=None),
]

LAYER_KINDS: dict[str, LayerKind] = {k.name: k for k in _KINDS}


def layer_kind(name: str) -> LayerKind:
    """Return the catalog entry for ``name`` or raise ``KeyError`` with the choices."""
    try:
        return LAYER_KINDS[name]
    except KeyError:
        choices = ", ".join(sorted(LAYER_KINDS))
        raise KeyError(f"unknown layer kind {name!r}; choose one of: {choices}") from None


def default_params(kind: str) -> dict[str, Any]:
    """The default parameters of a layer kind, as plain JSON values."""
    return layer_kind(kind).params().model_dump()


def validate_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate ``params`` for ``kind``; return them with defaults filled in.

    Raises ``pydantic.ValidationError`` whose locations are parameter names.
    """
    return layer_kind(kind).params.model_validate(params).model_dump()


__all__ = [
    "ACTIVATIONS",
    "LAYER_KINDS",
    "LayerKind",
    "LayerParams",
    "ValidationError",
    "default_params",
    "layer_kind",
    "validate_params",
]
