"""NumPy's standard normal numbers, drawn faster: the same numbers, from the same generator state.

`Generator.standard_normal` spends about 9.4 ns a number on this project's benchmark machine, of which
the PCG64 bits take about 2.2 ns; the rest is NumPy calling its bit generator and its ziggurat through
function pointers, one number at a time. A forward gradient of a network draws as many numbers as the
network has parameters, so at small batches drawing costs more than the function. The fill below runs
NumPy's algorithm with the PCG64 step and the ziggurat's common case inlined:

- the PCG64 (XSL-RR) step on the generator's own state, read and written in place;
- the ziggurat's fast path with NumPy's own tables (`wi`, `ki`), read out of NumPy's sampler by
  feeding it chosen bits through a bit generator of ours (`probe_tables`);
- for the rare draws the fast path rejects, the state is put back and NumPy's `random_standard_normal`
  makes that draw itself, with all its slow paths.

Before it is used, `install` checks that it reproduces `rng.standard_normal` exactly (numbers and final
state) on several seeds; where anything differs, or the generator is not PCG64, NumPy draws as before.
"""
import ctypes

import numpy as np
from llvmlite import ir

from .jit import STANDARD_NORMAL

PCG64_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645
LAYERS = 256
I64, I128, DOUBLE = ir.IntType(64), ir.IntType(128), ir.DoubleType()
PTR = ir.IntType(8).as_pointer()

_U64 = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p)
_U32 = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p)
_DOUBLE = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_void_p)


class _BitGen(ctypes.Structure):
    """NumPy's bitgen_t: a state and the functions that draw from it."""
    _fields_ = [("state", ctypes.c_void_p), ("next_uint64", _U64), ("next_uint32", _U32),
                ("next_double", _DOUBLE), ("next_raw", _U64)]


def probe_tables(standard_normal):
    """NumPy's ziggurat tables (wi as doubles, ki as integers), read out of its sampler.

    A draw takes 64 bits r: layer r & 255, sign bit 8, magnitude r >> 9 (52 bits); it returns
    ±magnitude * wi[layer] at once when magnitude < ki[layer], and otherwise draws more. Fed
    magnitude 1 the sampler returns wi[layer]; a bisection on the magnitude finds ki[layer]."""
    feed, calls = [], [0]

    def next_uint64(_):
        calls[0] += 1
        return feed.pop() if feed else 1  # layer 1 with magnitude 0, taken at once where ki[1] > 0

    def next_double(_):
        calls[0] += 1
        return 0.5

    callbacks = (_U64(next_uint64), _U32(lambda _: 0), _DOUBLE(next_double), _U64(next_uint64))
    bitgen = _BitGen(None, *callbacks)

    def draw(layer, magnitude):
        """(value, whether the fast path took it)."""
        feed[:] = [(magnitude << 9) | layer]
        calls[0] = 0
        value = standard_normal(ctypes.addressof(bitgen))
        return value, calls[0] == 1

    wi, ki = np.zeros(LAYERS), np.zeros(LAYERS, dtype=np.uint64)
    for layer in range(LAYERS):
        value, taken = draw(layer, 1)
        if not taken:  # the fast path takes no magnitude above 0 in this layer
            ki[layer] = 1 if draw(layer, 0)[1] else 0
            continue
        wi[layer] = value
        low, high = 1, 1 << 52  # taken at low; the bisection finds the first magnitude not taken
        if draw(layer, high - 1)[1]:
            ki[layer] = high
            continue
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if draw(layer, middle)[1] else (low, middle)
        ki[layer] = high
    return wi, ki


def fill_module(name):
    """LLVM IR of `void name(pcg64_random_t *pcg, bitgen_t *bitgen, double *out, i64 n, double *wi,
    i64 *ki)`."""
    module = ir.Module(name="standard_normal_fill")
    fill = ir.Function(module, ir.FunctionType(ir.VoidType(), [PTR, PTR, DOUBLE.as_pointer(), I64,
                                                               DOUBLE.as_pointer(), I64.as_pointer()]), name)
    pcg, bitgen, out, count, wi, ki = fill.args
    numpy_draw = ir.Function(module, ir.FunctionType(DOUBLE, [PTR]), STANDARD_NORMAL)
    entry, loop, fast, slow, stored, done = (fill.append_basic_block(n) for n in
                                              ("entry", "loop", "fast", "slow", "stored", "done"))
    b = ir.IRBuilder(entry)
    state_slot = b.bitcast(pcg, I128.as_pointer())
    increment = b.load(b.gep(state_slot, [ir.Constant(I64, 1)]), align=8)
    first = b.load(state_slot, align=8)
    b.cbranch(b.icmp_signed(">", count, ir.Constant(I64, 0)), loop, done)

    b.position_at_end(loop)
    index = b.phi(I64)
    before = b.phi(I128)  # the state before this draw
    after = b.add(b.mul(before, ir.Constant(I128, PCG64_MULTIPLIER)), increment)
    high = b.trunc(b.lshr(after, ir.Constant(I128, 64)), I64)
    folded = b.xor(high, b.trunc(after, I64))
    turn = b.lshr(high, ir.Constant(I64, 58))  # rotate right by the top 6 bits (LLVM makes it one rotation)
    bits = b.or_(b.lshr(folded, turn), b.shl(folded, b.and_(b.sub(ir.Constant(I64, 64), turn), ir.Constant(I64, 63))))
    layer = b.and_(bits, ir.Constant(I64, LAYERS - 1))
    magnitude = b.and_(b.lshr(bits, ir.Constant(I64, 9)), ir.Constant(I64, (1 << 52) - 1))
    threshold = b.load(b.gep(ki, [layer]))
    b.cbranch(b.icmp_unsigned("<", magnitude, threshold), fast, slow)

    b.position_at_end(fast)
    value = b.fmul(b.uitofp(magnitude, DOUBLE), b.load(b.gep(wi, [layer])))
    negative = b.icmp_unsigned("!=", b.and_(bits, ir.Constant(I64, 256)), ir.Constant(I64, 0))
    fast_value = b.select(negative, b.fneg(value), value)
    b.branch(stored)

    b.position_at_end(slow)  # NumPy makes this draw from the state before it, with its slow paths
    b.store(before, state_slot, align=8)
    slow_value = b.call(numpy_draw, [bitgen])
    slow_state = b.load(state_slot, align=8)
    b.branch(stored)

    b.position_at_end(stored)
    drawn = b.phi(DOUBLE)
    drawn.add_incoming(fast_value, fast)
    drawn.add_incoming(slow_value, slow)
    state = b.phi(I128)
    state.add_incoming(after, fast)
    state.add_incoming(slow_state, slow)
    b.store(drawn, b.gep(out, [index]))
    following = b.add(index, ir.Constant(I64, 1))
    index.add_incoming(ir.Constant(I64, 0), entry)
    index.add_incoming(following, stored)
    before.add_incoming(first, entry)
    before.add_incoming(state, stored)
    finish = fill.append_basic_block("finish")
    b.cbranch(b.icmp_signed("<", following, count), loop, finish)

    b.position_at_end(finish)
    b.store(state, state_slot, align=8)
    b.branch(done)
    b.position_at_end(done)
    b.ret_void()
    return module


def _fill_function(kernel, wi, ki):
    """fill(bit_generator, out) around the kernel, under the bit generator's lock as NumPy draws."""
    tables = (wi.ctypes.data, ki.ctypes.data)

    def fill(bit_generator, out):
        interface = bit_generator.ctypes
        pcg = ctypes.c_void_p.from_address(interface.state_address).value
        with bit_generator.lock:
            kernel(pcg, interface.bit_generator.value, out.ctypes.data, out.size, *tables)

    fill.tables = (wi, ki)  # kept alive with the function
    return fill


def reproduces_numpy(fill):
    """Whether fill draws what rng.standard_normal draws and leaves the generator where it does."""
    for seed in range(4):
        for size in (1, 999, 100_003):
            ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
            out = np.empty(size)
            fill(ours.bit_generator, out)
            expected = numpys.standard_normal(size)
            if not (np.array_equal(out, expected) and np.array_equal(np.signbit(out), np.signbit(expected))
                    and ours.bit_generator.state == numpys.bit_generator.state):
                return False
    return True


def install(machine):
    """Put the fast fill for PCG64 into runtime.FAST_NORMAL_FILLS if it reproduces NumPy; whether it is."""
    from .. import runtime
    if np.random.PCG64 in runtime.FAST_NORMAL_FILLS:
        return True
    if not machine.has_standard_normal or not _pcg64_layout_is_known():
        return False
    standard_normal = _DOUBLE(machine.standard_normal_address)
    wi, ki = probe_tables(standard_normal)
    name = machine.unique_name("standard_normal_fill")
    address, _ = machine.compile(str(fill_module(name)), name)
    kernel = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                              ctypes.c_void_p, ctypes.c_void_p)(address)
    fill = _fill_function(kernel, wi, ki)
    if not reproduces_numpy(fill):
        return False
    runtime.FAST_NORMAL_FILLS[np.random.PCG64] = fill
    return True


def _pcg64_layout_is_known():
    """Whether PCG64's state is the 128-bit state and increment the fill reads, at the address it reads."""
    bit_generator = np.random.PCG64(20261123)
    words = (ctypes.c_uint64 * 4).from_address(
        ctypes.c_void_p.from_address(bit_generator.ctypes.state_address).value)
    state = bit_generator.state["state"]
    return (words[0] | words[1] << 64, words[2] | words[3] << 64) == (state["state"], state["inc"])
