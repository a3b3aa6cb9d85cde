#!/usr/bin/env python3
"""Writes examples/models/anchor_boxes.onnx and its calibration data.

A tiny detector trunk with one RetinaNet-style anchor generator, for the
AnchorBoxes plugin (plugins/anchor_boxes):

    image [1,3,32,32] -> Conv 3x3 stride 2 (8 ch) -> Relu -> p3 [1,8,16,16]
    p3 -> Conv 1x1 (9 ch) -> cls            (a class-score head, 9 anchors)
    p3 -> qforge.contrib::AnchorBoxes "anchors_p3" -> anchors [1,2304,4]

The AnchorBoxes node uses layout NCHW, size 32, stride 2 and the default
ratios and scales (9 anchors per cell). Weights are seeded random values.
anchor_boxes_calib.npz holds 4 seeded samples of "image" and
anchor_boxes_image.npy one more image (an input for `qforge run`).

Regenerate with /usr/bin/python3 (python3-onnx, numpy):
    python3 examples/models/make_anchor_boxes_model.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rng = np.random.default_rng(20261123)
    w1 = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
    b1 = (rng.standard_normal(8) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((9, 8, 1, 1)) * 0.3).astype(np.float32)
    b2 = (rng.standard_normal(9) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["p3"], name="relu1"),
        helper.make_node("Conv", ["p3", "w2", "b2"], ["cls"], name="cls_head",
                         kernel_shape=[1, 1]),
        helper.make_node("AnchorBoxes", ["p3"], ["anchors"], name="anchors_p3",
                         domain="qforge.contrib", layout="NCHW", size=32.0,
                         stride=2),
    ]
    graph = helper.make_graph(
        nodes, "anchor_boxes_example",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("cls", TensorProto.FLOAT, [1, 9, 16, 16]),
         helper.make_tensor_value_info("anchors", TensorProto.FLOAT, [1, 2304, 4])],
        initializer=[numpy_helper.from_array(w1, "w1"),
                     numpy_helper.from_array(b1, "b1"),
                     numpy_helper.from_array(w2, "w2"),
                     numpy_helper.from_array(b2, "b2")],
        value_info=[helper.make_tensor_value_info("p3", TensorProto.FLOAT,
                                                  [1, 8, 16, 16])])
    model = helper.make_model(
        graph, producer_name="qforge-examples",
        opset_imports=[helper.make_opsetid("", 13),
                       helper.make_opsetid("qforge.contrib", 1)])
    model.ir_version = 8
    onnx.save(model, os.path.join(HERE, "anchor_boxes.onnx"))
    images = rng.uniform(-1.0, 1.0, (4, 3, 32, 32)).astype(np.float32)
    np.savez(os.path.join(HERE, "anchor_boxes_calib.npz"), image=images)
    image = rng.uniform(-1.0, 1.0, (1, 3, 32, 32)).astype(np.float32)
    np.save(os.path.join(HERE, "anchor_boxes_image.npy"), image)


if __name__ == "__main__":
    main()
