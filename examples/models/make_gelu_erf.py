#!/usr/bin/env python3
"""Writes examples/models/gelu_erf.onnx and its calibration data.

A small MLP (Gemm - GELU - Gemm - GELU - Gemm) whose two GELUs are written
out with Erf the way exporters write them:
  gelu1: torch's form       x / sqrt2 -> Erf -> Add 1 -> Mul x -> Mul 0.5
  gelu2: tf2onnx's form     x * (1/sqrt2) -> Erf -> 1 + . -> (0.5 * x) * .
with seeded random weights, opset 13. The erf plugin fuses each into one
Gelu node and quantizes it with a lookup table (plugins/erf/README.md).

  gelu_erf.onnx         the model, input "x" [1, 16], output "y" [1, 10]
  gelu_erf_calib.npz    128 calibration samples (key "x", shape [128, 16])
  gelu_erf_expected.npy the float model's output on the samples, computed
                        here with numpy and math.erf (an independent
                        reference for the float kernels)

Regenerate with /usr/bin/python3 (Debian python3-onnx, python3-numpy):
    python3 examples/models/make_gelu_erf.py
"""
import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SQRT2 = math.sqrt(2.0)


def const(name, value):
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / SQRT2))


def main():
    rng = np.random.default_rng(20261123)
    d_in, d_hidden, d_out = 16, 32, 10
    w1 = (rng.standard_normal((d_in, d_hidden)) / math.sqrt(d_in) * 1.5).astype(np.float32)
    b1 = (0.1 * rng.standard_normal(d_hidden)).astype(np.float32)
    w2 = (rng.standard_normal((d_hidden, d_hidden)) / math.sqrt(d_hidden) * 1.5).astype(np.float32)
    b2 = (0.1 * rng.standard_normal(d_hidden)).astype(np.float32)
    w3 = (rng.standard_normal((d_hidden, d_out)) / math.sqrt(d_hidden)).astype(np.float32)
    b3 = (0.1 * rng.standard_normal(d_out)).astype(np.float32)

    initializers = [
        const("w1", w1), const("b1", b1), const("w2", w2), const("b2", b2),
        const("w3", w3), const("b3", b3),
        const("sqrt2", SQRT2), const("one", 1.0), const("half", 0.5),
        const("inv_sqrt2", 1.0 / SQRT2),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="fc1"),
        # torch: x * 0.5 * (1 + erf(x / sqrt2)) as exported (Div first).
        helper.make_node("Div", ["h1", "sqrt2"], ["g1_div"], name="gelu1_div"),
        helper.make_node("Erf", ["g1_div"], ["g1_erf"], name="gelu1_erf"),
        helper.make_node("Add", ["g1_erf", "one"], ["g1_add"], name="gelu1_add"),
        helper.make_node("Mul", ["h1", "g1_add"], ["g1_mul"], name="gelu1_mul"),
        helper.make_node("Mul", ["g1_mul", "half"], ["gelu1"], name="gelu1_half"),
        helper.make_node("Gemm", ["gelu1", "w2", "b2"], ["h2"], name="fc2"),
        # tf2onnx: Mul by 1/sqrt2, operands in the other order, 0.5 on x.
        helper.make_node("Mul", ["inv_sqrt2", "h2"], ["g2_scaled"], name="gelu2_scale"),
        helper.make_node("Erf", ["g2_scaled"], ["g2_erf"], name="gelu2_erf"),
        helper.make_node("Add", ["one", "g2_erf"], ["g2_add"], name="gelu2_add"),
        helper.make_node("Mul", ["half", "h2"], ["g2_half"], name="gelu2_half"),
        helper.make_node("Mul", ["g2_half", "g2_add"], ["gelu2"], name="gelu2_mul"),
        helper.make_node("Gemm", ["gelu2", "w3", "b3"], ["y"], name="fc3"),
    ]
    graph = helper.make_graph(
        nodes, "gelu_erf",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, d_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, d_out])],
        initializers)
    model = helper.make_model(graph, producer_name="qforge-examples",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "gelu_erf.onnx"))

    samples = rng.standard_normal((128, d_in)).astype(np.float32)
    np.savez(os.path.join(HERE, "gelu_erf_calib.npz"), x=samples)
    x = samples.astype(np.float64)
    h1 = gelu(x @ w1 + b1)
    h2 = gelu(h1 @ w2 + b2)
    y = h2 @ w3 + b3
    np.save(os.path.join(HERE, "gelu_erf_expected.npy"), y.astype(np.float32))


if __name__ == "__main__":
    main()
