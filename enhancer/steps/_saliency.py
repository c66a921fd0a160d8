"""The learned saliency matte: U^2-Net-p run through ONNX Runtime, on the CPU.

The network (Qin et al., 2020; Apache-2.0, see enhancer/models/NOTICE) ships
inside the package; nothing is downloaded. It is read once per process, on
first use, and its checksum is verified before it is parsed, so a truncated
or altered file fails with a message naming it instead of an obscure parser
error or, worse, a silently wrong matte.

ONNX Runtime rather than OpenCV's DNN module (which gives the same map, to
1e-4): a pass at 320 px takes 150-175 ms instead of 450-500 on 2 AMD EPYC
cores, and at 224 px 70 instead of 240, for about the same transient memory
(~200 MB at 320 px). The scene matte runs it with its heaviest convolutions in
8 bits (:data:`INT8_CONVS`), quantized in memory at load: the file stays the
one that was checksummed. Its layer buffers are laid out in one block per
pass, handed back to the kernel when the pass ends (:func:`_run_laid_out`),
so that a pass at 448 px, twice the pixels of 320, fits a worker's memory.
"""
from __future__ import annotations

import functools
import hashlib
import threading
from importlib import resources

import cv2
import numpy as np

from .._alloc import hand_back
from .._threads import one_blas_thread
from ..errors import ModelError

MODEL_FILE = "u2netp.onnx"
MODEL_SHA256 = "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"
NET_SIDE = 320  # the resolution the network was trained at (and needs where it alone decides)
# d0, the fused map (the graph's first output); the others are the coarser side outputs
_OUTPUT = "1959"
# The three convolutions that take two fifths of a pass run in 8-bit integers: the first two of the last
# decoder stage (128 channels in, at the input's full resolution: 27 % and 5 % of a pass alone) and the first
# of the stage before (6 %). A pass a quarter faster at 320 px, a third at 224; the map differs from the float
# one by 0.0003 on average (benchmarks/saliency_int8.py, 53 photos and shots). The ranges (in, out): the
# largest value of each one's input and of the ReLU after it, measured by that script on shots no
# benchmark uses; their 8-bit grids span [0, that].
# The scene matte runs this network (saliency(quick=True)): three passes on a scene the frame cuts, a
# fourth for a soft outline, the time the 600 ms goal is missed by. The studio matte keeps the float one: it
# meets that goal without, and its rules read the map's faint values (white on white); there the int8 map
# flips three tests' shots, as a map that small a change away flips GrabCut's outcome on a few shots of
# any set.
INT8_CONVS = {
    "Conv_680": (15.52, 5.537),
    "Conv_810": (27.196, 5.437),
    "Conv_812": (5.437, 11.654),
}
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # ImageNet statistics the network expects
_STD = np.array([0.229, 0.224, 0.225], np.float32)

_lock = threading.Lock()
_net = None  # the network as shipped
_quick_net = None  # ... with INT8_CONVS in 8 bits, its buffers laid out (_run_laid_out)


def model_path():
    """Where the packaged weights live (a Traversable; a real file in a normal install)."""
    return resources.files("enhancer.models") / MODEL_FILE


def _load(path=None, *, quick: bool = False):
    one_blas_thread()  # BLAS workers spinning after the backdrop's fit would take a core from every pass
    where = path if path is not None else model_path()
    try:
        blob = where.read_bytes()
    except OSError as e:
        raise ModelError(f"cannot read the background model {where}: {e}; reinstall pixel-lab "
                         "(the file ships with the package)") from e
    digest = hashlib.sha256(blob).hexdigest()
    if digest != MODEL_SHA256:
        raise ModelError(f"the background model {where} is corrupt (sha256 {digest[:12]}..., expected "
                         f"{MODEL_SHA256[:12]}..., {len(blob)} bytes); reinstall pixel-lab or restore the file "
                         "from the repository")
    import onnx  # noqa: PLC0415 (only a process that removes a background pays for these imports)

    try:
        model = _any_size(onnx.load_from_string(blob))
        return _session(_in_int8(model, INT8_CONVS), laid_out=True) if quick else _session(model)
    except Exception as e:  # onnx's DecodeError, ONNX Runtime's own errors: all mean the same to the user
        raise ModelError(f"ONNX Runtime could not read the background model {where}: {e}") from e


def _session(model, *, laid_out: bool = False):
    """An ONNX Runtime session running ``model`` (a graph) on the CPU, with the app's options (``laid_out``:
    see :func:`_options`)."""
    import onnxruntime as ort  # noqa: PLC0415

    return ort.InferenceSession(model.SerializeToString(), _options(laid_out=laid_out),
                                providers=["CPUExecutionProvider"])


def _any_size(model):
    """The exported graph, with its input and outputs' fixed 320 x 320 made free.

    The network is fully convolutional (its upsampling follows the tensors'
    shapes), and OpenCV ran it at any size; ONNX Runtime holds the graph to
    its declared shapes, so the shipped file's are loosened in memory.
    """
    graph = model.graph
    for value in (*graph.input, *graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4:
            dims[2].dim_param, dims[3].dim_param = "height", "width"
    del graph.value_info[:]  # intermediate shapes, inferred again for the size at hand
    return model


def _in_int8(model, convs: dict[str, tuple[float, float]]):
    """A copy of the graph with the named convolutions quantized: 8-bit in and out, per-channel 8-bit weights.

    Each conv's input is quantized over [0, its measured maximum] (ReLU
    outputs, or concatenations of them), its weights per output channel, and
    the ReLU that follows it over [0, that one's maximum]. ONNX Runtime fuses
    the quantize / dequantize pairs around each into one integer convolution
    (QLinearConv). Per-channel weights need opset 13: the graph is moved
    there first.
    """
    from onnx import ModelProto, helper, numpy_helper  # noqa: PLC0415

    model, shipped = ModelProto(), model
    model.CopyFrom(shipped)
    _to_opset13(model)
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    relu_of = {n.input[0]: n for n in graph.node if n.op_type == "Relu"}
    inputs_of = {n.input[0] for n in graph.node if n.name in convs}
    concats = {n.output[0]: n for n in graph.node if n.op_type == "Concat" and n.output[0] in inputs_of}
    after: dict[str, tuple[str, float]] = {}  # a quantized conv's ReLU: its output's name and range
    quantized = set()  # tensors already on the 8-bit grid (a quantized conv's ReLU feeding the next)
    nodes = []
    for node in graph.node:
        if node.name in convs:
            in_hi, out_hi = convs[node.name]
            x, w = node.input[0], node.input[1]
            kernel = numpy_helper.to_array(weights[w]).astype(np.float32)
            scale = np.maximum(np.abs(kernel).reshape(len(kernel), -1).max(1), 1e-12) / 127.0
            graph.initializer.remove(weights[w])
            codes = np.round(kernel / scale[:, None, None, None]).astype(np.int8)
            graph.initializer.extend([
                numpy_helper.from_array(codes, f"{w}_i8"),
                numpy_helper.from_array(scale.astype(np.float32), f"{w}_i8_scale"),
                numpy_helper.from_array(np.zeros(len(kernel), np.int8), f"{w}_i8_zero"),
            ])
            nodes.append(helper.make_node("DequantizeLinear", [f"{w}_i8", f"{w}_i8_scale", f"{w}_i8_zero"],
                                          [f"{w}_dq"], axis=0))
            if x in concats:  # 8-bit parts concatenated: the float concatenation is never made
                nodes.extend(_concat_q8(graph, concats[x], nodes, in_hi, out=f"{x}_dq"))
                node.input[0] = f"{x}_dq"
            elif x not in quantized:
                nodes.extend(_qdq(graph, x, in_hi, out=f"{x}_dq"))
                node.input[0] = f"{x}_dq"
            node.input[1] = f"{w}_dq"
            relu = relu_of[node.output[0]]
            after[relu.name] = relu.output[0], out_hi
            relu.output[0] += "_f"
            nodes.append(node)
        elif node.name in after:
            out, hi = after[node.name]
            nodes.append(node)
            nodes.extend(_qdq(graph, node.output[0], hi, out=out))
            quantized.add(out)
        elif node.output[0] not in concats:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def _to_opset13(model) -> None:
    """The shipped graph (opset 11) moved to opset 13, in place.

    Of its operators only Unsqueeze changed between the two: its axes moved
    from an attribute to an input. (ONNX's version converter does the same
    and holds on to 40 MB of the process's heap.)
    """
    from onnx import numpy_helper  # noqa: PLC0415

    graph = model.graph
    for node in graph.node:
        if node.op_type == "Unsqueeze":
            axes, name = next(a for a in node.attribute if a.name == "axes"), f"{node.output[0]}_axes"
            graph.initializer.append(numpy_helper.from_array(np.array(axes.ints, np.int64), name))
            node.input.append(name)
            node.attribute.remove(axes)
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx"):
            opset.version = 13


def _concat_q8(graph, concat, nodes: list, hi: float, *, out: str) -> list:
    """A quantized conv's input ``concat`` made of its parts each quantized over [0, hi]: the same 8-bit
    tensor as the concatenation quantized (each value on the same grid), without the float concatenation.

    Each part is quantized right after the node that makes it (in ``nodes``, the graph so far), so a part
    made early (the encoder's output the last decoder stage joins) waits in 8 bits, not 32. Returns the
    nodes that follow: the 8-bit concatenation and its dequantization to ``out``.
    """
    from onnx import helper, numpy_helper  # noqa: PLC0415

    name = concat.output[0]
    graph.initializer.extend([numpy_helper.from_array(np.float32(hi / 255.0), f"{name}_scale"),
                              numpy_helper.from_array(np.uint8(0), f"{name}_zero")])
    params = [f"{name}_scale", f"{name}_zero"]
    for part in concat.input:
        made = next(i for i, n in enumerate(nodes) if part in n.output)
        nodes.insert(made + 1, helper.make_node("QuantizeLinear", [part, *params], [f"{part}_q8"]))
    axis = next(a.i for a in concat.attribute if a.name == "axis")
    return [helper.make_node("Concat", [f"{p}_q8" for p in concat.input], [f"{name}_q"], axis=axis),
            helper.make_node("DequantizeLinear", [f"{name}_q", *params], [out])]


def _qdq(graph, name: str, hi: float, *, out: str) -> list:
    """Quantize-dequantize nodes for a non-negative tensor over [0, hi] in uint8: ``out`` is ``name``
    rounded to that grid."""
    from onnx import helper, numpy_helper  # noqa: PLC0415

    graph.initializer.extend([numpy_helper.from_array(np.float32(hi / 255.0), f"{name}_scale"),
                              numpy_helper.from_array(np.uint8(0), f"{name}_zero")])
    params = [f"{name}_scale", f"{name}_zero"]
    return [helper.make_node("QuantizeLinear", [name, *params], [f"{name}_q"]),
            helper.make_node("DequantizeLinear", [f"{name}_q", *params], [out])]


def _options(*, laid_out: bool = False):
    import onnxruntime as ort  # noqa: PLC0415

    opts = ort.SessionOptions()
    # as many threads as OpenCV is given: all cores in the app, one in a pool process (the processes are the
    # parallelism); idle threads sleep instead of spinning through the full-resolution steps that follow
    opts.intra_op_num_threads = max(1, cv2.getNumThreads())
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Where a pass's layer buffers live. By default in the C heap: after the pass they are there for the
    # full-resolution steps to reuse (the heap keeps them, bounded: enhancer/_alloc.py), instead of staying
    # reserved for the network. ``laid_out`` (the quick network: scenes): laid out once per input size in
    # one block (ONNX Runtime's memory pattern) handed back to the kernel after each pass (_run_laid_out).
    # A pass's hundreds of buffers fragment the heap: at 448 px a pass took 284 MB over the process's own
    # from it, 208-218 laid out (105 instead of 169 at 320 px). The price: the block's pages are faulted
    # in afresh each pass, and the heap's that were handed back before it, about 120 ms a scene here
    # (benchmarks/speed.py's photo, 760-790 -> 880-910 ms).
    opts.enable_cpu_mem_arena = laid_out
    opts.enable_mem_pattern = laid_out
    # all graph rewrites but the blocked (NCHWc) layouts: those run a pass at 320 px ~10 % faster but hold
    # ~90 MB more at its peak (~290 MB instead of ~200 over the process's own)
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.log_severity_level = 3  # errors only: no per-session warnings in the app's log
    return opts


def _get_net(quick: bool):
    global _net, _quick_net
    if quick:
        if _quick_net is None:
            _quick_net = _load(quick=True)
        return _quick_net
    if _net is None:
        _net = _load()
    return _net


def _run_laid_out(net, blob: np.ndarray) -> np.ndarray:
    """The map from one pass of a laid-out session, its memory handed back to the kernel when done.

    The heap's free memory goes back first: the pass's block is mapped anew,
    and beside what the heap kept (up to 256 MB, enhancer/_alloc.py) it would
    be on top of it. A process running every mode on 12 MP photos, with
    scenes' finer look, peaked at 450-470 MiB so, 580 without. The map is
    written to an array of the caller's: an output in the arena would keep
    the block from being handed back.
    """
    hand_back()
    out = np.empty((1, 1, *blob.shape[2:]), np.float32)
    bind = net.io_binding()
    bind.bind_cpu_input(net.get_inputs()[0].name, blob)
    bind.bind_output(_OUTPUT, "cpu", 0, np.float32, out.shape, out.ctypes.data)
    net.run_with_iobinding(bind, _shrink_after())
    return out[0, 0]


@functools.cache
def _shrink_after():
    """Run options under which a pass hands its arena's memory back when done."""
    import onnxruntime as ort  # noqa: PLC0415

    run = ort.RunOptions()
    run.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return run


def saliency(rgb: np.ndarray, *, side: int = NET_SIDE, quick: bool = False) -> np.ndarray:
    """Per-pixel probability of "salient object", (side, side) float32 in [0, 1].

    ``rgb`` is any size (it is squeezed to the network's square input, as the
    network was trained); resize the result back to the caller's grid.
    Squeezed, not kept in its aspect: the scene matte's passes at 320 x 256
    and 448 x 352 for a 4:3 photo (a fifth fewer pixels) lost busy 0.907 ->
    0.890 and held-out busy 0.857 -> 0.833 (a lamp before the cat 0.96 ->
    0.00): the network, and the rules read off its maps, know squeezed views. The
    network is fully convolutional: a smaller ``side`` (a multiple of 32)
    costs proportionally less time and memory for a coarser map.
    ``quick``: the network with its heaviest convolutions in 8 bits
    (:data:`INT8_CONVS`), a pass a quarter to a third faster for a map that
    differs by 0.0003 on average. Thread-safe (each network loaded once per
    process, calls serialised).

    Raises
    ------
    ModelError
        If the packaged model file is missing or corrupt.
    """
    blob = _blob(rgb, side)
    with _lock:
        net = _get_net(quick)
        if quick:
            out = _run_laid_out(net, blob)
        else:
            out = net.run([_OUTPUT], {net.get_inputs()[0].name: blob})[0][0, 0]
    return np.clip(out, 0.0, 1.0)


def _blob(rgb: np.ndarray, side: int) -> np.ndarray:
    """The network's input for ``rgb``: (1, 3, side, side) float32, normalised as it was trained."""
    x = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    x *= 1.0 / max(1.0, float(x.max()))  # the network was trained on images scaled by their maximum
    x -= _MEAN
    x /= _STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])
