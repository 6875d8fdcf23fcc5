"""A tiny stand-in for torch: just the tensor metadata that
dsv4.compress_norm_rope_hadamard_inplace and compress_norm_rope_quantize_store read
(shape, strides, dtype, device, data_ptr, numel, contiguity, a dtype view), so its argument
mapping is testable without torch or a GPU; the views narrow and as_strided, which
dsv4.frameworks.vllm takes of a framework's tensors.
For dsv4.torch_ops also torch.library.custom_op (the op is the decorated function itself, as
torch.ops.<namespace>.<name>, its register_fake implementation kept as `.fake`: no schema, no
dispatch) and the device queries of dsv4.library (one AMD GPU, $DSV4_FAKE_TORCH_ARCH, default
gfx942)."""
import contextlib
import os
import types
float32, bfloat16, float16, int32, complex64 = "float32", "bfloat16", "float16", "int32", "complex64"
int64, uint8, int8 = "int64", "uint8", "int8"
# Bytes an element, for the views that move data_ptr (narrow) or rescale a dim (view).
_ITEMSIZE = {float32: 4, bfloat16: 2, float16: 2, int32: 4, complex64: 8, int64: 8, uint8: 1,
             int8: 1, "float64": 8}


class device:
    def __init__(self, type, index=None):
        self.type = type.type if isinstance(type, device) else type
        self.index = type.index if isinstance(type, device) else index

    def __eq__(self, other):
        return self.type == other.type

    def __hash__(self):
        return hash(self.type)

    def __str__(self):
        return self.type


class Tensor:
    def __init__(self, shape, dtype, ptr, strides=None, dev="cuda"):
        self.shape = tuple(shape)
        self.dtype = dtype
        self._ptr = ptr
        if strides is None:
            strides, acc = [], 1
            for n in reversed(self.shape):
                strides.insert(0, acc)
                acc *= n
        self._strides = tuple(strides)
        self.device = device(dev)

    def dim(self):
        return len(self.shape)

    def numel(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def is_contiguous(self):
        return self._strides == Tensor(self.shape, self.dtype, 0)._strides

    def stride(self, i=None):
        return self._strides if i is None else self._strides[i]

    def data_ptr(self):
        return self._ptr

    def is_complex(self):
        return self.dtype == complex64

    def view(self, dtype):
        """The same bytes as another dtype (a contiguous last dim rescales, as torch's view)."""
        old, new = _ITEMSIZE[self.dtype], _ITEMSIZE[dtype]
        assert self._strides[-1] == 1 and (self.shape[-1] * old) % new == 0
        return Tensor(self.shape[:-1] + (self.shape[-1] * old // new,), dtype, self._ptr,
                      tuple(s * old // new for s in self._strides[:-1]) + (1,), self.device.type)

    def narrow(self, dim, start, length):
        assert 0 <= start and start + length <= self.shape[dim]
        shape = self.shape[:dim] + (length,) + self.shape[dim + 1:]
        ptr = self._ptr + start * self._strides[dim] * _ITEMSIZE[self.dtype]
        return Tensor(shape, self.dtype, ptr, self._strides, self.device.type)

    def as_strided(self, size, stride):
        return Tensor(size, self.dtype, self._ptr, stride, self.device.type)

    def flatten(self, start):
        assert start == -2 and self._strides[-1] == 1 and self._strides[-2] == 2
        return Tensor(self.shape[:-2] + (self.shape[-2] * 2,), self.dtype, self._ptr,
                      self._strides[:-2] + (1,), self.device.type)


def view_as_real(t):
    return Tensor(t.shape + (2,), float32, t._ptr,
                  tuple(2 * s for s in t._strides) + (1,), t.device.type)


class _Stream:
    cuda_stream = 0x5157


class cuda:
    @staticmethod
    def current_stream(dev=None):
        return _Stream()

    @staticmethod
    def current_device():
        return 0

    @staticmethod
    def get_device_properties(index):
        return types.SimpleNamespace(
            gcnArchName=os.environ.get("DSV4_FAKE_TORCH_ARCH", "gfx942") + ":sramecc+:xnack-",
            major=9, minor=4)

    @staticmethod
    def device(index):
        return contextlib.nullcontext()


version = types.SimpleNamespace(hip="6.2")
ops = types.SimpleNamespace()


class library:
    @staticmethod
    def custom_op(name, mutates_args, device_types=None):
        namespace, op_name = name.split("::")

        def register(fn):
            def register_fake(fake):
                fn.fake = fake
                return fake
            fn.register_fake = register_fake
            setattr(ops.__dict__.setdefault(namespace, types.SimpleNamespace()), op_name, fn)
            return fn
        return register
