#!/usr/bin/env python3
"""Writes a MobileNetV2 (1.0, 224x224, 1000 classes) ONNX model with seeded
random weights, for `qforge bench` (scripts/bench.sh calls this at benchmark
time; the model is ~14 MB and is never committed).

Uses Debian's python3-torch (torch.onnx). The architecture is written out
here (torchvision is not packaged in Debian 12): the inverted-residual
settings of Sandler et al. 2018, ReLU6, BatchNorm (folded into the
convolutions by the exporter in eval mode), global average pooling and a
1280 -> 1000 classifier.

    /usr/bin/python3 bench/gen_mobilenetv2.py OUT.onnx [--seed 0]
"""
import argparse

import torch
from torch import nn


def conv_bn(cin, cout, kernel, stride, groups=1, relu=True):
    layers = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups,
                  bias=False),
        nn.BatchNorm2d(cout),
    ]
    if relu:
        layers.append(nn.ReLU6())
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = []
        if expand != 1:
            layers.append(conv_bn(cin, hidden, 1, 1))
        layers += [
            conv_bn(hidden, hidden, 3, stride, groups=hidden),
            conv_bn(hidden, cout, 1, 1, relu=False),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    # (expansion t, channels c, repeats n, first stride s)
    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, classes=1000):
        super().__init__()
        layers = [conv_bn(3, 32, 3, 2)]
        cin = 32
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(conv_bn(cin, 1280, 1, 1))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(1280, classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    model = MobileNetV2()
    # Random but plausible BatchNorm statistics, so activations stay in range.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    model.eval()
    x = torch.rand(1, 3, 224, 224) * 2 - 1
    torch.onnx.export(model, x, args.out, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      do_constant_folding=True)
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out}: MobileNetV2 224x224, {params} parameters, "
          f"seed {args.seed}")


if __name__ == "__main__":
    main()
