#!/usr/bin/env python3
"""Trains the bundled example model and writes it with its data.

A small CNN on scikit-learn's 8x8 digits, built to exercise what makes
quantization hard: a depthwise convolution, BatchNormalization (one after a
convolution, one standalone after a residual Add), a residual Add, a Concat of
two branches with very different ranges (ReLU up to ~10 vs sigmoid in [0, 1]),
and a sigmoid. Exported with torch.onnx (opset 13, dynamic batch).

Outputs (all small, committed; CI never runs this script):
  digits_cnn.onnx            the float model, input "image" [N,1,8,8]
  digits_calib.npz           calibration images (key "image")
  digits_test_images.npy     held-out test split
  digits_test_labels.npy     its labels (int64)
  digits_test_logits.npy     the float model's logits on the test split (torch)

Needs Debian's python3-torch, python3-sklearn and python3-onnx:
  /usr/bin/python3 examples/digits/train_digits_cnn.py
"""
import os

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261122


class DigitsCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.pointwise = nn.Conv2d(16, 16, 1)
        self.post_add_bn = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2)
        self.wide = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.gate = nn.Conv2d(16, 8, 1)
        self.head = nn.Linear(24, 10)

    def forward(self, image):
        x = self.stem(image)
        y = self.pointwise(torch.relu(self.depthwise(x)))
        x = torch.relu(self.post_add_bn(x + y))  # Residual Add, standalone BN.
        x = self.pool(x)
        wide = self.wide(x) * 4.0                 # Large range.
        gate = torch.sigmoid(self.gate(x))        # [0, 1].
        x = torch.cat([wide, gate], dim=1)
        x = x.mean(dim=(2, 3))
        return self.head(x)


def main():
    torch.manual_seed(SEED)
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=0.3, random_state=SEED, stratify=labels)
    calib_x = train_x[:256]

    model = DigitsCnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(train_x), torch.from_numpy(train_y)
    for epoch in range(40):
        model.train()
        perm = torch.randperm(len(tx))
        for i in range(0, len(tx), 64):
            idx = perm[i:i + 64]
            optimizer.zero_grad()
            loss = loss_fn(model(tx[idx]), ty[idx])
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(test_x)).numpy()
    accuracy = float((logits.argmax(1) == test_y).mean())
    print(f"float test accuracy: {accuracy:.4f} on {len(test_y)} samples")

    torch.onnx.export(
        model, torch.from_numpy(test_x[:1]), os.path.join(HERE, "digits_cnn.onnx"),
        input_names=["image"], output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=13, do_constant_folding=True,
        training=torch.onnx.TrainingMode.PRESERVE)
    np.savez(os.path.join(HERE, "digits_calib.npz"), image=calib_x)
    np.save(os.path.join(HERE, "digits_test_images.npy"), test_x)
    np.save(os.path.join(HERE, "digits_test_labels.npy"), test_y)
    np.save(os.path.join(HERE, "digits_test_logits.npy"), logits.astype(np.float32))


if __name__ == "__main__":
    main()
