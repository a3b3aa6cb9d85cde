#!/usr/bin/env python3
"""Median single-thread latency of an ONNX model on ONNX Runtime, the
reference for qforge's float path in `scripts/bench.sh` (run with the
interop venv of scripts/interop-venv.sh, which has onnxruntime).

    VENV/bin/python bench/ort_latency.py MODEL.onnx [--runs N] [--seed S]

Inputs are seeded, uniform in [-1, 1], symbolic dims 1, as `qforge bench`
generates them. Prints the median wall time and the median CPU time of the
calling thread (ONNX Runtime computes on it with one intra-op thread).
"""
import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(args.model, options,
                                   providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(args.seed)
    feeds = {}
    for i in session.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        feeds[i.name] = rng.uniform(-1, 1, shape).astype(np.float32)
    for _ in range(args.warmup):
        session.run(None, feeds)
    wall, cpu = [], []
    for _ in range(args.runs):
        w, c = time.perf_counter(), time.thread_time()
        session.run(None, feeds)
        cpu.append(1e3 * (time.thread_time() - c))
        wall.append(1e3 * (time.perf_counter() - w))
    print(f"onnxruntime {ort.__version__} float, 1 thread: median "
          f"{statistics.median(wall):.3f} ms ({args.runs} runs; median CPU "
          f"time {statistics.median(cpu):.3f} ms)")


if __name__ == "__main__":
    main()
