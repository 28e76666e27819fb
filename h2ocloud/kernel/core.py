"""Numba kernels: forward and backward pass of one sample, and the per-weight updates.

Everything here works on ONE flat float32 parameter vector (``weights``) plus two optimizer
vectors of the same length (``opt1``/``opt2``), described by an int64 ``meta`` table with one
column per weight layer (see :func:`h2ocloud.kernel.layout.build_meta`). Keeping all state in a
few flat arrays lets Python threads share them with no locks (Hogwild) and lets the node ship a
model as three byte blobs.

All floats are float32 and every scalar constant is cast to float32: a float64 literal would
silently promote a whole inner loop to double precision.

Each layer reads its input as a dense float32 vector (for layer 0 a scratch copy of the row
with input dropout applied, deeper layers the previous layer's outputs) and walks rows of
W contiguously, so LLVM vectorizes the dot products and the ADADELTA update. Zero inputs
(sparse data, dropped or inactive units) get a step of exactly zero in the update: with
fast_mode their weights and accumulators keep their values, as H2O does (see _adadelta_apply). Dropped units and units
with a zero gradient are skipped whole.

Rounding is part of the contract: outside the dot products nothing is compiled with
fastmath, so each operation rounds as written and one thread trains the same bits in every
process (tests/kernel/test_bitexact.py holds the kernel to a record of its results). Where
the code is arranged for speed (two passes per unit, deferred bias updates, unsigned
offsets instead of slices) it still makes the same operations in the same order.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

F32 = np.float32
ZERO = np.float32(0.0)
ONE = np.float32(1.0)

# Activation / layer kinds (column 5 of meta).
ACT_TANH = 0
ACT_RECT = 1
ACT_MAXOUT = 2
ACT_LINEAR = 3
ACT_SOFTMAX = 4

# Output kinds.
OUT_SOFTMAX = 0
OUT_LINEAR = 1
OUT_AUTOENCODER = 2

LOSS_CE = 0
LOSS_MSE = 1
# Regression losses of H2O-3's distributions (linear output; f is the output in link space):
# each stores H2O's negative half gradient of the deviance, dist.negHalfGradient(y, f).
LOSS_POISSON = 2
LOSS_GAMMA = 3
LOSS_TWEEDIE = 4  # dist_param: tweedie_power in (1, 2)
LOSS_LAPLACE = 5
LOSS_QUANTILE = 6  # dist_param: quantile_alpha
LOSS_HUBER = 7  # dist_param: huber delta (in the standardized response's units)

# exp() of a link-space output is clamped here (H2O clamps at 1e19): float32 stays finite.
_MAX_LOG = np.float32(40.0)

# Optimizer modes.
OPT_ADADELTA = 0
OPT_PLAIN = 1  # w += r * grad, no velocity
OPT_MOMENTUM = 2  # classic momentum
OPT_NESTEROV = 3
OPT_GRAD = 4  # test hook: store grad into gout, leave the model untouched

# Rows of the meta table.
M_NIN = 0
M_NOUT = 1
M_WOFF = 2
M_BOFF = 3
M_AOFF = 4  # offset of the layer's outputs in the per-thread activation buffers
M_KIND = 5

# error_model="numpy": no ZeroDivisionError branch in float division, which would otherwise
# stop LLVM from vectorizing the ADADELTA loop (sqrt and div on 16 floats at a time).
# No fastmath: every float32 operation rounds as written (no fused multiply-adds, no
# reassociation), so the results do not depend on how LLVM optimises a function. With
# fastmath=True they did: a process that compiled the kernel and one that loaded it from
# Numba's cache trained different bits from the same seed (a callee optimised alone and
# once more after being linked into its caller contracted different multiply-adds).
_JIT = dict(nogil=True, cache=True, fastmath=False, error_model="numpy")
# Dot products alone may reassociate their sum (LLVM keeps 16-float partial sums per vector
# lane): that is what vectorizes them. Their order is fixed by the loop and the CPU's vector
# width, the same in every process on one machine.
_JIT_DOT = dict(_JIT, fastmath=True)
# Small helpers called per unit or per block are inlined by Numba itself: every Numba function
# takes a reference on each array it receives (an atomic increment and decrement, which on
# the shared model arrays bounces a cache line between Hogwild threads), and inlining lets
# Numba drop those pairs.
_JIT_INLINE = dict(_JIT, inline="always")

_U12 = np.uint64(12)
_U25 = np.uint64(25)
_U27 = np.uint64(27)
_U40 = np.uint64(40)
_MULT = np.uint64(0x2545F4914F6CDD1D)
_INV24 = np.float32(1.0 / 16777216.0)


@njit(**_JIT_INLINE)
def _xorshift(x):
    """The next state of the xorshift64* stream. Loops that draw keep the state in a local
    and store it back once (see load_input): a store to any float32 array might be one to
    the state array for all LLVM knows, so each draw would wait for the state to go through
    memory."""
    x ^= x >> _U12
    x ^= x << _U25
    x ^= x >> _U27
    return x


@njit(**_JIT_INLINE)
def _uniform(x):
    """The uniform float32 in [0, 1) that xorshift64* state ``x`` gives."""
    return F32((x * _MULT) >> _U40) * _INV24


# ----------------------------------------------------------------------------------------------
# A team: threads that train the same sample together, each on its share of every layer's units
# ----------------------------------------------------------------------------------------------

# The team array (int64, one row per thread, whole cache lines each): column 0 counts the
# thread's barriers.
T_GEN = 0
TEAM_WIDTH = 8


@intrinsic
def _load_acquire(typingctx, arr, idx):
    """arr[idx] read with acquire ordering: a spin loop reads memory every time (a plain load
    may be hoisted out of the loop), and what the writer stored before its release is seen."""
    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
        return builder.load_atomic(ptr, "acquire", 8)
    return types.int64(arr, idx), codegen


@intrinsic
def _store_release(typingctx, arr, idx, val):
    """arr[idx] = val with release ordering: every store this thread made before is visible to
    a thread that reads ``val`` with acquire ordering."""
    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
        builder.store_atomic(args[2], ptr, "release", 8)
        return context.get_dummy_value()
    return types.void(arr, idx, val), codegen


@intrinsic
def _sched_yield(typingctx):
    """POSIX sched_yield(): give the core to another runnable thread."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []),
                                            "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()
    return types.void(), codegen


# Spins of a barrier before it yields the core at every further check: about 20 us here, well
# above a sample's usual wait (a few us), far below a time slice. A team with more threads than
# free cores (three daemons on two cores, each training on two threads) otherwise spun through
# whole time slices while the thread it waited for sat unscheduled: 100x slower than yielding.
SPIN_BEFORE_YIELD = 20_000


@njit(**_JIT)
def team_barrier(team, tid, nthr):
    """Wait until every thread of the team has reached its barrier of the same number (with
    one thread: return at once). The team's threads make the same calls, so their counters
    (team[t, T_GEN]) move in step."""
    if nthr == 1:
        return
    flat = team.reshape(team.size)
    width = team.shape[1]
    gen = flat[tid * width + T_GEN] + 1
    _store_release(flat, tid * width + T_GEN, gen)
    spins = 0
    for u in range(nthr):
        if u != tid:
            while _load_acquire(flat, u * width + T_GEN) < gen:
                spins += 1
                if spins > SPIN_BEFORE_YIELD:
                    _sched_yield()


@njit(**_JIT_INLINE)
def team_units(n, tid, nthr):
    """Thread ``tid``'s share [lo, hi) of a layer's ``n`` units: the same units every sample,
    so each unit's weight rows and accumulators stay in the cache of the core that updates
    them. (Shares balanced per sample over the units that do work, which dropout and dead
    rectifiers make a random subset, moved rows between the cores and trained the MNIST
    trial run at 0.6x the speed of fixed shares.)"""
    return n * tid // nthr, n * (tid + 1) // nthr


@njit(**_JIT)
def _gather_units(acts_all, tid, nthr, ao, n):
    """Copy the other threads' shares of one layer's outputs into this thread's activations."""
    mine = acts_all[tid]
    for u in range(nthr):
        if u != tid:
            lo, hi = team_units(n, u, nthr)
            theirs = acts_all[u]
            for j in range(ao + lo, ao + hi):
                mine[j] = theirs[j]


# ----------------------------------------------------------------------------------------------
# Forward
# ----------------------------------------------------------------------------------------------


@njit(**_JIT_INLINE)
def layer_meta(meta, l):
    """Weight layer ``l``'s row of the meta table: (n_in, n_out, weight offset, bias offset,
    activation offset, kind)."""
    return (meta[M_NIN, l], meta[M_NOUT, l], meta[M_WOFF, l], meta[M_BOFF, l], meta[M_AOFF, l],
            meta[M_KIND, l])


@njit(**_JIT_INLINE)
def layer_input(meta, l, x0, acts):
    """Dense input vector of weight layer ``l``: the (dropped-out) row, or layer l-1's outputs."""
    if l == 0:
        return x0[:meta[M_NIN, 0]]
    ao = meta[M_AOFF, l - 1]
    return acts[ao:ao + meta[M_NOUT, l - 1]]


@njit(**_JIT_DOT)
def _dot_at(w, off, x):
    """w[off:off + len(x)] . x (LLVM's vectorized sum). The kernels index the shared arrays
    at an offset rather than slice them: a slice of a Numba array takes a reference on the
    array (an atomic increment and decrement of a counter every Hogwild thread shares), which
    cost a sixth of a sample's time on one thread and bounced that counter's cache line
    between the cores on two. The offset is unsigned: a signed index makes Numba check it
    for Python's negative indexing on every access, which stops LLVM vectorizing the loop."""
    o = np.uint64(off)
    s = ZERO
    for k in range(x.shape[0]):
        s += w[o + np.uint64(k)] * x[k]
    return s


@njit(**_JIT)
def _maxout_net(w, off, x):
    """max_i w_{off+i} x_i over the non-zero inputs, and its index (-1 when no input is active)."""
    o = np.uint64(off)
    best = ZERO
    bi = -1
    for k in range(x.shape[0]):
        if x[k] != ZERO:
            p = w[o + np.uint64(k)] * x[k]
            if bi < 0 or p > best:
                best = p
                bi = k
    return best, bi


@njit(**_JIT)
def fprop_layer(weights, meta, l, xin, acts, keep, use_keep, scale, argmax, maxnorm, j0, j1):
    """Compute the outputs of units [j0, j1) of weight layer ``l`` into ``acts`` from its dense
    input ``xin`` (a softmax layer: their nets; :func:`softmax_layer` normalises the layer
    once every unit's net is in). A maxout layer always computes all its units.

    ``keep[aoff + j] == 0`` drops unit j (only when ``use_keep``); ``scale`` multiplies the
    hidden activations after the nonlinearity (1 in training, 1 - p in scoring).
    """
    nin, nout, wo, bo, ao, kind = layer_meta(meta, l)
    if kind == ACT_MAXOUT:
        # Booklet's maxout: a_j = max_i(w_ji x_i) + b_j over the active (non-zero) inputs,
        # then the layer is divided by its largest activation when that exceeds 1.
        big = ZERO
        big_j = -1
        for j in range(nout):
            if use_keep and keep[ao + j] == 0:
                acts[ao + j] = ZERO
                argmax[ao + j] = -1
                continue
            best, bi = _maxout_net(weights, wo + j * nin, xin)
            a = best + weights[bo + j]
            acts[ao + j] = a
            argmax[ao + j] = bi
            if a > big:
                big = a
                big_j = j
        norm = ONE
        if big > ONE:
            norm = big
            inv = ONE / big
            for j in range(nout):
                acts[ao + j] *= inv
        maxnorm[l] = norm
        # The unit that set the norm lives in the last nl slots of argmax (see layout).
        argmax[argmax.shape[0] - meta.shape[1] + l] = big_j if big > ONE else -1
        if scale != ONE:
            for j in range(nout):
                acts[ao + j] *= scale
        return
    for j in range(j0, j1):
        if use_keep and keep[ao + j] == 0:
            acts[ao + j] = ZERO
            continue
        acts[ao + j] = _dot_at(weights, wo + j * nin, xin) + weights[bo + j]
    if kind == ACT_RECT:
        for j in range(j0, j1):
            a = acts[ao + j]
            acts[ao + j] = a * scale if a > ZERO else ZERO
    elif kind == ACT_TANH:
        for j in range(j0, j1):
            acts[ao + j] = _tanh(acts[ao + j]) * scale


@njit(**_JIT)
def softmax_layer(acts, ao, nout):
    """Softmax of a layer's nets in place."""
    mx = acts[ao]
    for j in range(1, nout):
        if acts[ao + j] > mx:
            mx = acts[ao + j]
    tot = ZERO
    for j in range(nout):
        e = F32(math.exp(acts[ao + j] - mx))
        acts[ao + j] = e
        tot += e
    inv = ONE / tot
    for j in range(nout):
        acts[ao + j] *= inv


@njit(**_JIT_INLINE)
def _tanh(x):
    """H2O's tanh: 1 - 2 / (1 + exp(2x)), exp in double precision cast to float (H2O-3's Tanh
    neurons: "evals faster than tanh(x)")."""
    return ONE - F32(2.0) / (ONE + F32(math.exp(np.float64(F32(2.0) * x))))


@njit(**_JIT)
def load_input(x, x0, in_drop, rng):
    """Copy row ``x`` to ``x0``, zeroing each non-zero input with probability ``in_drop``."""
    st = rng[0]
    for i in range(x.shape[0]):
        v = x[i]
        if v != ZERO and in_drop > ZERO:
            st = _xorshift(st)
            if _uniform(st) < in_drop:
                v = ZERO
        x0[i] = v
    rng[0] = st


@njit(**_JIT)
def forward_sample(weights, meta, drop, x, x0, acts_all, keep, udraw, argmax, maxnorm, training,
                   in_drop, rng, last_layer, tid, nthr, team):
    """Forward pass of one row up to weight layer ``last_layer`` (inclusive), into
    ``acts_all[tid]``.

    A team of ``nthr`` threads (see train_rows) splits each layer's units: thread ``tid``
    computes its share, waits for the others and copies theirs from ``acts_all``. Every
    thread draws the same dropout masks (their ``rng`` states are equal).

    In training, inputs and hidden units are dropped with their ratios (from ``rng``); in
    scoring nothing is dropped and hidden activations are scaled by (1 - p).

    Hidden unit j of EVERY layer is kept when the same draw ``udraw[j] >= p_l``: H2O seeds
    each hidden layer's Dropout with the same per-row seed (H2O-2 and H2O-3
    RectifierDropout/TanhDropout/MaxoutDropout.fprop add a constant to the row's seed, and
    step() hands every layer that same seed), so its layers drop the same unit indices.
    The draws are made once per row, as far as the widest hidden layer needs.
    """
    acts = acts_all[tid]
    load_input(x, x0, in_drop if training else ZERO, rng)
    ndrawn = 0  # udraw[:ndrawn] already holds this row's draws
    for l in range(last_layer + 1):
        p = drop[l]
        use_keep = training and p > ZERO
        if use_keep:
            ao = meta[M_AOFF, l]
            nout = meta[M_NOUT, l]
            st = rng[0]
            for j in range(nout):
                if j >= ndrawn:
                    st = _xorshift(st)
                    udraw[j] = _uniform(st)
                keep[ao + j] = 1 if udraw[j] >= p else 0
            rng[0] = st
            if nout > ndrawn:
                ndrawn = nout
        scale = ONE if training else ONE - p
        nout = meta[M_NOUT, l]
        j0, j1 = team_units(nout, tid, nthr)
        fprop_layer(weights, meta, l, layer_input(meta, l, x0, acts), acts, keep, use_keep,
                    scale, argmax, maxnorm, j0, j1)
        if nthr > 1:
            team_barrier(team, tid, nthr)
            _gather_units(acts_all, tid, nthr, meta[M_AOFF, l], nout)
        if meta[M_KIND, l] == ACT_SOFTMAX:
            # In place: the others must have copied this thread's nets first.
            team_barrier(team, tid, nthr)
            softmax_layer(acts, meta[M_AOFF, l], nout)


# ----------------------------------------------------------------------------------------------
# Backward
# ----------------------------------------------------------------------------------------------


@njit(**_JIT)
def _sgn(w):
    if w > ZERO:
        return ONE
    if w < ZERO:
        return -ONE
    return ZERO


# Units whose bias updates wait for their ADADELTA grad^2 sums, computed side by side (see
# _bprop_adadelta); the per-thread scratch g2blk holds BLOCK rows of grad^2 values.
BLOCK = 8


@njit(**_JIT)
def _add_error(weights, row, x, pe, g):
    """pe[k] += g * w_k over one unit's incoming weights (read before their update): the
    error handed to the layer below."""
    r0 = np.uint64(row)
    for k in range(x.shape[0]):
        pe[k] += g * weights[r0 + np.uint64(k)]


@njit(**_JIT)
def _adadelta_apply(weights, opt1, opt2, row, x, g, rho, eps, l1, l2, ea, ea_reg, elastic,
                    fast_mode, gsq, goff):
    """ADADELTA update of one unit's incoming weights, storing each weight's grad^2 in
    gsq[goff + k] for the bias's sum (0 where the weight stays). With fast_mode the weights
    of zero inputs, and both their accumulators, keep their values. The error handed down is
    added before (_add_error): a loop that also wrote it kept LLVM from vectorizing (too many
    arrays that might overlap to check at run time).

    Every weight's update is computed, and a weight that stays gets a step of exactly zero:
    rho 1 and grad 0, so each of its three values is written back unchanged (x * 1 + 0 and
    w + r * 0 round to themselves; only a weight of -0.0 comes back as +0.0). All three
    are plain stores. A conditional store, or one choosing between the new and the loaded
    value, compiles to an AVX masked store (vmaskmovps), which AMD's Zen cores run
    microcoded: that made this loop 5x slower (5.1 against 1.0 ns per weight on this
    project's EPYC machine). One thread trains the same bits either way. With Hogwild threads
    the write-back of an unchanged value can undo another thread's update of that weight made
    between the load and the store: the lost-update race every Hogwild update already has."""
    omr = ONE - rho
    r0 = np.uint64(row)
    g0 = np.uint64(goff)
    for k in range(x.shape[0]):
        xk = x[k]
        upd = xk != ZERO or not fast_mode
        i = r0 + np.uint64(k)
        wk = weights[i]
        if elastic:
            grad = g * xk - l1 * np.sign(wk) - l2 * wk - ea_reg * (wk - ea[i])
        else:
            grad = g * xk - l1 * np.sign(wk) - l2 * wk
        grad = grad if upd else ZERO
        rho_k = rho if upd else ONE
        g2 = grad * grad
        gsq[g0 + np.uint64(k)] = g2
        a2 = opt2[i]
        eg = rho_k * opt1[i] + omr * g2
        r = math.sqrt((a2 + eps) / (eg + eps))
        opt2[i] = rho_k * a2 + omr * r * r * g2
        opt1[i] = eg
        weights[i] = wk + r * grad


@njit(**_JIT_INLINE)
def _block_sums(g2, n, sums):
    """sums[b] = g2[b*n] + g2[b*n + 1] + ... in that order, for the BLOCK rows side by side:
    each sum is the same sequential float32 sum a unit alone would make, but the eight
    independent additions per step overlap instead of waiting on one another."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = ZERO
    u1 = np.uint64(n)  # unsigned row offsets (see _dot_at)
    u2 = u1 + u1
    u3 = u2 + u1
    u4 = u3 + u1
    u5 = u4 + u1
    u6 = u5 + u1
    u7 = u6 + u1
    for k in range(n):
        i = np.uint64(k)
        s0 += g2[i]
        s1 += g2[u1 + i]
        s2 += g2[u2 + i]
        s3 += g2[u3 + i]
        s4 += g2[u4 + i]
        s5 += g2[u5 + i]
        s6 += g2[u6 + i]
        s7 += g2[u7 + i]
    sums[0] = s0
    sums[1] = s1
    sums[2] = s2
    sums[3] = s3
    sums[4] = s4
    sums[5] = s5
    sums[6] = s6
    sums[7] = s7


@njit(**_JIT_INLINE)
def _adadelta_bias(weights, opt1, opt2, bpos, g, sum_g2, nin, rho, eps):
    """Bias: gradient g, no l1/l2 (as H2O-2, the booklet's system; H2O-3's update_bias
    also subtracts sign(b) l1 + b l2). ADADELTA uses the mean grad^2 of the unit's
    incoming weights (summed over the updated ones, divided by all nin) as its grad^2."""
    omr = ONE - rho
    g2 = sum_g2 / F32(nin)
    eg = rho * opt1[bpos] + omr * g2
    opt1[bpos] = eg
    r = F32(math.sqrt((opt2[bpos] + eps) / (eg + eps)))
    opt2[bpos] = rho * opt2[bpos] + omr * r * r * g2
    weights[bpos] += r * g


@njit(**_JIT)
def _cap_norm(weights, row, nin, max_w2):
    """Cap the squared norm of one unit's incoming weights at max_w2."""
    ss = _dot_at(weights, row, weights[row:row + nin])
    if ss > max_w2:
        f = F32(math.sqrt(max_w2 / ss))
        r0 = np.uint64(row)
        for c in range(nin):
            weights[r0 + np.uint64(c)] *= f


@njit(**_JIT_INLINE)
def _flush_biases(weights, opt1, opt2, nb, bo, nin, rho, eps, g2blk, blkg, blkj):
    """Bias updates of the nb units waiting in the block (rows past nb hold stale values
    whose sums are not used)."""
    _block_sums(g2blk, nin, blkg[BLOCK:])
    for b in range(nb):
        _adadelta_bias(weights, opt1, opt2, bo + blkj[b], blkg[b], blkg[BLOCK + b], nin, rho,
                       eps)


@njit(**_JIT)
def _bprop_adadelta(weights, opt1, opt2, meta, l, xin, pe, acts, errs, keep, use_keep, rho,
                    eps, l1, l2, ea_w, ea_reg, max_w2, shortcut, fast_mode, g2blk, blkg, blkj,
                    j0, j1):
    """bprop_layer for ADADELTA and a non-maxout layer: the same updates in the same order
    as update_unit makes them one unit at a time, arranged for speed. A unit's weights are
    updated in two vectorized passes; its bias waits until BLOCK units are done, so that
    their sequential grad^2 sums run side by side (nothing reads a layer's biases while
    the layer and those below it back-propagate)."""
    nin, nout, wo, bo, ao, kind = layer_meta(meta, l)
    need_pe = l > 0
    elastic = ea_reg != ZERO
    nb = 0
    for j in range(j0, j1):
        if use_keep and keep[ao + j] == 0:
            continue  # dropped units keep their incoming weights for this sample
        g = unit_gradient(kind, errs[ao + j], acts[ao + j])
        if shortcut and g == ZERO:
            continue
        row = wo + j * nin
        if need_pe:
            _add_error(weights, row, xin, pe, g)
        _adadelta_apply(weights, opt1, opt2, row, xin, g, rho, eps, l1, l2, ea_w, ea_reg,
                        elastic, fast_mode, g2blk, nb * nin)
        if max_w2 < np.inf:
            _cap_norm(weights, row, nin, max_w2)
        blkj[nb] = j
        blkg[nb] = g
        nb += 1
        if nb == BLOCK:
            _flush_biases(weights, opt1, opt2, nb, bo, nin, rho, eps, g2blk, blkg, blkj)
            nb = 0
    if nb > 0:
        _flush_biases(weights, opt1, opt2, nb, bo, nin, rho, eps, g2blk, blkg, blkj)


@njit(**_JIT)
def _generic_row(weights, o1, o2, go, row, x, pe, need_pe, g, am, mode, rate, mom, rho, eps,
                 l1, l2, ea, ea_reg, fast_mode):
    """Any optimizer on one unit's incoming weights weights[row:row + len(x)] (scalar code:
    maxout, momentum, tests; OPT_GRAD stores the gradient at the same place of ``go``).

    ``am >= 0`` (maxout) restricts the data term g * x to that input: the max only depends
    on the winning weight. Returns the sum of grad^2 of the updated weights.
    """
    omr = ONE - rho
    sum_g2 = ZERO
    for k in range(x.shape[0]):
        xk = x[k]
        if fast_mode and xk == ZERO:
            continue
        i = np.uint64(row) + np.uint64(k)
        wk = weights[i]
        if am >= 0 and k != am:
            gx = ZERO
        else:
            gx = g * xk
            if need_pe:
                pe[k] += g * wk
        grad = gx - l1 * _sgn(wk) - l2 * wk - ea_reg * (wk - ea[i])
        if mode == OPT_ADADELTA:
            g2 = grad * grad
            sum_g2 += g2
            eg = rho * o1[i] + omr * g2
            o1[i] = eg
            r = F32(math.sqrt((o2[i] + eps) / (eg + eps)))
            o2[i] = rho * o2[i] + omr * r * r * g2
            weights[i] = wk + r * grad
        elif mode == OPT_PLAIN:
            weights[i] = wk + rate * grad
        elif mode == OPT_NESTEROV:
            v = mom * o1[i] + grad
            o1[i] = v
            weights[i] = wk + rate * v
        elif mode == OPT_MOMENTUM:
            d = rate * grad
            weights[i] = wk + d + mom * o1[i]
            o1[i] = d
        else:
            go[i] = grad
    return sum_g2


@njit(**_JIT)
def update_unit(weights, opt1, opt2, gout, row, bpos, nin, xin, pe, need_pe, g, am, mode,
                rate, mom, rho, eps, l1, l2, ea_w, ea_reg, max_w2, fast_mode):
    """Update the incoming weights and the bias of one unit with unit gradient ``g`` (every
    optimizer but ADADELTA on non-maxout layers, which _bprop_adadelta does).

    grad_w = g * x_i - sign(w) l1 - w l2 - ea_reg (w - ea_w) ("target minus output": the step
    is +rate * grad); the last term is H2O-3's elastic averaging, a pull toward the consensus
    weights ``ea_w`` (laid out like ``weights``; pass ``weights`` and 0 when off).
    When ``need_pe``, pe[i] accumulates g * w_ji with the weight read *before* its update:
    the error handed to the layer below.
    """
    sum_g2 = _generic_row(weights, opt1, opt2, gout, row, xin, pe, need_pe, g, am, mode, rate,
                          mom, rho, eps, l1, l2, ea_w, ea_reg, fast_mode)
    if max_w2 < np.inf and mode != OPT_GRAD:
        _cap_norm(weights, row, nin, max_w2)
    if mode == OPT_ADADELTA:
        _adadelta_bias(weights, opt1, opt2, bpos, g, sum_g2, nin, rho, eps)
    elif mode == OPT_PLAIN:
        weights[bpos] += rate * g
    elif mode == OPT_NESTEROV:
        v = mom * opt1[bpos] + g
        opt1[bpos] = v
        weights[bpos] += rate * v
    elif mode == OPT_MOMENTUM:
        d = rate * g
        weights[bpos] += d + mom * opt1[bpos]
        opt1[bpos] = d
    else:
        gout[bpos] = g


@njit(**_JIT_INLINE)
def unit_gradient(kind, e, a):
    """dE/dnet of a unit from dE/da and its activation: tanh' = 1 - a^2, the rectifier's 0 or 1;
    maxout and linear units pass it through."""
    if kind == ACT_TANH:
        return e * (ONE - a * a)
    if kind == ACT_RECT:
        return e if a > ZERO else ZERO
    return e


@njit(**_JIT)
def bprop_layer(weights, opt1, opt2, gout, meta, l, xin, pe, acts, errs, keep, use_keep,
                argmax, maxnorm, mode, rate, mom, rho, eps, l1, l2, ea_w, ea_reg, max_w2, shortcut,
                fast_mode, g2blk, blkg, blkj, j0, j1):
    """Back-propagate through units [j0, j1) of weight layer ``l`` and update them (a maxout
    layer: all its units).

    ``errs`` holds dE/da of the layer's outputs (for the output layer the caller stored
    dE/dnet, and softmax/linear kinds take it as is). ``pe`` (dense, the layer below's
    errors) receives the back-propagated error when l > 0. ``g2blk``/``blkg``/``blkj`` are
    per-thread scratch for _bprop_adadelta.
    """
    nin, nout, wo, bo, ao, kind = layer_meta(meta, l)
    need_pe = l > 0
    if need_pe:
        for k in range(nin):
            pe[k] = ZERO
    if mode == OPT_ADADELTA and kind != ACT_MAXOUT:
        _bprop_adadelta(weights, opt1, opt2, meta, l, xin, pe, acts, errs, keep, use_keep, rho,
                        eps, l1, l2, ea_w, ea_reg, max_w2, shortcut, fast_mode, g2blk, blkg,
                        blkj, j0, j1)
        return
    if kind == ACT_MAXOUT:
        # Undo the layer normalisation a'_j = a_j / M (M = a_k*, the largest unit):
        # dE/da_j = (e'_j - [j == k*] * sum_i e'_i a'_i) / M.
        m = maxnorm[l]
        kstar = argmax[argmax.shape[0] - meta.shape[1] + l]
        if m > ONE:
            s = ZERO
            for j in range(nout):
                s += errs[ao + j] * acts[ao + j]
            inv = ONE / m
            for j in range(nout):
                errs[ao + j] *= inv
            errs[ao + kstar] -= s * inv
        j0, j1 = 0, nout
    for j in range(j0, j1):
        if use_keep and keep[ao + j] == 0:
            continue  # dropped units keep their incoming weights for this sample
        g = unit_gradient(kind, errs[ao + j], acts[ao + j])
        if shortcut and g == ZERO:
            continue
        am = argmax[ao + j] if kind == ACT_MAXOUT else -1
        if kind == ACT_MAXOUT and am < 0:
            am = nin  # no active input: only the bias moves (data term nowhere)
        update_unit(weights, opt1, opt2, gout, wo + j * nin, bo + j, nin, xin, pe, need_pe,
                    g, am, mode, rate[l], mom, rho, eps, l1, l2, ea_w, ea_reg, max_w2, fast_mode)


@njit(**_JIT)
def _exp(f):
    return np.float32(math.exp(min(f, _MAX_LOG)))


@njit(**_JIT)
def regression_gradient(loss_kind, y, f, dist_param):
    """H2O's negative half gradient of the deviance at link-space output ``f`` for response
    ``y`` (hex.Distribution.negHalfGradient): the "target minus output" direction."""
    if loss_kind == LOSS_POISSON:
        return y - _exp(f)
    if loss_kind == LOSS_GAMMA:
        return y * _exp(-f) - ONE
    if loss_kind == LOSS_TWEEDIE:
        return y * _exp(f * (ONE - dist_param)) - _exp(f * (F32(2.0) - dist_param))
    if loss_kind == LOSS_LAPLACE:
        return F32(-0.5) if f > y else F32(0.5)
    if loss_kind == LOSS_QUANTILE:
        return F32(0.5) * dist_param if y > f else F32(0.5) * (dist_param - ONE)
    if loss_kind == LOSS_HUBER:
        if abs(y - f) <= dist_param:
            return y - f
        return -dist_param if f >= y else dist_param
    return y - f  # gaussian (MeanSquare)


@njit(**_JIT)
def output_error(meta, acts, errs, out_kind, loss_kind, x, target, offset, dist_param):
    """Store dE/dnet (softmax, linear) or dE/da (autoencoder) of the output layer in errs.
    ``offset`` is added to a linear output in link space (H2O's offset_column)."""
    lo_ = meta.shape[1] - 1
    ao = meta[M_AOFF, lo_]
    nout = meta[M_NOUT, lo_]
    if out_kind == OUT_SOFTMAX:
        t_cls = int(target)
        for k in range(nout):
            y = acts[ao + k]
            t = ONE if k == t_cls else ZERO
            if loss_kind == LOSS_CE:
                errs[ao + k] = t - y
            else:
                errs[ao + k] = (t - y) * (ONE - y) * y
    elif out_kind == OUT_LINEAR:
        errs[ao] = regression_gradient(loss_kind, target, acts[ao] + offset, dist_param)
    else:
        for k in range(nout):
            errs[ao + k] = x[k] - acts[ao + k]


@njit(**_JIT)
def backward_sample(weights, opt1, opt2, gout, meta, drop, x0, acts, errs, pe_all, keep, argmax,
                    maxnorm, out_kind, loss_kind, x, target, offset, dist_param, mode, rate, mom,
                    rho, eps, l1, l2, ea_w, ea_reg, max_w2, shortcut, fast_mode, g2blk, blkg,
                    blkj, tid, nthr, team):
    """Output error, then back-propagation and update of every layer, top to bottom.

    One thread hands each layer's error down into ``errs`` directly. A team's thread adds
    its units' part into its row of ``pe_all`` (two rows per thread, used by alternate
    layers, so a thread can start the next layer while the others still read its last one),
    waits for the others, and sums the parts for its own share of the layer below in thread
    order: the team trains the same updates as one thread, but for the order of that sum."""
    nl = meta.shape[1]
    output_error(meta, acts, errs, out_kind, loss_kind, x, target, offset, dist_param)
    for l in range(nl - 1, -1, -1):
        xin = layer_input(meta, l, x0, acts)
        nin = meta[M_NIN, l]
        ao = meta[M_AOFF, l - 1] if l > 0 else 0
        side = 2 * tid + (l & 1)
        if l == 0:
            pe = errs[:0]
        elif nthr == 1:
            pe = errs[ao:ao + nin]
        else:
            pe = pe_all[side, :nin]
        j0, j1 = team_units(meta[M_NOUT, l], tid, nthr)
        bprop_layer(weights, opt1, opt2, gout, meta, l, xin, pe, acts, errs, keep,
                    drop[l] > ZERO, argmax, maxnorm, mode, rate, mom, rho, eps, l1, l2, ea_w, ea_reg,
                    max_w2, shortcut, fast_mode, g2blk, blkg, blkj, j0, j1)
        if nthr > 1 and l > 0:
            team_barrier(team, tid, nthr)
            k0, k1 = team_units(nin, tid, nthr)
            for k in range(k0, k1):
                e = ZERO
                for u in range(nthr):
                    e += pe_all[2 * u + (l & 1), k]
                errs[ao + k] = e


# ----------------------------------------------------------------------------------------------
# Loops over rows
# ----------------------------------------------------------------------------------------------


@njit(**_JIT)
def train_rows(weights, opt1, opt2, gout, meta, drop, X, y, offs, avg_act, ea_w, rows, out_kind, loss_kind,
               dist_param, sparsity_beta, avg_target, mode, base_rate, rate_annealing, rate_decay, mom_start, mom_ramp, mom_stable, rho, eps,
               l1, l2, ea_reg, max_w2, in_drop, fast_mode, shortcut, n_start, n_stride, rng,
               x0, acts_all, errs, pe_all, keep, udraw, argmax, maxnorm, g2blk, blkg, blkj, counts,
               tid, nthr, team):
    """Train on ``rows`` in order, one sample at a time, updating the shared arrays in place.

    ``nthr`` > 1 makes this thread one of a team that trains the same rows together (every
    thread of the team calls this with the same rows, n_start and rng state, and its own
    ``tid``): each layer's units are split between the threads, which meet at a barrier after
    each layer (``team``: int64, a row per thread, zero at the start; see T_GEN), so the
    samples are trained one after another as one thread trains them. ``acts_all`` holds one
    row of activations per thread (one row: a single thread), ``pe_all`` two rows per thread
    for the errors handed down (unused by a single thread). Maxout layers and counting need a
    single thread.

    The k-th sample of this slice is taken to be global sample ``n_start + k * n_stride``
    (the threads interleave), which drives rate annealing and the momentum ramp.
    ``offs`` holds a link-space offset per row of X, or is empty (no offset column).
    ``ea_w`` / ``ea_reg``: elastic averaging's consensus weights and pull (see update_unit).
    With ``sparsity_beta`` > 0 (H2O's sparse autoencoder) ``avg_act`` keeps each hidden unit's
    rolling mean activation (0.999 / 0.001 per sample, laid out like the activations) and every
    hidden bias moves by -rate * sparsity_beta * (mean activation - avg_target) per sample.
    A non-empty ``counts`` ((nl, N_COUNTS) int64) receives :func:`count_sample`'s tallies; the
    default empty one costs one branch per sample.
    """
    acts = acts_all[tid]
    counting = counts.shape[0] > 0
    has_offs = offs.shape[0] > 0
    sparse = sparsity_beta > ZERO and avg_act.shape[0] > 0
    nl = meta.shape[1]
    rate = np.empty(nl, dtype=np.float32)
    for k in range(rows.shape[0]):
        r_ = rows[k]
        n = n_start + k * n_stride
        ann = base_rate / (1.0 + rate_annealing * n)
        m = mom_start
        if mom_ramp > 0.0:
            m += (mom_stable - mom_start) * min(float(n), mom_ramp) / mom_ramp
        else:
            m = mom_stable
        for l in range(nl):
            rate[l] = F32(ann * rate_decay**l * (1.0 - m))
        x = X[r_]
        offset = offs[r_] if has_offs else ZERO
        forward_sample(weights, meta, drop, x, x0, acts_all, keep, udraw, argmax, maxnorm, True,
                       in_drop, rng, nl - 1, tid, nthr, team)
        backward_sample(weights, opt1, opt2, gout, meta, drop, x0, acts, errs, pe_all, keep,
                        argmax, maxnorm, out_kind, loss_kind, x, y[r_], offset,
                        dist_param, mode, rate, F32(m), rho, eps,
                        l1, l2, ea_w, ea_reg, max_w2, shortcut, fast_mode, g2blk, blkg, blkj,
                        tid, nthr, team)
        if counting:
            count_sample(meta, drop, x0, acts, errs, keep, shortcut, fast_mode, counts)
        if sparse:
            for l in range(nl - 1):
                ao = meta[M_AOFF, l]
                bo = meta[M_BOFF, l]
                step = rate[l] * sparsity_beta
                j0, j1 = team_units(meta[M_NOUT, l], tid, nthr)
                for j in range(j0, j1):
                    a = F32(0.999) * avg_act[ao + j] + F32(0.001) * acts[ao + j]
                    avg_act[ao + j] = a
                    weights[bo + j] -= step * (a - avg_target)


# Columns of the counters table (one row per weight layer), see count_sample.
C_UNITS = 0  # units of the layer
C_KEPT = 1  # units not dropped
C_ZERO_GRAD = 2  # kept units whose gradient was zero (dead rectifier or zero error)
C_SKIPPED = 3  # kept units skipped whole (zero gradient and the shortcut on)
C_UPDATED = 4  # units whose incoming weights were updated
C_W_VISITED = 5  # weights the update loop walked (n_in per updated unit)
C_W_UPDATED = 6  # weights it changed (non-zero input, or every one without fast_mode)
C_IN_NONZERO = 7  # non-zero inputs of the layer
N_COUNTS = 8


@njit(**_JIT)
def count_sample(meta, drop, x0, acts, errs, keep, shortcut, fast_mode, counts):
    """Add one trained sample's work to ``counts`` (rows: layers, columns: C_*).

    Reads the state backward_sample left (errs of layer l still hold dE/da: only maxout
    layers rescale them), so it mirrors bprop_layer's decisions without touching the model.
    """
    nl = meta.shape[1]
    for l in range(nl):
        nin, nout, wo, bo, ao, kind = layer_meta(meta, l)
        xin = layer_input(meta, l, x0, acts)
        nz = 0
        for k in range(nin):
            if xin[k] != ZERO:
                nz += 1
        counts[l, C_UNITS] += nout
        counts[l, C_IN_NONZERO] += nz
        use_keep = drop[l] > ZERO
        for j in range(nout):
            if use_keep and keep[ao + j] == 0:
                continue
            counts[l, C_KEPT] += 1
            g = unit_gradient(kind, errs[ao + j], acts[ao + j])
            if g == ZERO:
                counts[l, C_ZERO_GRAD] += 1
                if shortcut:
                    counts[l, C_SKIPPED] += 1
                    continue
            counts[l, C_UPDATED] += 1
            counts[l, C_W_VISITED] += nin
            counts[l, C_W_UPDATED] += nz if fast_mode else nin


@njit(**_JIT)
def score_rows(weights, meta, drop, X, lo_row, hi_row, layer, out, x0, acts, keep, udraw,
               argmax, maxnorm, rng):
    """Scoring forward pass of rows [lo_row, hi_row): copy layer ``layer``'s outputs to out."""
    ao = meta[M_AOFF, layer]
    nout = meta[M_NOUT, layer]
    acts_all = acts.reshape((1, acts.shape[0]))
    no_team = np.zeros((1, TEAM_WIDTH), np.int64)
    for r_ in range(lo_row, hi_row):
        forward_sample(weights, meta, drop, X[r_], x0, acts_all, keep, udraw, argmax, maxnorm,
                       False, ZERO, rng, layer, 0, 1, no_team)
        for j in range(nout):
            out[r_, j] = acts[ao + j]
