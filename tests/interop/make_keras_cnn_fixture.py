#!/usr/bin/env python3
"""Generates the converter-comparison fixture in tests/interop/fixtures/keras_cnn/.

A small Keras CNN trained on scikit-learn's bundled 8x8 digits (no download),
quantized once by the TFLite converter; qforge quantizes the same float
.tflite from the same calibration samples in tests/io/converter_comparison_test.cc
(docs/converter_comparison.md reports both).

Not run in CI: it needs tensorflow-cpu and scikit-learn, installed only by
  QFORGE_LITERT_VENV=DIR scripts/litert-venv.sh --with-tensorflow
Run:  DIR/bin/python tests/interop/make_keras_cnn_fixture.py [OUT_DIR]

The model (input "image" [1, 8, 8, 1], NHWC, fixed batch 1; output: 10 logits):
  Conv2D 3x3 (no bias) -> BatchNormalization -> ReLU6
  DepthwiseConv2D 3x3  -> BatchNormalization -> ReLU6 -> MaxPool 2x2
  two branches: Conv2D 3x3 -> ReLU6 ([0, 6])  and  Conv2D 1x1 -> sigmoid ([0, 1])
                and Conv2D 1x1 -> tanh ([-1, 1])
  Concatenate (the three branches) -> GlobalAveragePooling2D -> Dense(10)
Training is seeded (tf.keras.utils.set_random_seed + op determinism), on the
same train/test split as examples/digits (train_test_split(test_size=0.3,
random_state=20261122, stratify=labels)); the calibration samples are the
first 256 training images, as in examples/digits.

Writes (OUT_DIR, default tests/interop/fixtures/keras_cnn/):
  keras_cnn_float.tflite          tf.lite.TFLiteConverter, float
  keras_cnn_converter_int8.tflite the converter's full-integer model:
                                  Optimize.DEFAULT + representative_dataset
                                  (the 256 calibration images, one per step)
                                  + TFLITE_BUILTINS_INT8; float model inputs
                                  and outputs (the converter's default
                                  inference_input_type / _output_type, so
                                  QUANTIZE / DEQUANTIZE are inside the model)
  keras_cnn_calib.npz             the calibration images [256, 8, 8, 1], keyed by
                                  the float model's input name (what
                                  `qforge quantize --calib` takes)
  keras_cnn_test_images.npy       the test split [540, 8, 8, 1] float32 in [0, 1]
  keras_cnn_test_labels.npy       its labels (int64)
and prints the float / converter accuracy and the converter's SQNR as LiteRT
(BUILTIN_REF) computes them, as a cross-check of the C++ test's figures.
"""
import os
import sys

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 20261122
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "fixtures", "keras_cnn")


def data():
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, :, :, None]  # NHWC
    labels = digits.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=0.3, random_state=SEED, stratify=labels)
    return train_x, train_y, test_x, test_y


def build():
    L = tf.keras.layers
    inp = tf.keras.Input((8, 8, 1), batch_size=1, name="image")
    x = L.Conv2D(16, 3, padding="same", use_bias=False)(inp)
    x = L.BatchNormalization()(x)
    x = L.ReLU(max_value=6.0)(x)
    x = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    x = L.ReLU(max_value=6.0)(x)
    x = L.MaxPooling2D(2)(x)
    wide = L.Conv2D(16, 3, padding="same", activation="relu6")(x)
    gate = L.Conv2D(8, 1, activation="sigmoid")(x)
    sign = L.Conv2D(8, 1, activation="tanh")(x)
    x = L.Concatenate()([wide, gate, sign])
    x = L.GlobalAveragePooling2D()(x)
    out = L.Dense(10, name="logits")(x)
    return tf.keras.Model(inp, out)


def train(train_x, train_y):
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    model = build()
    # Train with a free batch size on a twin that shares the layers' weights.
    train_in = tf.keras.Input((8, 8, 1))
    twin = tf.keras.Model(train_in, model(train_in))
    twin.compile(optimizer=tf.keras.optimizers.Adam(3e-3),
                 loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                 metrics=["accuracy"])
    twin.fit(train_x, train_y, batch_size=64, epochs=40, shuffle=True, verbose=0)
    return model


def run_tflite(path, xs):
    interp = tf.lite.Interpreter(
        model_path=path,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    ys = []
    for sample in xs:
        interp.set_tensor(inp["index"], sample[np.newaxis].astype(inp["dtype"]))
        interp.invoke()
        ys.append(interp.get_tensor(out["index"])[0].copy())
    return np.stack(ys).astype(np.float64), inp["name"]


def sqnr_db(ref, got):
    noise = np.sum((ref - got) ** 2)
    return float("inf") if noise == 0 else 10 * np.log10(np.sum(ref ** 2) / noise)


def main():
    os.makedirs(OUT, exist_ok=True)
    train_x, train_y, test_x, test_y = data()
    calib_x = train_x[:256]
    model = train(train_x, train_y)

    float_path = os.path.join(OUT, "keras_cnn_float.tflite")
    with open(float_path, "wb") as fh:
        fh.write(tf.lite.TFLiteConverter.from_keras_model(model).convert())

    def representative():
        for sample in calib_x:
            yield [sample[np.newaxis]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    int8_path = os.path.join(OUT, "keras_cnn_converter_int8.tflite")
    with open(int8_path, "wb") as fh:
        fh.write(conv.convert())

    float_logits, input_name = run_tflite(float_path, test_x)
    conv_logits, _ = run_tflite(int8_path, test_x)
    np.savez(os.path.join(OUT, "keras_cnn_calib.npz"), **{input_name: calib_x})
    np.save(os.path.join(OUT, "keras_cnn_test_images.npy"), test_x)
    np.save(os.path.join(OUT, "keras_cnn_test_labels.npy"), test_y)

    keras_acc = float(np.mean(np.argmax(model.predict(test_x, batch_size=1, verbose=0), -1)
                              == test_y))
    print(f"input name: {input_name}")
    print(f"keras float accuracy:      {keras_acc:.4f}")
    print(f"tflite float accuracy:     {np.mean(np.argmax(float_logits, -1) == test_y):.4f}")
    print(f"converter int8 accuracy:   {np.mean(np.argmax(conv_logits, -1) == test_y):.4f}")
    print(f"converter int8 SQNR:       {sqnr_db(float_logits, conv_logits):.2f} dB")
    for name in sorted(os.listdir(OUT)):
        print(f"  {name}: {os.path.getsize(os.path.join(OUT, name))} bytes")


if __name__ == "__main__":
    main()
