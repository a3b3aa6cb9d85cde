#!/usr/bin/env python3
"""Where LiteRT's default CPU kernels (XNNPACK delegate) and its reference
kernels (BUILTIN_REF) diverge on a full-integer TFLite model, op by op.

Run with the LiteRT venv's python (scripts/litert-venv.sh):
  litert_layer_diff.py MODEL.tflite INPUTS.npz [--samples N] [--ref-ops K,K,...]

INPUTS.npz holds one array: the model's (int8) input, samples stacked on the
leading axis. For each operator k the table gives
  graph:    the op's output in the full model run by the default interpreter
            vs BUILTIN_REF (every op output made a model output): % of
            elements more than 1 LSB apart, max LSB;
  isolated: the op alone (a one-op model) fed BUILTIN_REF's inputs, default
            interpreter vs BUILTIN_REF: % equal, % within 1 LSB, max LSB;
  only k:   the model's output when only op k runs on the default kernels
            (isolated, on BUILTIN_REF's inputs) and every other op on
            BUILTIN_REF: % equal and % within 1 LSB of BUILTIN_REF's output.
--ref-ops K,...: also chains the ops one by one on the default kernels except
ops K,... on BUILTIN_REF, i.e. what the model would give if those ops
computed as the reference kernels do.
Used by litert_interop_test.py (per-op check of the digits export) and for
the figures in docs/io.md.
"""
import argparse
import copy

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter, OpResolverType

DEFAULT = OpResolverType.AUTO
REF = OpResolverType.BUILTIN_REF
_OP_NAMES = {v: k for k, v in schema.BuiltinOperator.__dict__.items() if not k.startswith("_")}


class Model:
    """A TFLite model (flatbuffer object API) with one-op and suffix cuts."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.m = schema.ModelT.InitFromPackedBuf(f.read(), 0)
        self.sg = self.m.subgraphs[0]

    @staticmethod
    def _save(m):
        b = flatbuffers.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())

    def _is_const(self, t):
        data = self.m.buffers[self.sg.tensors[t].buffer].data
        return data is not None and len(data) > 0

    def op_name(self, k):
        c = self.m.operatorCodes[self.sg.operators[k].opcodeIndex]
        return _OP_NAMES.get(max(c.builtinCode, c.deprecatedBuiltinCode), "?")

    def output_of(self, k):
        return int(self.sg.operators[k].outputs[0])

    def tensor_name(self, t):
        return self.sg.tensors[t].name.decode()

    def _with(self, ops, inputs, outputs):
        m = copy.deepcopy(self.m)
        sg = m.subgraphs[0]
        sg.operators = [copy.deepcopy(self.sg.operators[k]) for k in ops]
        sg.inputs, sg.outputs = list(inputs), list(outputs)
        m.signatureDefs = None
        return self._save(m)

    def _free_inputs(self, ops):
        produced = {int(t) for k in ops for t in self.sg.operators[k].outputs}
        ins = []
        for k in ops:
            for t in self.sg.operators[k].inputs:
                t = int(t)
                if t >= 0 and t not in produced and t not in ins and not self._is_const(t):
                    ins.append(t)
        return ins

    def all_outputs(self):
        outs = [int(t) for t in self.sg.outputs]
        for op in self.sg.operators:
            outs += [int(t) for t in op.outputs if int(t) not in outs]
        return self._with(range(len(self.sg.operators)), [int(t) for t in self.sg.inputs], outs)

    def one_op(self, k):
        ins = self._free_inputs([k])
        return self._with([k], ins, [int(t) for t in self.sg.operators[k].outputs]), ins

    def suffix(self, k):
        """Ops k+1.. reading what they do not produce as model inputs."""
        ops = list(range(k + 1, len(self.sg.operators)))
        ins = self._free_inputs(ops)
        return self._with(ops, ins, [int(t) for t in self.sg.outputs]), ins


def run(content, feeds, resolver):
    """Runs a model on a list of {tensor index: array} feeds; returns a list of
    {tensor index: array} with the model's outputs."""
    it = Interpreter(model_content=content, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    out = []
    for f in feeds:
        for d in it.get_input_details():
            it.set_tensor(d["index"], f[d["index"]])
        it.invoke()
        out.append({d["index"]: it.get_tensor(d["index"]).copy()
                    for d in it.get_output_details()})
    return out


def stack(results, t):
    return np.stack([r[t] for r in results]).astype(np.int64)


class Diff:
    """Every op output of `model` under both resolvers on `inputs`."""

    def __init__(self, model, inputs):
        self.model = model
        it = Interpreter(model_content=model.all_outputs())
        d = it.get_input_details()[0]
        self.feeds = [{d["index"]: s[np.newaxis].astype(d["dtype"])} for s in inputs]
        content = model.all_outputs()
        self.ref = [{**o, **f} for o, f in zip(run(content, self.feeds, REF), self.feeds)]
        self.dflt = [{**o, **f} for o, f in zip(run(content, self.feeds, DEFAULT), self.feeds)]
        self.final = int(model.sg.outputs[0])

    def isolated(self, k, resolver=DEFAULT):
        """Op k alone on BUILTIN_REF's inputs: its output under `resolver`."""
        content, ins = self.model.one_op(k)
        feeds = [{i: r[i] for i in ins} for r in self.ref]
        return stack(run(content, feeds, resolver), self.model.output_of(k))

    def only(self, k):
        """The model output when only op k runs on the default kernels."""
        t = self.model.output_of(k)
        mine = self.isolated(k)
        if t == self.final:
            return mine
        content, ins = self.model.suffix(k)
        feeds = [{i: (mine[j].astype(r[i].dtype) if i == t else r[i]) for i in ins}
                 for j, r in enumerate(self.ref)]
        return stack(run(content, feeds, REF), self.final)

    def chain(self, on_ref):
        """Ops one at a time, default kernels except `on_ref` (BUILTIN_REF)."""
        vals = [dict(f) for f in self.feeds]
        for k in range(len(self.model.sg.operators)):
            content, ins = self.model.one_op(k)
            outs = run(content, [{i: v[i] for i in ins} for v in vals],
                       REF if k in on_ref else DEFAULT)
            for v, o in zip(vals, outs):
                v.update(o)
        return stack(vals, self.final)

    def reference_output(self):
        return stack(self.ref, self.final)


def lsb_stats(a, b):
    d = np.abs(a - b)
    return float(np.mean(d == 0)) * 100, float(np.mean(d <= 1)) * 100, int(d.max())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("inputs")
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--ref-ops", default="")
    a = p.parse_args()
    x = np.load(a.inputs)
    x = x[list(x.keys())[0]][:a.samples]
    model = Model(a.model)
    diff = Diff(model, x)
    want = diff.reference_output()
    print(f"{len(x)} samples; LSB = one step of the op's int8 output")
    print(f"{'#':>2} {'op':18s} {'graph >1':>9} {'max':>3} | {'isolated =':>10} {'<=1':>7} "
          f"{'max':>3} | {'only k =':>8} {'<=1':>7}")
    for k in range(len(model.sg.operators)):
        t = model.output_of(k)
        g = np.abs(stack(diff.dflt, t) - stack(diff.ref, t))
        iso = lsb_stats(diff.isolated(k), stack(diff.ref, t))
        only = lsb_stats(diff.only(k), want)
        print(f"{k:2d} {model.op_name(k):18s} {np.mean(g > 1) * 100:8.2f}% {g.max():3d} | "
              f"{iso[0]:9.2f}% {iso[1]:6.2f}% {iso[2]:3d} | {only[0]:7.2f}% {only[1]:6.2f}%")
    e, w, mx = lsb_stats(stack(diff.dflt, diff.final), want)
    print(f"model output, default interpreter: {e:.2f}% equal, {w:.2f}% within 1 LSB, max {mx}")
    if a.ref_ops:
        ks = {int(k) for k in a.ref_ops.split(",")}
        e, w, mx = lsb_stats(diff.chain(ks), want)
        names = ", ".join(f"#{k} {model.op_name(k)}" for k in sorted(ks))
        print(f"chained, {names} on BUILTIN_REF: {e:.2f}% equal, {w:.2f}% within 1 LSB, max {mx}")


if __name__ == "__main__":
    main()
