"""One declared schema per kind of file horq_ref reads back, and the one validator that applies it.

Not part of the paper. A file may have been edited, damaged or crafted, so each kind is declared here
once, field by field: every value's type, every array's dtype (real; either byte order) and shape
(from the architecture the file itself names), every number's range (NaN and inf are outside every
range). :func:`validate` applies a schema before any work: a wrong type, dtype, shape or range, a
missing field or an unknown one is a ``ValueError`` naming the file and the field; nothing is
defaulted. The kinds: :data:`CHECKPOINT` (:func:`horq_ref.nn.train.load_checkpoint`),
:data:`PACKED_MODEL` (:func:`horq_ref.io.export.load_packed`), :func:`run_record` (``OUT/runs/*.json``
of ``horq-ref reproduce``, which must agree with its name and the run's settings and data) and
:data:`FOLDER` (``OUT/run.json``, the run that owns a folder, :mod:`.paths`).

A crafted file stays cheap: JSON is parsed only within :data:`MAX_JSON_BYTES`, :data:`MAX_CONTAINERS`
and :data:`MAX_DEPTH` (:func:`parse_json`); widths, epochs and the order
(:data:`horq_ref.checks.ORDER_LIMIT`) have maximums; the model a file names is built only once the
file holds as many numbers as the model has weights.

Field types: ``Int(lo, hi)``, ``Real(lo, hi, above=, below=)`` (finite; open ``above``/``below``),
``Str(*choices)``, ``BOOL``, ``Bits(n)`` (``n`` characters 0 or 1), ``Maybe(t)`` (None or a ``t``),
``List(t, n, length=f)`` (at most ``n`` items, or exactly ``f(ctx)``), ``Fields(**t)`` (exactly these
keys, checked in order), ``Map(f)`` (the keys and types ``f(ctx, value)`` gives), ``Is(v)`` (equal to
``v`` or ``v(ctx)`` as JSON), ``Array(shape, dtype, lo, hi)``. ``ctx`` holds what a file must agree
with (``ctx["given"]``) and every field checked so far by its dotted path (``ctx["config.lr"]``)."""

from __future__ import annotations

import json
import math
import re

import numpy as np

from ..checks import ORDER_LIMIT
from ..nn.models import build_model, weight_count

__all__ = ["MAX_JSON_BYTES", "MAX_CONTAINERS", "MAX_DEPTH", "MAX_EPOCHS", "MAX_WIDTH", "BIG", "CHECKPOINT",
           "PACKED_MODEL", "FOLDER", "run_record", "validate", "parse_json", "read_json"]

MAX_JSON_BYTES = 1 << 20  # a checkpoint's metadata: ~3 KB + ~250 bytes per epoch of history;
#                          a runs record: one character per test image and PTQ setting
MAX_CONTAINERS = 20_000   # JSON objects and arrays in one text (a history row is one)
MAX_DEPTH = 16            # JSON nesting (a checkpoint nests five levels)
MAX_EPOCHS = 1000         # epochs of one training run
MAX_WIDTH = 1 << 16       # units of a layer, channels, image sides, classes
BIG = 1e10                # largest magnitude of a number in a model's or optimizer's arrays
BIT_LAYOUT = ("row f of sign(W).reshape(F, D) (D = C*kh*kw, im2col order): entry j in word j // 64, "
              "bit j % 64 (least significant first), set bit = -1, clear = +1 (sign(0) = +1); "
              "little-endian uint64; weight = alpha[f] * sign")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def _fail(ctx, path, why, *value):
    got = "".join(f", got {_show(v)}" for v in value)
    raise ValueError(f"{ctx['where']}: {path or 'the content'} {why}{got}")


def _show(v):
    text = (f"a {v.dtype} array of shape {v.shape}" if isinstance(v, np.ndarray) else repr(v)
            if v is None or isinstance(v, (bool, int, float, str)) else type(v).__name__)
    return text if len(text) <= 60 else text[:57] + "..."


def _test(ok, why):
    """The field type whose values pass ``ok(v)``; ``why`` says what they must be."""
    def check(v, path, ctx):
        if not ok(v):
            _fail(ctx, path, why, v)
        return v
    return check


def Int(lo=0, hi=None):
    return _test(lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                 and lo <= v and (hi is None or v <= hi), f"must be an integer in [{lo}, {hi or 'inf'}]")


def Real(lo=-math.inf, hi=math.inf, *, above=-math.inf, below=math.inf):
    def ok(v):
        try:
            x = float(v) if isinstance(v, (int, float, np.integer, np.floating)) else math.nan
        except OverflowError:  # an int beyond the float range
            return False
        return not isinstance(v, (bool, np.bool_)) and math.isfinite(x) and lo <= x <= hi and (
            above < x < below)
    left, right = f"({above}" if above > -math.inf else f"[{lo}", f"{below})" if below < math.inf else f"{hi}]"
    return _test(ok, f"must be a finite number in {left}, {right}")


def Str(*choices):
    return _test(lambda v: isinstance(v, str) and (not choices or v in choices),
                 f"must be one of {choices}" if choices else "must be a string")


def Bits(n):
    return _test(lambda v: isinstance(v, str) and len(v) == n and not v.strip("01"),
                 f"must be a string of {n} characters 0 or 1")


BOOL = _test(lambda v: isinstance(v, bool), "must be true or false")
Maybe = lambda t: lambda v, path, ctx: None if v is None else t(v, path, ctx)  # noqa: E731 (None or t)


def List(item, n=MAX_EPOCHS, *, length=None):
    def check(v, path, ctx):
        want = None if length is None else length(ctx)
        if not isinstance(v, list) or len(v) > n or want not in (None, len(v)):
            _fail(ctx, path, f"must be a list of {f'at most {n}' if want is None else want} items", v)
        out = []
        for i, x in enumerate(v):
            ctx["#"] = i
            out.append(item(x, f"{path}[{i}]", ctx))
        return out
    return check


def Map(fields):
    def check(v, path, ctx):
        if not isinstance(v, dict):
            _fail(ctx, path, "must be a dict", v)
        want, at = fields(ctx, v), lambda key: f"{path}.{key}".lstrip(".")
        for key in [k for k in want if k not in v][:1]:
            _fail(ctx, at(key), "is missing")
        for key in [k for k in v if k not in want][:1]:
            _fail(ctx, at(key), "is not a field of this file")
        out = {}
        for key, t in want.items():
            out[key] = ctx[at(key)] = t(v[key], at(key), ctx)
        return out
    check.fields = fields  # what a test may change (a negative control)
    return check


def Fields(**fields):
    return Map(lambda ctx, v: fields)


def Is(want):
    def check(v, path, ctx):
        w = want(ctx) if callable(want) else want
        if json.dumps(v, sort_keys=True, default=repr) != json.dumps(w, sort_keys=True, default=repr):
            _fail(ctx, path, f"must be {_show(w)} here", v)
        return v
    return check


def Array(shape, dtype, lo=-BIG, hi=BIG):
    def check(v, path, ctx):
        if not isinstance(v, np.ndarray) or v.dtype.newbyteorder("=") != dtype or v.shape != shape:
            _fail(ctx, path, f"must be a {np.dtype(dtype).name} array of shape {shape}", v)
        v = v.astype(dtype, copy=False)  # native byte order
        if v.dtype.kind == "f" and not np.all((v >= lo) & (v <= hi)):  # NaN fails both
            _fail(ctx, path, f"must hold finite numbers in [{lo:g}, {hi:g}]", "other values")
        return v
    return check


def parse_json(raw, where):
    """The JSON value of the bytes ``raw``, refused (``ValueError`` naming ``where``) before it is
    parsed if it is longer than :data:`MAX_JSON_BYTES`, opens more than :data:`MAX_CONTAINERS`
    objects and arrays or nests deeper than :data:`MAX_DEPTH`: at most a few megabytes of memory."""
    if len(raw) > MAX_JSON_BYTES:
        raise ValueError(f"{where}: {len(raw):,} bytes of JSON, more than {MAX_JSON_BYTES:,}")
    codes = np.frombuffer(_STRING.sub(b'""', raw), dtype=np.uint8)  # strings open nothing
    opens, closes = np.isin(codes, (91, 123)), np.isin(codes, (93, 125))  # [ { and ] }
    if opens.sum() > MAX_CONTAINERS:
        raise ValueError(f"{where}: more than {MAX_CONTAINERS:,} JSON objects and arrays")
    if np.cumsum(opens.view(np.int8) - closes.view(np.int8), dtype=np.int32).max(initial=0) > MAX_DEPTH:
        raise ValueError(f"{where}: JSON nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{where}: unreadable JSON ({exc})") from None


def read_json(path):
    """The JSON value of the file ``path`` (:func:`parse_json`)."""
    with open(path, "rb") as fh:
        return parse_json(fh.read(MAX_JSON_BYTES + 1), path)


def validate(schema, value, where, ctx=None):
    """``value`` checked against ``schema`` (arrays made native-endian); ``ValueError`` naming
    ``where`` and the first field that is wrong. ``ctx`` (a dict) holds what the file must agree
    with (``ctx["given"]``); afterwards it also holds the model the file describes (``"net"``)."""
    ctx = {} if ctx is None else ctx
    ctx.update(where=where, numbers=_numbers(value))
    return schema(value, "", ctx)


def _numbers(v):
    """How many numbers the arrays in ``v`` hold (a uint64 word of packed signs holds 64)."""
    if isinstance(v, (dict, list)):
        return sum(map(_numbers, v.values() if isinstance(v, dict) else v))
    return v.size * (64 if v.dtype == np.uint64 else 1) if isinstance(v, np.ndarray) else 0


def _net(ctx, at):
    """The model ``ctx[at]`` (a model_config) describes, built once the file holds enough numbers."""
    if "net" not in ctx:
        c = dict(ctx[at], **ctx.get("given", {}).get("override", {}))
        need = weight_count(c["arch"], tuple(c["input_shape"]), c["num_classes"], c["hidden"],
                            c["channels"])
        if need > ctx["numbers"]:
            _fail(ctx, at, f"describes {need:,} weights but the file holds only {ctx['numbers']:,} "
                           f"numbers")
        try:
            ctx["net"] = build_model(**c)
        except (ValueError, TypeError) as exc:
            _fail(ctx, at, f"is not a model horq_ref builds ({exc})")
    return ctx["net"]


def _state(at, skip_binarized=False):
    """The model's state dict: every array's shape and dtype, latent binary weights in [-1, 1]."""
    def fields(ctx, v):
        net = _net(ctx, at)
        return {k: Array(a.shape, net.dtype, *((-1, 1) if k in net.binarized else
                                               (0, BIG) if k.endswith("running_var") else ()))
                for k, a in net.state_dict().items() if not (skip_binarized and k in net.binarized)}
    return fields


def _optimizer(ctx, v):
    """The optimizer the run's ``config.optimizer`` names; a moment per parameter once it moved."""
    net, adam = _net(ctx, "model_config"), ctx["config.optimizer"] == "adam"
    unit = Real(0, below=1)
    hyper = dict(beta1=unit, beta2=unit, eps=Real(above=0, hi=1)) if adam else dict(momentum=unit,
                                                                                       nesterov=BOOL)
    moved = v.get("t") != 0 and (adam or v.get("momentum") != 0)
    steps = ctx["epoch"] * -(-ctx["config.n_train"] // ctx["config.batch_size"])  # (one per batch)
    return {"lr": Real(above=0), "t": Is(steps), "weight_decay": Is(ctx["config.weight_decay"]), **hyper,
            **{f"{b}.{k}": Array(p.shape, net.dtype, *((0, BIG) if b == "v" else ()))
               for b in (("m", "v") if adam else ("velocity",)) if moved for k, p in net.params.items()}}


def _binarized(ctx):
    """``{name: shape}`` of the binarized weights of the model a packed file's header describes."""
    net = _net(ctx, "header.model_config")
    return {k: a.shape for k, a in net.params.items() if k in net.binarized}


def _packed(ctx, v):
    """Each binarized weight (F, ...) as F rows of ceil(D / 64) words and F scales in (0, 1]."""
    dtype = ctx["net"].dtype
    return {k: Fields(bits=Array((s[0], -(-math.prod(s[1:]) // 64)), np.uint64),
                      alpha=Array((s[0],), dtype, np.finfo(dtype).tiny, 1.0))
            for k, s in _binarized(ctx).items()}


_width = lambda v: type(v) is int and 1 <= v <= MAX_WIDTH  # noqa: E731
WIDTHS = Maybe(_test(lambda v: _width(v) or (isinstance(v, list) and 0 < len(v) <= 8 and all(
    map(_width, v))), f"must be a width in [1, {MAX_WIDTH}] or a list of 1 to 8 of them"))
MODEL_CONFIG = Fields(
    arch=Str("mlp", "cnn", "mlp3", "cnn3"), method=Str("float", "horq1", "horq2", "horq3", "horq"),
    order=Maybe(Int(1, ORDER_LIMIT)), seed=Int(0, 2**64 - 1), ste=Str("chain", "identity"),
    backend=Str("float", "bits", "bits-fast"), hidden_relu=BOOL,
    input_shape=List(Int(1, MAX_WIDTH), length=lambda ctx: 3), num_classes=Int(2, MAX_WIDTH),
    dtype=Str("float32", "float64"), hidden=WIDTHS, channels=WIDTHS, scales=Str("greedy", "refit"))
U128, UNIT, MEASURED = Int(0, 2**128 - 1), Real(0, 1), Real(0, 1e9)  # losses, seconds, images/s
RATE = lambda v, path, ctx: Real(above=0, hi=ctx.get("config.lr") or ctx["settings"]["lr"])(  # noqa: E731
    v, path, ctx)  # a rate of the run: at most its peak learning rate
HISTORY_ROW = Fields(epoch=Is(lambda ctx: ctx["#"] + 1), lr=RATE, train_loss=MEASURED,
                     train_acc=UNIT, test_loss=MEASURED, test_acc=UNIT, seconds=MEASURED,
                     train_seconds=MEASURED, images_per_s=MEASURED)
CHECKPOINT = Fields(
    model_config=MODEL_CONFIG,
    config=Fields(dataset=Str(), data=Str(), n_train=Int(1), n_test=Int(1), batch_size=Int(1),
                  optimizer=Str("adam", "sgd"), lr=Real(above=0),
                  schedule=Str("cosine", "constant", "step"), seed=Int(0, 2**64 - 1),
                  weight_decay=Real(0), epochs=Int(1, MAX_EPOCHS)),
    epoch=Int(0, MAX_EPOCHS), history=List(HISTORY_ROW, length=lambda ctx: ctx["epoch"]),
    model=Map(_state("model_config")), optimizer=Map(_optimizer),
    rng=Fields(bit_generator=Str("PCG64"), state=Fields(state=U128, inc=U128),
               has_uint32=Int(0, 1), uinteger=Int(0, 2**32 - 1)),
    lr_plan=Fields(start=Int(0, MAX_EPOCHS), offset=Int(0, 1), span=Int(1, MAX_EPOCHS), peak=RATE))
PACKED_MODEL = Fields(
    header=Fields(model_config=MODEL_CONFIG,
                  packed_shapes=Map(lambda ctx, v: {k: Is(list(s)) for k, s in _binarized(ctx).items()}),
                  bit_layout=Is(BIT_LAYOUT)),
    binary=Map(_packed), float=Map(_state("header.model_config", skip_binarized=True)))
JSON_DICT = Map(lambda ctx, v: dict.fromkeys(v, lambda v, path, ctx: v))  # (parse_json bounds it)
FOLDER = Fields(command=Str("train", "reproduce"), settings=JSON_DICT, data=JSON_DICT)


def run_record(given):
    """The schema of a runs record that must agree with ``given``: its name (``model``, ``method``,
    ``order``, ``seed``) and the run's ``settings``, ``data`` and ``n_test``; ``given["ptq"]`` is
    ``{scales: (orders, images)}`` of a float run's post-training sweep, None for another run."""
    fields = {k: Is(given[k]) for k in ("model", "method", "order", "seed")}
    fields.update(settings=Is(given["settings"]), data=Is(given["data"]), correct=Bits(given["n_test"]),
                  test_acc=Is(lambda ctx: ctx["correct"].count("1") / given["n_test"]),
                  history=List(HISTORY_ROW, length=lambda ctx: given["settings"]["epochs"]),
                  train_seconds=MEASURED, images_per_s=MEASURED)
    if given["ptq"] is not None:
        sweep = given["ptq"].items()
        fields["ptq"] = Fields(**{sc: Fields(**{str(K): UNIT for K in Ks}) for sc, (Ks, n) in sweep})
        fields["ptq_correct"] = Fields(**{sc: Fields(**{str(K): Bits(n) for K in Ks})
                                          for sc, (Ks, n) in sweep})
    return Fields(**fields)
