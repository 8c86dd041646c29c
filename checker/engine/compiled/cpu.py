"""Three processor instructions the kernel asks for directly, which numba has no words for: a
prefetch, a comparison of sixteen slots of two vectors at once, and an atomic fetch-and-add.
The first two do not change what the kernel computes, they only let the processor do it
sooner; the third hands out work among the workers (`graph.expand_block`).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 16
"""The slots `differing` compares at once: 16 values of 32 bits, one 512-bit register (two
256-bit ones, or four 128-bit ones, where the processor has no wider ones)."""


def _item_pointer(context, builder, arraytype, array, index, indextype):  # type: ignore[no-untyped-def]
    return cgutils.get_item_pointer(
        context, builder, arraytype, context.make_array(arraytype)(context, builder, array),
        [context.cast(builder, index, indextype, types.intp)])


@intrinsic
def prefetch(typingctx, array, index):  # type: ignore[no-untyped-def]
    """Ask the processor to bring array[index] into the cache without waiting for it: a hint,
    which changes nothing that the code computes (the index need not be in range)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        arraytype, indextype = signature.args
        where = _item_pointer(context, builder, arraytype, args[0], args[1], indextype)
        byte = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        hint = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]),
            "llvm.prefetch.p0")
        # a read, kept in every level of the cache, of data
        builder.call(hint, [builder.bitcast(where, byte), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return types.void(array, index), codegen


@intrinsic
def differing(typingctx, a, b, start):  # type: ignore[no-untyped-def]
    """Bit i (i < LANES) set where a[start + i] != b[start + i]: two one-dimensional arrays of
    32-bit integers, contiguous, each with LANES slots from `start` on (not checked)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        atype, btype, stype = signature.args
        lanes = ir.VectorType(ir.IntType(32), LANES)
        x = builder.load(builder.bitcast(
            _item_pointer(context, builder, atype, args[0], args[2], stype),
            lanes.as_pointer()), align=4)
        y = builder.load(builder.bitcast(
            _item_pointer(context, builder, btype, args[1], args[2], stype),
            lanes.as_pointer()), align=4)
        bits = builder.bitcast(builder.icmp_unsigned("!=", x, y), ir.IntType(LANES))
        return builder.zext(bits, ir.IntType(64))
    if not (isinstance(a, types.Array) and isinstance(b, types.Array) and a.ndim == b.ndim == 1
            and a.layout == b.layout == "C" and a.dtype == b.dtype == types.int32):
        return None
    return types.uint64(a, b, start), codegen


@intrinsic
def take_next(typingctx, array, index):  # type: ignore[no-untyped-def]
    """array[index] += 1 as one atomic step, returning the value before: each worker that asks
    gets a different value, in the order they asked (a one-dimensional array of 64-bit
    integers)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        arraytype, indextype = signature.args
        where = _item_pointer(context, builder, arraytype, args[0], args[1], indextype)
        return builder.atomic_rmw("add", where, ir.IntType(64)(1), "monotonic")
    if not (isinstance(array, types.Array) and array.ndim == 1 and array.dtype == types.int64):
        return None
    return types.int64(array, index), codegen
