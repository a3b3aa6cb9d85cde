#!/usr/bin/env python3
"""Generates the TFLite-converter fixtures in tests/interop/fixtures/.

Not run in CI: it needs tensorflow-cpu, installed only by
  scripts/litert-venv.sh --with-tensorflow   (QFORGE_LITERT_VENV=DIR to put it elsewhere)
Run:  DIR/bin/python tests/interop/make_tflite_fixtures.py [OUT_DIR]

Writes, for each small single-op float model NAME:
  NAME.tflite   converted by tf.lite.TFLiteConverter from a tf.function
  NAME.npz      'input' (a batch of 1) and 'output' (TensorFlow's result)
and one converter-quantized model:
  small_cnn_int8.tflite  full-integer (int8 inputs and outputs) Keras CNN
  small_cnn_int8.npz     'input' (int8, 8 samples stacked) and 'output'
                         (LiteRT BUILTIN_REF's int8 result per sample)
The weights are seeded, so the files only change with the TF version
(pinned in scripts/litert-venv.sh).
"""
import os
import sys

import numpy as np
import tensorflow as tf

RNG = np.random.default_rng(7)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures")


def const(shape, scale=0.5):
    return tf.constant(RNG.uniform(-scale, scale, size=shape).astype(np.float32))


def single_op_models():
    w_conv = const((3, 3, 3, 4))  # HWIO
    b_conv = const((4,), 0.2)
    w_dw = const((3, 3, 4, 1))
    w_fc = const((12, 5))
    b_fc = const((5,), 0.2)
    bmm = const((1, 6, 3))
    return {
        "tf_conv_relu": ((1, 8, 8, 3), lambda x: tf.nn.relu(
            tf.nn.conv2d(x, w_conv, strides=2, padding="SAME") + b_conv)),
        "tf_depthwise_relu6": ((1, 6, 6, 4), lambda x: tf.nn.relu6(
            tf.nn.depthwise_conv2d(x, w_dw, strides=[1, 1, 1, 1], padding="VALID"))),
        "tf_dense": ((1, 12), lambda x: tf.matmul(x, w_fc) + b_fc),
        "tf_pool_mean": ((1, 8, 8, 3), lambda x: tf.reduce_mean(
            tf.nn.max_pool2d(tf.nn.avg_pool2d(x, 2, 2, "SAME"), 3, 1, "SAME"),
            axis=[1, 2], keepdims=True)),
        "tf_concat_softmax": ((1, 6), lambda x: tf.nn.softmax(
            tf.concat([tf.sigmoid(x), tf.tanh(x) * 2.0], axis=-1))),
        "tf_pad_transpose_reshape": ((1, 4, 4, 2), lambda x: tf.reshape(
            tf.transpose(tf.pad(x, [[0, 0], [1, 1], [0, 2], [0, 0]]), [0, 3, 1, 2]),
            [1, -1])),
        "tf_resize": ((1, 4, 4, 2), lambda x: tf.concat([
            tf.image.resize(x, [8, 8], method="bilinear"),
            tf.image.resize(x, [8, 8], method="nearest")], axis=-1)),
        "tf_activations": ((1, 10), lambda x: tf.nn.leaky_relu(x, 0.2) + tf.nn.gelu(x) +
                           x * tf.nn.relu6(x + 3.0) / 6.0),
        "tf_batch_matmul": ((1, 4, 6), lambda x: tf.matmul(x, bmm) - 0.5),
    }


def convert(fn, shape):
    f = tf.function(fn, input_signature=[tf.TensorSpec(shape, tf.float32)])
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    return conv.convert(), f


def small_cnn():
    tf.keras.utils.set_random_seed(7)
    inp = tf.keras.Input((8, 8, 1), batch_size=1)
    x = tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    x = tf.keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    x = tf.keras.layers.MaxPooling2D(2)(x)
    a = tf.keras.layers.Conv2D(4, 1, activation="sigmoid")(x)
    b = tf.keras.layers.Conv2D(4, 1, activation="tanh")(x)
    x = tf.keras.layers.Concatenate()([a, b])
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Dense(10)(x)
    out = tf.keras.layers.Softmax()(x)
    return tf.keras.Model(inp, out)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (shape, fn) in single_op_models().items():
        model, f = convert(fn, shape)
        x = RNG.uniform(-1.0, 1.0, size=shape).astype(np.float32)
        y = f(tf.constant(x)).numpy()
        with open(os.path.join(OUT, name + ".tflite"), "wb") as fh:
            fh.write(model)
        np.savez(os.path.join(OUT, name + ".npz"), input=x, output=y)
        print(f"{name}: {len(model)} bytes")

    keras_model = small_cnn()
    calib = RNG.uniform(0.0, 1.0, size=(64, 1, 8, 8, 1)).astype(np.float32)

    def representative():
        for sample in calib:
            yield [sample]

    conv = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    model = conv.convert()
    path = os.path.join(OUT, "small_cnn_int8.tflite")
    with open(path, "wb") as fh:
        fh.write(model)
    interp = tf.lite.Interpreter(
        model_path=path,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    s, z = inp["quantization"]
    xs = RNG.uniform(0.0, 1.0, size=(8, 1, 8, 8, 1)).astype(np.float32)
    xq = np.clip(np.round(xs / s) + z, -128, 127).astype(np.int8)
    ys = []
    for sample in xq:
        interp.set_tensor(inp["index"], sample)
        interp.invoke()
        ys.append(interp.get_tensor(out["index"]).copy())
    np.savez(os.path.join(OUT, "small_cnn_int8.npz"), input=xq, output=np.stack(ys))
    print(f"small_cnn_int8: {len(model)} bytes")


if __name__ == "__main__":
    main()
