#!/usr/bin/env python3
"""Writes examples/models/tiny_cnn.onnx, an input sample and its expected output.

A small image classifier (Conv-Relu-MaxPool-Conv-Relu-GlobalAveragePool-
Flatten-Gemm-Softmax) with seeded random weights, used by the README's
example command. Regenerate with /usr/bin/python3 (python3-onnx, numpy):
    python3 examples/models/make_tiny_cnn.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def conv2d(x, w, b, pad):
    """Direct NCHW convolution, stride 1: an independent reference."""
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
    y = np.zeros((n, m, oh, ow), np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + oh, j:j + ow]
            y += np.einsum("nchw,mc->nmhw", patch, w[:, :, i, j])
    return y + b[None, :, None, None]


def forward(x, w1, b1, w2, b2, w3, b3):
    r1 = np.maximum(conv2d(x, w1, b1, 1), 0)
    n, c, h, w = r1.shape
    p1 = r1.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
    r2 = np.maximum(conv2d(p1, w2, b2, 1), 0)
    logits = r2.mean(axis=(2, 3)) @ w3.T + b3
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def main():
    rng = np.random.default_rng(20261122)
    w1 = (rng.standard_normal((8, 1, 3, 3)) * 0.4).astype(np.float32)
    b1 = (rng.standard_normal(8) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((16, 8, 3, 3)) * 0.2).astype(np.float32)
    b2 = (rng.standard_normal(16) * 0.1).astype(np.float32)
    w3 = (rng.standard_normal((10, 16)) * 0.3).astype(np.float32)
    b3 = (rng.standard_normal(10) * 0.1).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w1, "conv1.weight"), (b1, "conv1.bias"), (w2, "conv2.weight"),
              (b2, "conv2.bias"), (w3, "fc.weight"), (b3, "fc.bias")]]
    nodes = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["c1"],
                         name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"],
                         name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"],
                         name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax",
                         axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="qforge-examples")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "tiny_cnn.onnx"))
    sample = rng.random((2, 1, 8, 8), dtype=np.float32)
    np.save(os.path.join(HERE, "tiny_cnn_image.npy"), sample)
    np.save(os.path.join(HERE, "tiny_cnn_expected.npy"),
            forward(sample.astype(np.float64), w1, b1, w2, b2, w3, b3))


if __name__ == "__main__":
    main()
