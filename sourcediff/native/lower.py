"""Lowering: a straight-line function on floats (a primal, or a derivative sourcediff generated from
one) to LLVM IR in CPython's calling convention.

Every value is a double. The lowered code is a fast path: when the arguments are what it was built for
(exact floats; for a forward gradient also a numpy Generator passed as rng=) it computes the result
itself, and otherwise, and wherever Python would raise or leave floats (a division by zero, a math
domain error, an overflow to infinity in a math function or a power), it calls the Python function with
the same arguments. So it returns what the Python function returns, to within rounding, or raises what
it raises.
"""
import math
import operator
import sys

import gast
import numpy as np
from llvmlite import ir

from .. import runtime
from ..errors import NativeError
from ..frontend.parse import parse_function
from .jit import LIBM, PYTHON_API, STANDARD_NORMAL

DOUBLE = ir.DoubleType()
I8 = ir.IntType(8)
PTR = I8.as_pointer()
I64 = ir.IntType(64)
I32 = ir.IntType(32)
LLVM_TYPES = {"double": DOUBLE, "i8*": PTR, "i64": I64, "i32": I32, "void": ir.VoidType()}


def _functions():
    """The callables lowered code computes, by id: (operation, number of arguments).

    An operation is a C library function (LIBM) or one of "fabs", "sign", "identity". NumPy functions
    return NumPy scalars and follow np.errstate, so of them only np.sign, which generated tangents call,
    is lowered."""
    table = {}
    for name, arity in LIBM.items():
        if hasattr(math, name):
            table[id(getattr(math, name))] = (name, arity)
    for fn in (abs, math.fabs):
        table[id(fn)] = ("fabs", 1)
    table[id(np.sign)] = ("sign", 1)
    table[id(float)] = ("identity", 1)
    return table


FUNCTIONS = _functions()
CONSTANTS = {(module, name): getattr(module, name) for module in (math, np) for name in ("pi", "e", "tau")
             if hasattr(module, name)}
GENERATOR = object()  # the value of rng once the body has made it a Generator
FOLDED = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
          gast.Div: operator.truediv, gast.Pow: operator.pow}


def lower(fn, machine, names):
    """(LLVM IR text, function name, whether fn is a forward gradient) for fn; raises NativeError."""
    lowering = Lowering(fn, machine, names)
    return str(lowering.module), lowering.name, lowering.forward_gradient


class Lowering:
    def __init__(self, fn, machine, names):
        self.python = fn
        self.machine = machine
        self.addresses = names  # objects the code refers to by address: kept alive by the caller
        self.parsed = parse_function(fn, ordinary_parameters=False)
        self.fdef = self.parsed.node
        self.module = ir.Module(name=self.fdef.name)
        self.module.triple = machine.llvm.get_process_triple()
        self.name = machine.unique_name(self.fdef.name)
        function = ir.Function(self.module, ir.FunctionType(PTR, [PTR, PTR.as_pointer(), I64, PTR]), self.name)
        _, self.args, self.count, self.keywords = function.args
        self.function = function
        self.builder = ir.IRBuilder(function.append_basic_block("entry"))
        self.fallback = function.append_basic_block("python")
        self.env = {}  # name -> its value so far
        self.rng_argument = None
        self.parameters, self.forward_gradient = self.read_signature()
        self.locals = set(self.parameters) | {"rng"} | _assigned_names(self.fdef)
        self.rehearsal = False
        self.lower_body()
        self.lower_fallback()

    # --- errors and plumbing -------------------------------------------------------------------------

    def error(self, node, message, hint=None):
        return self.parsed.info.error(NativeError, node, message, hint)

    def c_function(self, name):
        if name in self.module.globals:
            return self.module.globals[name]
        if name in PYTHON_API:
            result, arguments = PYTHON_API[name]
            variadic = arguments[-1:] == ["..."]
            arguments = [LLVM_TYPES[a] for a in arguments if a != "..."]
            signature = ir.FunctionType(LLVM_TYPES[result], arguments, var_arg=variadic)
        elif name == STANDARD_NORMAL:
            signature = ir.FunctionType(DOUBLE, [PTR])
        else:
            signature = ir.FunctionType(DOUBLE, [DOUBLE] * LIBM[name])
        return ir.Function(self.module, signature, name)

    def call(self, name, *arguments):
        return self.builder.call(self.c_function(name), list(arguments))

    def address(self, obj):
        """A pointer constant to a Python object the code refers to; the object is kept alive."""
        self.addresses.append(obj)
        return ir.Constant(I64, id(obj)).inttoptr(PTR)

    def continue_if(self, condition, otherwise=None):
        """Go on in a new block where condition holds; otherwise jump to `otherwise` (the Python fallback)."""
        ok = self.function.append_basic_block("ok")
        self.builder.cbranch(condition, ok, otherwise or self.fallback)
        self.builder.position_at_end(ok)

    def is_type(self, obj, cls):
        """Whether the object's type is exactly cls (subclasses go to the Python code)."""
        slot = self.builder.gep(obj, [ir.Constant(I64, self.machine.type_offset)])
        found = self.builder.load(self.builder.bitcast(slot, PTR.as_pointer()))
        return self.builder.icmp_unsigned("==", found, self.address(cls))

    def returned_or_raise(self, result):
        """Go on if a C-API call returned an object; else return NULL (the exception is set)."""
        raise_block = self.function.append_basic_block("raise")
        self.continue_if(self.builder.icmp_unsigned("!=", result, ir.Constant(PTR, None)), raise_block)
        with self.builder.goto_block(raise_block):
            self.builder.ret(ir.Constant(PTR, None))

    def call_object(self, callable_, *arguments):
        """callable_(*arguments) for Python objects; the new reference, or return NULL on an exception."""
        result = self.call("PyObject_CallFunctionObjArgs", callable_, *arguments, ir.Constant(PTR, None))
        self.returned_or_raise(result)
        return result

    # --- the signature and the arguments -------------------------------------------------------------

    def read_signature(self):
        args = self.fdef.args
        if args.vararg or args.kwarg:
            raise self.error(self.fdef, "native code takes plain positional float parameters, not *args or **kwargs")
        keywords = [a.id for a in args.kwonlyargs]
        if keywords not in ([], ["rng"]) or (keywords and not _is_none(args.kw_defaults[0])):
            raise self.error(self.fdef, "native code takes positional float parameters (and, in a forward "
                                        "gradient, rng=None) only")
        names = [a.id for a in args.posonlyargs + args.args]
        builder = self.builder
        self.continue_if(builder.icmp_signed("==", self.count, ir.Constant(I64, len(names))))
        for position, name in enumerate(names):
            item = self.argument(position)
            self.continue_if(self.is_type(item, float))
            self.env[name] = self.call("PyFloat_AsDouble", item)
        no_keywords = builder.icmp_unsigned("==", self.keywords, ir.Constant(PTR, None))
        if not keywords:
            self.continue_if(no_keywords)
            return names, False
        # rng=, spelled in the call: keyword names in code are interned, so one comparison finds it
        self.continue_if(builder.not_(no_keywords))
        self.continue_if(builder.icmp_signed("==", self.call("PyTuple_Size", self.keywords), ir.Constant(I64, 1)))
        name = self.call("PyTuple_GetItem", self.keywords, ir.Constant(I64, 0))
        self.continue_if(builder.icmp_unsigned("==", name, self.address(sys.intern("rng"))))
        rng = self.argument(len(names))
        self.continue_if(self.is_type(rng, np.random.Generator))
        self.env["rng"] = self.rng_argument = rng
        return names, True

    def argument(self, position):
        return self.builder.load(self.builder.gep(self.args, [ir.Constant(I64, position)]))

        # --- statements ----------------------------------------------------------------------------------

    def lower_body(self):
        """The statements in order. A forward gradient first rehearses them all along zero directions,
        so that every check that hands over to Python does so before anything is drawn (Python then
        draws as it would have); only a check on a value that depends on the directions can hand over
        after the draws, and Python then draws again."""
        body = [stmt for stmt in self.fdef.body if not _is_docstring(stmt)]
        ends = [i for i, stmt in enumerate(body) if isinstance(stmt, gast.Return)]
        if not ends or ends[0] != len(body) - 1 or body[-1].value is None:
            where = body[ends[0] + 1] if ends and ends[0] < len(body) - 1 else (body[-1] if body else self.fdef)
            raise self.error(where, "native code must end in a return of a float or of a tuple of floats, "
                                    "with nothing after it")
        arguments = dict(self.env)
        if any(self.is_draw(stmt) for stmt in body):
            self.rehearsal = True
            self.run(body)
            self.env = dict(arguments)
        self.rehearsal = False
        self.run(body)

    def run(self, body):
        draws = [self.is_draw(stmt) for stmt in body]
        for index, stmt in enumerate(body):
            if draws[index] and not self.rehearsal and (index == 0 or not draws[index - 1]):
                self.acquire_generator(stmt)
            self.statement(stmt)
            if draws[index] and not self.rehearsal and not (index + 1 < len(body) and draws[index + 1]):
                self.release_generator()

    def statement(self, node):
        if isinstance(node, gast.Pass) or self.is_real_check(node) or self.is_in_place_check(node):
            return
        if isinstance(node, gast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, gast.Name):
                self.env[target.id] = self.assigned_value(value)
                return
            if (isinstance(target, gast.Tuple) and isinstance(value, gast.Tuple)
                    and len(target.elts) == len(value.elts) and all(isinstance(t, gast.Name) for t in target.elts)):
                values = [self.expression(v) for v in value.elts]
                self.env.update((t.id, v) for t, v in zip(target.elts, values))
                return
        if isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            self.env[node.target.id] = self.operate(node, node.op, self.expression(node.target),
                                                    self.expression(node.value))
            return
        if isinstance(node, gast.Return):
            self.return_value(node.value)
            return
        kind = type(node).__name__
        raise self.error(node, f"{kind} statements are not lowered to native code, which is straight-line",
                         hint="sd.native lowers assignments of float arithmetic and a return; keep loops and "
                              "branches in Python")

    def is_in_place_check(self, node):
        """`refuse_in_place(x, ...)` in generated code refuses arrays, lists and dicts: a float passes."""
        return isinstance(node, gast.Expr) and self.calls(node.value, runtime.refuse_in_place)

    def is_real_check(self, node):
        """`if type(x) is not float: require_real(...)` (or refuse_complex) in generated code (or `type(x)
        is not float or type(dx) is not float`): the entry check already holds, every parameter being a
        float."""
        if not (isinstance(node, gast.If) and not node.orelse and len(node.body) == 1
                and isinstance(node.body[0], gast.Expr)
                and any(self.calls(node.body[0].value, check) for check in (runtime.require_real,
                                                                            runtime.refuse_complex))):
            return False
        tests = node.test.values if isinstance(node.test, gast.BoolOp) and isinstance(node.test.op, gast.Or) \
            else [node.test]
        return all(isinstance(test, gast.Compare) and isinstance(test.ops[0], gast.IsNot)
                   and isinstance(test.left, gast.Call) and self.calls(test.left, type)
                   and isinstance(test.left.args[0], gast.Name) and test.left.args[0].id in self.parameters
                   and self.resolve(test.comparators[0]) is float for test in tests)

    def assigned_value(self, value):
        if self.calls(value, np.random.default_rng):
            if not (self.forward_gradient and len(value.args) == 1 and isinstance(value.args[0], gast.Name)
                    and value.args[0].id == "rng" and self.env.get("rng") is self.rng_argument):
                raise self.error(value, "native code draws only from the rng argument of a forward gradient")
            return GENERATOR
        if self.calls(value, runtime.normal_like):
            return self.draw(value)
        return self.expression(value)

    def is_draw(self, node):
        return (isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name)
                and self.calls(node.value, runtime.normal_like))

    # --- the random generator --------------------------------------------------------------------------

    def acquire_generator(self, node):
        """Hold the rng argument's entry (generator, bit generator, acquire, release, bitgen address)
        and take the Generator's lock without waiting, as NumPy samples under it; when another thread
        holds the lock, run the Python code instead, which waits for it.

        The entry comes from the one-entry cache, or is made by Machine.generator_entry and put in the
        cache; this code holds its own reference to it, and the cache is read and rewritten with no
        Python code running in between, so nothing can free what a call uses. The lock call passes a
        tuple made in advance and so allocates nothing."""
        if self.env.get("rng") is not GENERATOR:
            raise self.error(node, "native code draws a direction after rng = np.random.default_rng(rng)")
        builder, rng = self.builder, self.rng_argument
        cache = ir.Constant(I64, self.machine.generator_cache_address).inttoptr(PTR.as_pointer())
        current = builder.load(cache)
        check, hit, bind, have = (self.function.append_basic_block(n) for n in
                                  ("cached_entry", "entry_hit", "new_entry", "generator"))
        builder.cbranch(builder.icmp_unsigned("!=", current, ir.Constant(PTR, None)), check, bind)
        builder.position_at_end(check)
        cached_generator = self.call("PyTuple_GetItem", current, ir.Constant(I64, 0))
        builder.cbranch(builder.icmp_unsigned("==", cached_generator, rng), hit, bind)
        builder.position_at_end(hit)
        self.call("Py_IncRef", current)
        builder.branch(have)
        builder.position_at_end(bind)
        made = self.call_object(self.address(self.machine.generator_entry), rng)
        replaced = builder.load(cache)  # read again: making the entry ran Python code
        self.call("Py_IncRef", made)  # the cache's reference
        builder.store(made, cache)
        with builder.if_then(builder.icmp_unsigned("!=", replaced, ir.Constant(PTR, None))):
            self.call("Py_DecRef", replaced)
        made_in = builder.block
        builder.branch(have)
        builder.position_at_end(have)
        self.entry = builder.phi(PTR)
        self.entry.add_incoming(current, hit)
        self.entry.add_incoming(made, made_in)
        self.bitgen = self.call("PyLong_AsVoidPtr", self.call("PyTuple_GetItem", self.entry, ir.Constant(I64, 4)))
        acquire = self.call("PyTuple_GetItem", self.entry, ir.Constant(I64, 2))
        self.release = self.call("PyTuple_GetItem", self.entry, ir.Constant(I64, 3))
        taken = self.call("PyObject_Call", acquire, self.address((False,)), ir.Constant(PTR, None))
        failed, busy = self.function.append_basic_block("lock_failed"), self.function.append_basic_block("lock_busy")
        self.continue_if(builder.icmp_unsigned("!=", taken, ir.Constant(PTR, None)), failed)
        got = builder.icmp_unsigned("==", taken, self.address(True))
        self.call("Py_DecRef", taken)
        self.continue_if(got, busy)
        with builder.goto_block(failed):  # the lock call raised
            self.call("Py_DecRef", self.entry)
            builder.ret(ir.Constant(PTR, None))
        with builder.goto_block(busy):
            self.call("Py_DecRef", self.entry)
            builder.branch(self.fallback)

    def release_generator(self):
        released = self.call("PyObject_CallNoArgs", self.release)
        self.call("Py_DecRef", self.entry)
        self.returned_or_raise(released)
        self.call("Py_DecRef", released)

    # --- expressions: a value is an LLVM double, or a Python int or float for a constant ---------------

    def resolve(self, node):
        found, obj = self.parsed.resolve(node, self.locals)
        return obj if found else None

    def calls(self, node, fn):
        return isinstance(node, gast.Call) and self.resolve(node.func) is fn

    def expression(self, node):
        if isinstance(node, gast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, gast.Name) and node.id in self.env:
            value = self.env[node.id]
            if value is GENERATOR or (isinstance(value, ir.Value) and value.type != DOUBLE):
                raise self.error(node, "native code uses the generator only to draw directions")
            return value
        if isinstance(node, gast.Name) and node.id in self.locals:
            raise self.error(node, f"'{node.id}' is read before it is assigned (Python raises UnboundLocalError)")
        if isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name):
            key = (self.resolve(node.value), node.attr)
            if key in CONSTANTS:
                return CONSTANTS[key]
        if isinstance(node, (gast.Name, gast.Attribute)):
            raise self.error(node, f"'{_spell(node)}' is not a float the native code can read",
                             hint="native code reads its parameters, its local variables and math.pi, math.e, "
                                  "math.tau; pass other values as arguments")
        if isinstance(node, gast.BinOp):
            return self.operate(node, node.op, self.expression(node.left), self.expression(node.right))
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
            operand = self.expression(node.operand)
            if not isinstance(operand, ir.Value):
                return -operand if isinstance(node.op, gast.USub) else +operand
            return self.builder.fneg(operand) if isinstance(node.op, gast.USub) else operand
        if isinstance(node, gast.Call):
            return self.call_expression(node)
        raise self.error(node, f"{type(node).__name__} expressions are not lowered to native code",
                         hint="native code computes with float arithmetic (+ - * / **) and math functions")

    def operate(self, node, op, left, right):
        """left op right: folded with Python's own arithmetic when both are constants (so integers stay
        integers, as in Python), else in doubles."""
        if isinstance(left, ir.Value) or isinstance(right, ir.Value):
            return self.binary(node, op, self.double(node, left), self.double(node, right))
        if type(op) not in FOLDED:
            raise self.error(node, f"the operator {type(op).__name__} is not lowered to native code",
                             hint="native code computes with + - * / ** on floats")
        try:
            result = FOLDED[type(op)](left, right)
        except (ArithmeticError, ValueError) as error:
            raise self.error(node, f"this constant expression raises {type(error).__name__}") from None
        if type(result) not in (int, float):
            raise self.error(node, "this constant expression is not a real number")
        return result

    def double(self, node, value):
        if isinstance(value, ir.Value):
            return value
        try:
            return ir.Constant(DOUBLE, float(value))
        except OverflowError:
            raise self.error(node, "this integer is too large for a float") from None

    def binary(self, node, op, left, right):
        builder = self.builder
        if isinstance(op, gast.Add):
            return builder.fadd(left, right)
        if isinstance(op, gast.Sub):
            return builder.fsub(left, right)
        if isinstance(op, gast.Mult):
            return builder.fmul(left, right)
        if isinstance(op, gast.Div):
            self.continue_if(builder.fcmp_unordered("!=", right, ir.Constant(DOUBLE, 0.0)))  # else ZeroDivisionError
            return builder.fdiv(left, right)
        if isinstance(op, gast.Pow):
            return self.finite(self.call("pow", left, right))
        raise self.error(node, f"the operator {type(op).__name__} is not lowered to native code",
                         hint="native code computes with + - * / ** on floats")

    def finite(self, value):
        """value, going on only where it is finite: elsewhere Python raises, returns a complex, or (for
        NaN and infinite arguments) answers in ways the Python code decides."""
        magnitude = self.builder.call(self.module.declare_intrinsic("llvm.fabs", [DOUBLE]), [value])
        self.continue_if(self.builder.fcmp_ordered("<", magnitude, ir.Constant(DOUBLE, math.inf)))
        return value

    def call_expression(self, node):
        fn = self.resolve(node.func)
        if fn is runtime.normal_like:
            raise self.error(node, "native code draws a direction only in a statement of its own: "
                                   "dx = normal_like(x, rng)")
        operation = FUNCTIONS.get(id(fn))
        if fn is runtime.forward_gradient_estimate or fn is runtime.broadcast_like:
            operation = (fn.__name__, 2)
        if operation is None or node.keywords or len(node.args) != operation[1]:
            raise self.error(node, f"the call {_spell(node.func)}(...) is not lowered to native code",
                             hint="native code calls math functions (math.exp, math.sin, ..., abs) on floats, "
                                  "with positional arguments")
        name, _ = operation
        arguments = [self.expression(a) for a in node.args]
        if name == "forward_gradient_estimate":  # (∇f·v) v for a float v
            return self.operate(node, gast.Mult(), *arguments)
        if name == "broadcast_like":  # a float has the shape of a float
            return arguments[0]
        arguments = [self.double(node, a) for a in arguments]
        builder = self.builder
        if name == "identity":
            return arguments[0]
        if name == "fabs":
            return builder.call(self.module.declare_intrinsic("llvm.fabs", [DOUBLE]), arguments)
        if name == "sign":
            x = arguments[0]
            positive = builder.uitofp(builder.fcmp_ordered(">", x, ir.Constant(DOUBLE, 0.0)), DOUBLE)
            negative = builder.uitofp(builder.fcmp_ordered("<", x, ir.Constant(DOUBLE, 0.0)), DOUBLE)
            sign = builder.fsub(positive, negative)
            return builder.select(builder.fcmp_unordered("uno", x, x), x, sign)  # sign(nan) is nan
        return self.finite(self.call(name, *arguments))

    def draw(self, node):
        if not (len(node.args) == 2 and not node.keywords and all(isinstance(a, gast.Name) for a in node.args)
                and self.env.get(node.args[1].id) is GENERATOR):
            raise self.error(node, "this draw is not lowered to native code, which draws one N(0, 1) number per "
                                   "float from the rng argument", hint="use directions=1 for native code")
        self.double(node, self.expression(node.args[0]))  # a float: its direction is one N(0, 1) number
        if self.rehearsal:
            return ir.Constant(DOUBLE, 0.0)
        return self.call(STANDARD_NORMAL, self.bitgen)

    # --- the result and the fallback -----------------------------------------------------------------

    def return_value(self, node):
        tree = self.result_tree(node)
        if self.rehearsal:
            return
        if not isinstance(tree, list):
            self.builder.ret(self.box(node, tree))
            return
        outer = self.new_tuple(len(tree))
        failed = self.function.append_basic_block("no_memory")
        self.fill_tuple(node, outer, tree, failed)
        self.builder.ret(outer)
        self.builder.position_at_end(failed)
        self.call("Py_DecRef", outer)
        self.builder.ret(ir.Constant(PTR, None))

    def result_tree(self, node):
        if isinstance(node, gast.Tuple):
            return [self.result_tree(e) for e in node.elts]
        return self.expression(node)

    def box(self, node, value):
        """A new float object, or an int object for an integer constant (as Python returns it)."""
        if type(value) is int:
            if not -2 ** 63 <= value < 2 ** 63:
                raise self.error(node, "native code returns integers of at most 64 bits")
            return self.call("PyLong_FromLongLong", ir.Constant(I64, value))
        return self.call("PyFloat_FromDouble", self.double(node, value))

    def new_tuple(self, size):
        result = self.call("PyTuple_New", ir.Constant(I64, size))
        self.returned_or_raise(result)
        return result

    def fill_tuple(self, node, tuple_, items, failed):
        """Store each item (a value, or a list of them for a nested tuple) into tuple_; on a failed
        allocation jump to `failed`, where dropping the outer tuple frees whatever it holds."""
        for position, item in enumerate(items):
            if isinstance(item, list):
                element = self.call("PyTuple_New", ir.Constant(I64, len(item)))
            else:
                element = self.box(node, item)
            self.call("PyTuple_SetItem", tuple_, ir.Constant(I64, position), element)
            self.continue_if(self.builder.icmp_unsigned("!=", element, ir.Constant(PTR, None)), failed)
            if isinstance(item, list):
                self.fill_tuple(node, element, item, failed)

    def lower_fallback(self):
        """The Python function called with the same arguments (keywords passed on in a dict)."""
        builder, python = self.builder, self.address(self.python)
        builder.position_at_end(self.fallback)
        args = builder.bitcast(self.args, PTR)
        with builder.if_then(builder.icmp_unsigned("==", self.keywords, ir.Constant(PTR, None))):
            builder.ret(self.call("PyObject_VectorcallDict", python, args, self.count, ir.Constant(PTR, None)))
        keywords = self.call("PyDict_New")
        self.returned_or_raise(keywords)
        count = self.call("PyTuple_Size", self.keywords)
        entry = builder.block
        loop = self.function.append_basic_block("keyword")
        done = self.function.append_basic_block("call_python")
        builder.branch(loop)
        builder.position_at_end(loop)
        index = builder.phi(I64)
        index.add_incoming(ir.Constant(I64, 0), entry)
        more = builder.icmp_signed("<", index, count)
        with builder.if_then(more):
            name = self.call("PyTuple_GetItem", self.keywords, index)
            value = builder.load(builder.gep(self.args, [builder.add(self.count, index)]))
            stored = self.call("PyDict_SetItem", keywords, name, value)
            with builder.if_then(builder.icmp_signed("!=", stored, ir.Constant(I32, 0))):
                self.call("Py_DecRef", keywords)
                builder.ret(ir.Constant(PTR, None))
            next_index = builder.add(index, ir.Constant(I64, 1))
            index.add_incoming(next_index, builder.block)
            builder.branch(loop)
        builder.branch(done)
        builder.position_at_end(done)
        result = self.call("PyObject_VectorcallDict", python, args, self.count, keywords)
        self.call("Py_DecRef", keywords)
        builder.ret(result)


def _assigned_names(fdef):
    """Every name the function assigns: local throughout it, as in Python."""
    names = set()
    for node in gast.walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            names.add(node.id)
    return names


def _is_docstring(node):
    return isinstance(node, gast.Expr) and isinstance(node.value, gast.Constant) and isinstance(node.value.value, str)


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def _spell(node):
    if isinstance(node, gast.Name):
        return node.id
    if isinstance(node, gast.Attribute):
        return f"{_spell(node.value)}.{node.attr}"
    return type(node).__name__
