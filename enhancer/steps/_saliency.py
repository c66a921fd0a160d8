"""The learned saliency matte: U^2-Net-p run through ONNX Runtime, on the CPU.

The network (Qin et al., 2020; Apache-2.0, see enhancer/models/NOTICE) ships
inside the package; nothing is downloaded. It is read once per process, on
first use, and its checksum is verified before it is parsed, so a truncated
or altered file fails with a message naming it instead of an obscure parser
error or, worse, a silently wrong matte.

ONNX Runtime rather than OpenCV's DNN module (which gives the same map, to
1e-4): a pass at 320 px takes 150-175 ms instead of 450-500 on 2 AMD EPYC
cores, and at 224 px 70 instead of 240, for about the same transient memory
(~200 MB at 320 px).
"""
from __future__ import annotations

import hashlib
import threading
from importlib import resources

import cv2
import numpy as np

from ..errors import ModelError

MODEL_FILE = "u2netp.onnx"
MODEL_SHA256 = "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"
NET_SIDE = 320  # the resolution the network was trained at (and needs where it alone decides)
# d0, the fused map (the graph's first output); the others are the coarser side outputs
_OUTPUT = "1959"
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # ImageNet statistics the network expects
_STD = np.array([0.229, 0.224, 0.225], np.float32)

_lock = threading.Lock()
_net = None


def model_path():
    """Where the packaged weights live (a Traversable; a real file in a normal install)."""
    return resources.files("enhancer.models") / MODEL_FILE


def _load(path=None):
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
    import onnxruntime as ort  # noqa: PLC0415

    try:
        return ort.InferenceSession(_any_size(onnx.load_from_string(blob)).SerializeToString(), _options(),
                                    providers=["CPUExecutionProvider"])
    except Exception as e:  # onnx's DecodeError, ONNX Runtime's own errors: all mean the same to the user
        raise ModelError(f"ONNX Runtime could not read the background model {where}: {e}") from e


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


def _options():
    import onnxruntime as ort  # noqa: PLC0415

    opts = ort.SessionOptions()
    # as many threads as OpenCV is given: all cores in the app, one in a pool process (the processes are the
    # parallelism); idle threads sleep instead of spinning through the full-resolution steps that follow
    opts.intra_op_num_threads = max(1, cv2.getNumThreads())
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # no arena: the ~200 MB of layer buffers a pass at 320 px needs go back to the C heap after it, for the
    # full-resolution steps to reuse, instead of staying reserved for the network. (The heap keeps them,
    # bounded: enhancer/_alloc.py. Handing them back to the kernel after each pass cost ~100 ms a photo
    # in page faults, to peak at 396 instead of 450 MiB in a process running every mode.)
    opts.enable_cpu_mem_arena = False
    opts.enable_mem_pattern = False
    # all graph rewrites but the blocked (NCHWc) layouts: those run a pass at 320 px ~10 % faster but hold
    # ~90 MB more at its peak (~290 MB instead of ~200 over the process's own)
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.log_severity_level = 3  # errors only: no per-session warnings in the app's log
    return opts


def _get_net():
    global _net
    if _net is None:
        _net = _load()
    return _net


def saliency(rgb: np.ndarray, *, side: int = NET_SIDE) -> np.ndarray:
    """Per-pixel probability of "salient object", (side, side) float32 in [0, 1].

    ``rgb`` is any size (it is squeezed to the network's square input, as the
    network was trained); resize the result back to the caller's grid. The
    network is fully convolutional: a smaller ``side`` (a multiple of 32)
    costs proportionally less time and memory for a coarser map.
    Thread-safe (one network per process, calls serialised).

    Raises
    ------
    ModelError
        If the packaged model file is missing or corrupt.
    """
    x = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    x *= 1.0 / max(1.0, float(x.max()))  # the network was trained on images scaled by their maximum
    x -= _MEAN
    x /= _STD
    blob = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
    with _lock:
        net = _get_net()
        out = net.run([_OUTPUT], {net.get_inputs()[0].name: blob})[0][0, 0]
    return np.clip(out, 0.0, 1.0)
