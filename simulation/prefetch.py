"""A software prefetch for the kernels (LLVM's ``llvm.prefetch``): a hint, never a change.

The exposure pass on a quiet day visits scattered consumers, each a cache miss in every state
array it reads; the processor cannot look far enough ahead to overlap them. Asking for the next
consumers' entries a few visits early lets those misses overlap with the current visit's work.
A prefetch does not change any value: outcomes are the same with or without it.
"""

from __future__ import annotations

from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# LLVM 15 and later have opaque pointers: the intrinsic's name lost its pointee type.
_NAME = "llvm.prefetch.p0" if binding.llvm_version_info >= (15,) else "llvm.prefetch.p0i8"


@intrinsic
def prefetch(typingctx, array, index):
    """Hint that ``array[index]`` (of a 1-D array; of a 2-D array, the start of row ``index``)
    will be read soon (no bounds check, no effect)."""
    if not isinstance(array, types.Array) or array.ndim not in (1, 2) or not isinstance(
            index, types.Integer):
        return None
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        at = [args[1]] + [context.get_constant(types.intp, 0)] * (aryty.ndim - 1)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, at, wraparound=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _NAME)
        # (address, read, keep in all cache levels, data cache)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
