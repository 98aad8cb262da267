"""The machine side of the native backend: one LLVM JIT for the process, the C symbols lowered code
calls, and the CPython calling convention that makes lowered code an ordinary builtin function.

A builtin is called by the interpreter directly (about 20 ns for two floats, against about 130 ns for a
small Python function and more for a ctypes call), so lowering pays even on one scalar call.
"""
import ctypes
import ctypes.util
import itertools
import sys
import threading

import numpy as np

from ..errors import NativeError

METH_FASTCALL_KEYWORDS = 0x0080 | 0x0002  # (self, PyObject *const *args, nargs, kwnames tuple or NULL)

# The CPython functions lowered code calls, with their LLVM signatures (i8* stands for PyObject* and void*).
PYTHON_API = {
    "PyFloat_AsDouble": ("double", ["i8*"]),
    "PyFloat_FromDouble": ("i8*", ["double"]),
    "PyTuple_New": ("i8*", ["i64"]),
    "PyTuple_SetItem": ("i32", ["i8*", "i64", "i8*"]),
    "PyTuple_Size": ("i64", ["i8*"]),
    "PyTuple_GetItem": ("i8*", ["i8*", "i64"]),
    "PyDict_New": ("i8*", []),
    "PyDict_SetItem": ("i32", ["i8*", "i8*", "i8*"]),
    "PyObject_VectorcallDict": ("i8*", ["i8*", "i8*", "i64", "i8*"]),
    "PyObject_CallNoArgs": ("i8*", ["i8*"]),
    "PyObject_Call": ("i8*", ["i8*", "i8*", "i8*"]),
    "PyObject_CallFunctionObjArgs": ("i8*", ["i8*", "..."]),
    "Py_DecRef": ("void", ["i8*"]),
    "Py_IncRef": ("void", ["i8*"]),
    "PyLong_AsVoidPtr": ("i8*", ["i8*"]),
    "PyLong_FromLongLong": ("i8*", ["i64"]),
}

# C library functions, by the name lowered code calls them, with their number of double arguments.
LIBM = {name: 1 for name in ("exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan", "asin",
                             "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc")}
LIBM.update(pow=2, atan2=2, hypot=2, copysign=2)

# NumPy's own sampler of N(0, 1) from a bit generator: the numbers Generator.standard_normal returns.
STANDARD_NORMAL = "random_standard_normal"


def _address(function):
    return ctypes.cast(function, ctypes.c_void_p).value


def _standard_normal_address():
    """The address of NumPy's random_standard_normal(bitgen_t *), or None where NumPy does not export it."""
    try:
        from numpy.random import _generator
        return _address(getattr(ctypes.CDLL(_generator.__file__), STANDARD_NORMAL))
    except (OSError, AttributeError, ImportError):
        return None


def _type_offset():
    """Where an object's type pointer sits in its header on this build (8 on the usual 64-bit builds)."""
    samples = (1.5, (), "text", np.random.default_rng(0))
    for offset in (ctypes.sizeof(ctypes.c_ssize_t), 2 * ctypes.sizeof(ctypes.c_ssize_t), 24):
        if all(ctypes.c_void_p.from_address(id(o) + offset).value == id(type(o)) for o in samples):
            return offset
    return None


class GeneratorCache(ctypes.Structure):
    """The entry (Machine.generator_entry) of the last numpy Generator a native forward gradient drew
    from. Only lowered code reads and writes it, holding the GIL, and it owns a reference to the entry."""
    _fields_ = [("entry", ctypes.c_void_p)]


class Machine:
    """The JIT engine, the symbols it resolves and the layout facts lowered code relies on."""

    def __init__(self):
        import llvmlite.binding as llvm
        self.llvm = llvm
        if not getattr(sys, "_is_gil_enabled", lambda: True)():
            raise NativeError("native code relies on the GIL, which this Python runs without")
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        self.type_offset = _type_offset()
        if self.type_offset is None:
            raise NativeError("native code needs a CPython build with the usual object header; this one differs")
        target = llvm.Target.from_default_triple()
        self.target_machine = target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                                           features=llvm.get_host_cpu_features().flatten(), opt=3)
        self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), self.target_machine)
        for name in PYTHON_API:
            llvm.add_symbol(name, _address(getattr(ctypes.pythonapi, name)))
        libm = ctypes.CDLL(ctypes.util.find_library("m"))
        for name in LIBM:
            llvm.add_symbol(name, _address(getattr(libm, name)))
        self.standard_normal_address = _standard_normal_address()
        if self.has_standard_normal:
            llvm.add_symbol(STANDARD_NORMAL, self.standard_normal_address)
        self.generator_cache = GeneratorCache()
        self._names = itertools.count()
        self._lock = threading.Lock()

    @property
    def has_standard_normal(self):
        return self.standard_normal_address is not None

    @property
    def generator_cache_address(self):
        return ctypes.addressof(self.generator_cache)

    def unique_name(self, name):
        return f"{name}__native{next(self._names)}"

    def compile(self, ir_text, name):
        """Optimise and compile one LLVM module; the address of its function `name`."""
        llvm = self.llvm
        module = llvm.parse_assembly(ir_text)
        module.verify()
        options = llvm.create_pipeline_tuning_options(speed_level=3)
        builder = llvm.create_pass_builder(self.target_machine, options)
        builder.getModulePassManager().run(module, builder)
        with self._lock:
            self.engine.add_module(module)
            self.engine.finalize_object()
            return self.engine.get_function_address(name), str(module)

    @staticmethod
    def generator_entry(generator):
        """The entry lowered code keeps for a numpy Generator: everything it reads, held by one tuple."""
        bit_generator = generator.bit_generator
        lock = bit_generator.lock
        return generator, bit_generator, lock.acquire, lock.release, bit_generator.ctypes.bit_generator.value


class _MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p), ("ml_flags", ctypes.c_int),
                ("ml_doc", ctypes.c_char_p)]


_new_builtin = ctypes.pythonapi.PyCFunction_NewEx
_new_builtin.restype = ctypes.py_object
_new_builtin.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object]


def builtin(address, name, doc, owner):
    """A builtin function calling the native code at address as `(owner, args, nargs, kwnames)`.

    The builtin holds owner as its __self__; owner must keep the method definition alive."""
    owner.method_def = _MethodDef(name.encode(), address, METH_FASTCALL_KEYWORDS, doc.encode())
    return _new_builtin(ctypes.addressof(owner.method_def), owner, None)


_machine = None
_machine_lock = threading.Lock()


def machine():
    """The process's Machine, made on first use (importing llvmlite costs time only when asked)."""
    global _machine
    with _machine_lock:
        if _machine is None:
            try:
                import llvmlite  # noqa: F401
            except ImportError:
                raise NativeError("native code needs llvmlite: pip install llvmlite") from None
            _machine = Machine()
        return _machine
