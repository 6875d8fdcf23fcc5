"""ctypes binding of include/dsv4/Runtime/dsv4_runtime.h.

The library is found through $DSV4_RUNTIME_LIB, else in the repository's
build trees (build/lib, build-rt/lib), else on the loader's search path.
Every failing call raises Dsv4Error with the shim's own message.
"""
import ctypes
import os
from pathlib import Path

from . import _abi, arguments
from .library import COMPRESS_MODE, SGLANG_MODES

__all__ = ["Dsv4Error", "Kernel", "compress_norm_rope_hadamard_inplace",
           "compress_norm_rope_quantize_store", "compress_quantize_store"]

# dsv4_dtype, dsv4_handle_kind and dsv4_layout (dsv4_runtime.h); a layout of None is in place.
_DTYPES = {"f32": 1, "bf16": 2, "f16": 3, "i32": 4, "i64": 5}
_DTYPE_NAMES = {v: k for k, v in _DTYPES.items()}
_HANDLE_KINDS = dict(_abi.HANDLE_KINDS)
_LAYOUTS = {None: 1, "indexer": 2, "main": 3, "indexer_mxfp4": 4}
_LAYOUT_NAMES = {v: k for k, v in _LAYOUTS.items()}
_PLAN_FIELDS = len(_abi.PLAN_FIELDS)


class Dsv4Error(RuntimeError):
    """A dsv4_status other than DSV4_OK; .status is its name."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status


# C types of dsv4_launch_args' fields: a kernel argument's kind (scalars are int64_t so that a
# value past INT32_MAX is reported, not truncated) or a launch fact's type.
_FIELD_TYPES = {"ptr": ctypes.c_void_p, "i32": ctypes.c_int64, "i64": ctypes.c_int64,
                "int32_t": ctypes.c_int32, "int64_t": ctypes.c_int64, "float": ctypes.c_float}


def _fields(kernel_args, call):
    """ctypes fields of a launch struct: the kernel's arguments, then the launch facts every
    call states and `call`'s own ("kv" or "compress"), as dsv4_runtime.h lays them out."""
    return ([(name, _FIELD_TYPES[kind]) for name, kind in kernel_args]
            + [(name, _FIELD_TYPES[ctype]) for ctype, name, calls in _abi.LAUNCH_FACTS
               if calls in ("all", call)])


class _LaunchArgs(ctypes.Structure):
    # dsv4_launch_args; test/Runtime/python.test holds it against the C struct.
    _fields_ = _fields(_abi.KERNEL_ARGS + _abi.STORE_KERNEL_ARGS, "kv")


class _CompressLaunchArgs(ctypes.Structure):
    # dsv4_compress_launch_args; test/Runtime/python-compress.test holds it against the C struct.
    _fields_ = _fields(_abi.COMPRESS_KERNEL_ARGS, "compress")


_lib = None


def _candidates():
    env = os.environ.get("DSV4_RUNTIME_LIB")
    if env:
        return [env]
    root = Path(__file__).resolve().parents[2]
    names = [root / d / "lib" / "libdsv4_runtime.so" for d in ("build", "build-rt")]
    names.append(Path(__file__).resolve().parent / "libdsv4_runtime.so")
    return [str(p) for p in names if p.exists()] + ["libdsv4_runtime.so"]


def _library():
    global _lib
    if _lib is not None:
        return _lib
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise Dsv4Error("DSV4_ERR_RUNTIME_UNAVAILABLE",
                        "cannot load libdsv4_runtime.so (set DSV4_RUNTIME_LIB): "
                        + "; ".join(errors))
    mod_p, c_char_p = ctypes.c_void_p, ctypes.c_char_p
    sigs = {
        "dsv4_module_load_file": (ctypes.c_int, [c_char_p, ctypes.POINTER(mod_p)]),
        "dsv4_module_load_data": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_size_t,
                                                 ctypes.POINTER(mod_p)]),
        "dsv4_module_unload": (None, [mod_p]),
        "dsv4_launch": (ctypes.c_int, [mod_p, ctypes.POINTER(_LaunchArgs), ctypes.c_void_p]),
        "dsv4_launch_compress": (ctypes.c_int, [mod_p, ctypes.POINTER(_CompressLaunchArgs),
                                                ctypes.c_void_p]),
        "dsv4_last_error": (c_char_p, []),
        "dsv4_status_name": (c_char_p, [ctypes.c_int]),
    }
    for name in ("kernel_name", _abi.TARGET, _abi.CHIP, _abi.MODE):
        sigs[f"dsv4_module_{name}"] = (c_char_p, [mod_p])
    for name in ("handle_kind", _abi.ROTATE, _abi.KV_DTYPE, _abi.WEIGHT_DTYPE, _abi.LAYOUT,
                 _abi.OVERLAP, _abi.OUT_LOC_DTYPE):
        sigs[f"dsv4_module_{name}"] = (ctypes.c_int32, [mod_p])
    for name in (_abi.HEAD_DIM, _abi.ROPE_DIM, _abi.WORKGROUP_SIZE, _abi.ROWS_PER_WORKGROUP,
                 _abi.PAGE_SIZE, _abi.RATIO, _abi.STATE_BLOCK_SIZE):
        sigs[f"dsv4_module_{name}"] = (ctypes.c_int64, [mod_p])
    for name in (_abi.EPS, _abi.SCALE):
        sigs[f"dsv4_module_{name}"] = (ctypes.c_float, [mod_p])
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    _lib = lib
    return lib


def _check(status):
    if status != 0:
        lib = _library()
        raise Dsv4Error(lib.dsv4_status_name(status).decode(),
                        lib.dsv4_last_error().decode(errors="replace"))


_INT64 = (-(1 << 63), (1 << 63) - 1)
_POINTER = (0, (1 << 64) - 1)
_FIELD_BOUNDS = {ctypes.c_void_p: _POINTER, ctypes.c_int64: _INT64}


def _packed(struct, values):
    """`values` (one per field) as a `struct`, every pointer and int64 field range-checked
    first: ctypes would wrap an out-of-range integer silently."""
    for name, ctype in struct._fields_:
        if ctype in _FIELD_BOUNDS:
            _checked_int(name, values[name], _FIELD_BOUNDS[ctype])
    return struct(**values)


def _checked_int(name, value, bounds):
    """`value` as an exact integer within `bounds`: ctypes would wrap it silently
    (num_items = 2**64 + 3 launching 3 items, a negative pointer accepted)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Dsv4Error("DSV4_ERR_INVALID_ARGUMENT",
                        f"{name} must be an integer, got {type(value).__name__}")
    if not bounds[0] <= value <= bounds[1]:
        raise Dsv4Error("DSV4_ERR_INVALID_ARGUMENT",
                        f"{name} = {value} is outside [{bounds[0]}, {bounds[1]}]")
    return value


def _checked_bool(name, value):
    """`value` as a C flag; a truthy 2 or "no" is a caller's mistake, not a rotation."""
    if not isinstance(value, bool):
        raise Dsv4Error("DSV4_ERR_INVALID_ARGUMENT",
                        f"{name} must be True or False, got {value!r}")
    return int(value)


def _c_string(name, value):
    """Bytes for a char* argument; C would stop at an embedded NUL and silently use a
    prefix (Kernel(path + "\\0junk") loading path)."""
    encoded = os.fsencode(value) if not isinstance(value, bytes) else value
    if b"\0" in encoded:
        raise Dsv4Error("DSV4_ERR_INVALID_ARGUMENT", f"{name} contains a NUL byte")
    return encoded


class Kernel:
    """One loaded dsv4 code object (.hsaco or .ptx); the shim reads the manifest embedded in
    it, checks it against its digest and the object, and answers the getters from it.

    `path` is the file it was loaded from (None from memory). `config` (a dsv4.Config, set by
    dsv4.get_kernel) is the configuration the framework calls on it state to the shim, which
    refuses a call unless the code object is that kernel. A Kernel owns its module: it cannot
    be copied (share the object itself)."""

    def __init__(self, binary_path, config=None):
        lib = _library()
        self._mod = ctypes.c_void_p()
        self.path, self.config = binary_path, config
        _check(lib.dsv4_module_load_file(_c_string("binary_path", binary_path),
                                         ctypes.byref(self._mod)))

    @classmethod
    def from_data(cls, image, config=None):
        """Loads from bytes (the code object, its manifest inside)."""
        self = cls.__new__(cls)
        lib = _library()
        self._mod = ctypes.c_void_p()
        self.path, self.config = None, config
        buf = ctypes.create_string_buffer(bytes(image), len(image))
        _check(lib.dsv4_module_load_data(buf, len(image), ctypes.byref(self._mod)))
        return self

    def _not_copyable(self, *_):
        # A copy would share the module handle: closing either frees the other's module.
        raise TypeError("a dsv4.Kernel owns its loaded module and cannot be copied; share the "
                        "object itself")

    __copy__ = __deepcopy__ = __reduce_ex__ = _not_copyable

    def close(self):
        if getattr(self, "_mod", None) and self._mod.value:
            _library().dsv4_module_unload(self._mod)
            self._mod = ctypes.c_void_p()

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _module(self):
        """The live module handle; a closed kernel has none (the C getters would return
        empty values instead of failing)."""
        if not getattr(self, "_mod", None) or not self._mod.value:
            raise Dsv4Error("DSV4_ERR_INVALID_ARGUMENT", "the kernel is closed")
        return self._mod

    def _get(self, name):
        value = getattr(_library(), f"dsv4_module_{name}")(self._module())
        return value.decode() if isinstance(value, bytes) else value

    name = property(lambda self: self._get("kernel_name"))
    target = property(lambda self: self._get(_abi.TARGET))
    chip = property(lambda self: self._get(_abi.CHIP))
    mode = property(lambda self: self._get(_abi.MODE))
    rotate = property(lambda self: bool(self._get(_abi.ROTATE)))
    head_dim = property(lambda self: self._get(_abi.HEAD_DIM))
    rope_dim = property(lambda self: self._get(_abi.ROPE_DIM))
    workgroup_size = property(lambda self: self._get(_abi.WORKGROUP_SIZE))
    rows_per_workgroup = property(lambda self: self._get(_abi.ROWS_PER_WORKGROUP))
    page_size = property(lambda self: self._get(_abi.PAGE_SIZE))  # 0 unless a store kernel
    eps = property(lambda self: self._get(_abi.EPS))
    ratio = property(lambda self: self._get(_abi.RATIO))
    scale = property(lambda self: self._get(_abi.SCALE))  # the manifest's, used when it rotates
    layout = property(lambda self: _LAYOUT_NAMES.get(self._get(_abi.LAYOUT)))  # None: in place
    kv_dtype = property(lambda self: _DTYPE_NAMES.get(self._get(_abi.KV_DTYPE)))
    weight_dtype = property(lambda self: _DTYPE_NAMES.get(self._get(_abi.WEIGHT_DTYPE)))
    # A store kernel's out_loc slots, "i64" or "i32"; None in place.
    out_loc_dtype = property(lambda self: _DTYPE_NAMES.get(self._get(_abi.OUT_LOC_DTYPE)))
    # A compress kernel's (mode "compress"); False and 0 for any other kernel.
    overlap = property(lambda self: bool(self._get(_abi.OVERLAP)))
    state_block_size = property(lambda self: self._get(_abi.STATE_BLOCK_SIZE))

    def launch(self, *, kv, kv_dtype, num_rows, kv_row_stride, weight, weight_dtype,
               eps, freqs, num_positions, freqs_row_stride, handle, num_items,
               head_dim, ratio, rotate, scale=None, layout=None, weight_len=None,
               freqs_width=None, handle_kind=None, plan_row_stride=_PLAN_FIELDS, out_loc=0,
               out_loc_dtype=None, cache=0, cache_bytes=0, page_size=0, stream=0):
        """One launch with plain integer device pointers and element strides.
        ratio, rotate, scale (None: the layer does not rotate) and layout (None: in
        place, else "indexer"/"main") state the configuration the caller relies on;
        the shim refuses the launch unless they are the kernel's. weight_len
        defaults to head_dim, freqs_width to the kernel's rope dim, handle_kind
        (a mode: "decode", "prefill", "sglang_decode", ...) to the kernel's mode. A
        store kernel also takes out_loc (one slot per item), its out_loc_dtype
        ("i64" or "i32"), cache (bytes), cache_bytes and the cache's page_size; an
        in-place kernel takes none of them."""
        weight_len = head_dim if weight_len is None else weight_len
        freqs_width = self.rope_dim if freqs_width is None else freqs_width
        _checked_int("stream", stream, _POINTER)
        args = _packed(_LaunchArgs, dict(
            kv=kv, kv_dtype=_DTYPES.get(kv_dtype, 0), num_rows=num_rows,
            kv_row_stride=kv_row_stride, weight=weight,
            weight_dtype=_DTYPES.get(weight_dtype, 0),
            weight_len=weight_len, eps=eps,
            freqs=freqs, num_positions=num_positions,
            freqs_row_stride=freqs_row_stride,
            freqs_width=freqs_width,
            handle=handle, handle_kind=_HANDLE_KINDS.get(handle_kind or self.mode, 0),
            num_items=num_items, plan_row_stride=plan_row_stride, head_dim=head_dim,
            out_loc=out_loc, out_loc_dtype=_DTYPES.get(out_loc_dtype, 0), cache=cache,
            cache_bytes=cache_bytes, page_size=page_size,
            ratio=ratio, rotate=_checked_bool(_abi.ROTATE, rotate),
            scale=float("nan") if scale is None else scale, layout=_LAYOUTS.get(layout, 0)))
        _check(_library().dsv4_launch(self._module(), ctypes.byref(args), stream or None))

    def launch_compress(self, *, state, state_dtype, num_blocks, state_block_stride,
                        state_row_stride, state_block_size, state_width, block_table,
                        num_requests, max_blocks, block_table_row_stride, token_req, positions,
                        num_items, weight, weight_dtype, eps, freqs, num_positions,
                        freqs_row_stride, out_loc, cache, cache_bytes, head_dim, ratio, rotate,
                        overlap, layout, page_size, scale=None, weight_len=None,
                        freqs_width=None, stream=0):
        """One launch of a compress kernel (dsv4_launch_compress) with plain integer device
        pointers and element strides: the state cache [num_blocks, state_block_size,
        state_width] with its block and row strides, the block table [num_requests,
        max_blocks], token_req (i32), positions and out_loc (i64) per item, weight, freqs and
        the cache as for launch. head_dim, ratio, rotate, scale (None: the layer does not
        rotate), overlap, layout and page_size state the configuration the caller relies on;
        the shim refuses the launch unless they are the kernel's, and refuses any kernel but a
        compress kernel. weight_len defaults to head_dim, freqs_width to the kernel's rope
        dim."""
        weight_len = head_dim if weight_len is None else weight_len
        freqs_width = self.rope_dim if freqs_width is None else freqs_width
        _checked_int("stream", stream, _POINTER)
        args = _packed(_CompressLaunchArgs, dict(
            state=state, block_table=block_table, token_req=token_req, positions=positions,
            weight=weight, freqs=freqs, out_loc=out_loc, cache=cache, num_items=num_items,
            num_blocks=num_blocks, state_block_stride=state_block_stride,
            state_row_stride=state_row_stride, num_requests=num_requests,
            max_blocks=max_blocks, block_table_row_stride=block_table_row_stride,
            num_positions=num_positions, freqs_row_stride=freqs_row_stride,
            cache_bytes=cache_bytes, state_dtype=_DTYPES.get(state_dtype, 0),
            weight_dtype=_DTYPES.get(weight_dtype, 0), handle_kind=_HANDLE_KINDS[COMPRESS_MODE],
            eps=eps, weight_len=weight_len, freqs_width=freqs_width, head_dim=head_dim,
            page_size=page_size, ratio=ratio, rotate=_checked_bool(_abi.ROTATE, rotate),
            scale=float("nan") if scale is None else scale, layout=_LAYOUTS.get(layout, 0),
            overlap=_checked_bool(_abi.OVERLAP, overlap), state_block_size=state_block_size,
            state_width=state_width))
        _check(_library().dsv4_launch_compress(self._module(), ctypes.byref(args),
                                               stream or None))


def _row_stride(t, row_len, dim=0):
    # A dimension of size 1 may report any stride; the kernel never uses it.
    return t.stride(dim) if t.shape[dim] > 1 else row_len


def _call_configuration(kernel, config):
    """The configuration a call states: `config` (a dsv4.Config), else the one dsv4.get_kernel
    loaded `kernel` for."""
    config = config if config is not None else kernel.config
    if config is None:
        raise Dsv4Error("DSV4_ERR_INVALID_ARGUMENT",
                        f"kernel '{kernel.name}' has no configuration to check the call "
                        f"against: load it with dsv4.get_kernel or give it config=dsv4.Config(...)")
    return config


def _configuration_args(config):
    """Kernel.launch's ratio, rotate, scale and layout: those of `config`."""
    return dict(ratio=config.ratio, rotate=config.rotate,
                scale=config.effective_scale if config.rotate else None, layout=config.layout)


def _plan_mode(config):
    """The mode a call's plan is read in when the configuration names one of sglang's plan
    kinds (its structs viewed as int32 [M, 4]); None: decode or prefill, by the plan's rank."""
    return config.mode if config.mode in SGLANG_MODES else None


def _freqs_args(freqs):
    """Kernel.launch's freqs arguments for the float32 [P, R] view."""
    return dict(freqs=freqs.data_ptr(), num_positions=freqs.shape[0],
                freqs_row_stride=_row_stride(freqs, freqs.shape[1]), freqs_width=freqs.shape[1])


def _stream_on_one_device(torch, stream, first, *others):
    """The stream a launch goes on (the device's current one unless given), after checking that
    every tensor is on the GPU device of `first`."""
    devices = {t.device for t in (first, *others)}
    if len(devices) != 1 or first.device.type != "cuda":
        raise Dsv4Error("DSV4_ERR_INVALID_ARGUMENT",
                        f"all tensors must be on one GPU device, got {sorted(map(str, devices))}")
    return torch.cuda.current_stream(first.device).cuda_stream if stream is None else stream


def _epilogue_args(call, kv, weight, plan, eps, stream, *extra):
    """Kernel.launch's tensor arguments for an epilogue call's tensors, `call` what
    arguments.epilogue made of them; `extra` tensors must share their device."""
    import torch  # lazily: the package imports without torch

    stream = _stream_on_one_device(torch, stream, kv, weight, call.freqs, plan, *extra)
    return dict(
        kv=kv.data_ptr(), kv_dtype=call.kv_dtype, num_rows=kv.shape[0],
        kv_row_stride=_row_stride(kv, call.head_dim), weight=weight.data_ptr(),
        weight_dtype=call.weight_dtype, weight_len=weight.shape[0], eps=float(eps),
        **_freqs_args(call.freqs), handle=plan.data_ptr(), handle_kind=call.mode,
        num_items=plan.shape[0],
        plan_row_stride=_row_stride(plan, _PLAN_FIELDS) if plan.dim() == 2 else _PLAN_FIELDS,
        head_dim=call.head_dim, stream=stream)


def compress_norm_rope_hadamard_inplace(kv, weight, freqs_cis, plan, eps, *, kernel,
                                        stream=None, config=None):
    """The framework's call: kv [N, D] updated in place (the tensors as arguments.epilogue
    checks them: D is kv's, the handle seq_lens [B] or a plan [M, 4]). The arguments are
    torch.ops.dsv4.compress_norm_rope_hadamard_'s, in its order, up to eps; the rest of the
    configuration (ratio, rotation, scale, layout) is `config`'s (default: kernel.config, set
    by dsv4.get_kernel), and the shim refuses the call unless every fact is the kernel's."""
    config = _call_configuration(kernel, config)
    call = arguments.epilogue(kv, weight, freqs_cis, plan, Dsv4Error, _plan_mode(config))
    kernel.launch(**_epilogue_args(call, kv, weight, plan, eps, stream),
                  **_configuration_args(config))


def compress_norm_rope_quantize_store(kv, weight, freqs_cis, plan, out_loc, cache, eps, *,
                                      kernel, stream=None, config=None):
    """The fused store (SPEC.md "Storing into the paged caches"): each item's finished row,
    quantized in the kernel's layout (FP8, or MXFP4 for indexer_mxfp4), into the paged `cache` (a contiguous uint8 tensor, the framework's
    buffer of pages) at slot out_loc[item] (int64, one per item of plan); kv is only read.
    The arguments are torch.ops.dsv4.compress_norm_rope_quantize_store_'s, in its order, up to
    eps; the rest of the configuration (ratio, rotation, scale, layout and page size) is
    `config`'s (default: kernel.config), as for compress_norm_rope_hadamard_inplace."""
    config = _call_configuration(kernel, config)
    call = arguments.epilogue(kv, weight, freqs_cis, plan, Dsv4Error, _plan_mode(config))
    out_loc_dtype = arguments.store_buffers(out_loc, cache, plan.shape[0], Dsv4Error,
                                            arguments.STORE_SLOTS)
    args = _epilogue_args(call, kv, weight, plan, eps, stream, out_loc, cache)
    kernel.launch(**args, **_configuration_args(config), out_loc=out_loc.data_ptr(),
                  out_loc_dtype=out_loc_dtype, cache=cache.data_ptr(), cache_bytes=cache.numel(),
                  page_size=config.page_size)


def compress_quantize_store(state, block_table, token_req, positions, weight, freqs_cis,
                            out_loc, cache, eps, *, kernel, stream=None, config=None):
    """The compress kernel (SPEC.md "The compress step in front"): for each token t (one item
    per entry of token_req), at a window's last position, the window's state rows gathered
    through the block table and softmax-pooled, then normed, roped, rotated where the
    configuration rotates, quantized and stored into the paged `cache` at out_loc[t]; the
    state is only read. state is the paged state cache [num_blocks, block_size, 2W] (f32,
    kv then score per row; any block and row strides, a contiguous last dim), block_table
    int32 [num_requests, max_blocks] (a contiguous last dim), token_req int32 [T] and
    positions int64 [>= T] contiguous; weight, freqs_cis, out_loc and cache as for
    compress_norm_rope_quantize_store. The arguments are
    torch.ops.dsv4.compress_quantize_store_'s, in its order, up to eps; the rest of the
    configuration (D, ratio, rotation, scale, overlap, layout and page size) is `config`'s
    (default: kernel.config), and the shim refuses the call unless every fact (the state's
    dtype, block size and width 2W among them) is the kernel's."""
    import torch

    config = _call_configuration(kernel, config)
    call = arguments.compress(state, block_table, token_req, positions, weight, freqs_cis,
                              out_loc, cache, config.head_dim, Dsv4Error)
    stream = _stream_on_one_device(torch, stream, state, block_table, token_req, positions,
                                   weight, call.freqs, out_loc, cache)
    num_blocks, block_size, width = state.shape
    row_stride = _row_stride(state, width, dim=1)
    kernel.launch_compress(
        state=state.data_ptr(), state_dtype=call.state_dtype,
        num_blocks=num_blocks, state_block_stride=_row_stride(state, block_size * row_stride),
        state_row_stride=row_stride, state_block_size=block_size, state_width=width,
        block_table=block_table.data_ptr(), num_requests=block_table.shape[0],
        max_blocks=block_table.shape[1],
        block_table_row_stride=_row_stride(block_table, block_table.shape[1]),
        token_req=token_req.data_ptr(), positions=positions.data_ptr(), num_items=call.items,
        weight=weight.data_ptr(), weight_dtype=call.weight_dtype, weight_len=weight.shape[0],
        eps=float(eps), **_freqs_args(call.freqs),
        out_loc=out_loc.data_ptr(), cache=cache.data_ptr(), cache_bytes=cache.numel(),
        head_dim=config.head_dim, overlap=config.overlap, page_size=config.page_size,
        **_configuration_args(config), stream=stream)
