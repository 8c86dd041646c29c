"""The breadth-first search in compiled form: a block of the queue expanded in parallel, then its
successors numbered in order, so that every worker count finds the same states with the same
numbers, the same shortest traces and the same verdicts.

Phase one (`expand_block`, each worker taking the next span of the block's sources): each
source's successors are generated, packed and hashed, and every pending property is checked on
them; each worker keeps, per property, the first successor (in queue order) where it fires.
Phase two (`insert_block`, one thread): successors are looked up in the state table in queue
order, new ones are numbered, edges are recorded, and a property is found at the first place,
over all workers, where it fired -- exactly where a one-worker search would find it.  The state
table could be split by hash between workers (each owning the states that hash to it) without
changing this order; phase two is where that would go.

The graph analyses of the progress properties (deadlock, can-always-finish) run on the compact
arrays afterwards.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from checker.engine.compiled.checks import (
    changed_executions,
    check_all,
    fact_holds,
    is_state_kind,
    record_charts,
)
from checker.engine.compiled.cpu import prefetch, take_next
from checker.engine.compiled.rules import (
    STOPPING,
    hash_words,
    pack,
    repack,
    successors,
    unpack,
)
from checker.engine.compiled.tables import H_N, H_REC, H_W, R_STATUS

# Why a block returned
R_DONE, R_DECIDED, R_MAX_STATES, R_FULL = 0, 1, 2, 3


@njit(cache=True, parallel=True)
def expand_block(T, states, table, fptable, fpsizes, sources, lo, hi, nthreads, counts, buf_packed,
                 buf_hash, buf_op, buf_known, kinds, params, pending, hits, seen, scratch, ops,
                 cur, diffs, ndiffs, changed, inside, queued, charts, overflow, taken):
    """Successors of sources[lo..hi-1] into the block buffers (counts[source - lo]: how many,
    and the row of the first), and per worker and property the first successor where the
    property fires, as its place in queue order (`queue_place`; hits, -1: nowhere).
    Exact storage: `sources` is `states`, looked up in `table`; fingerprint storage: `sources`
    is the queue, and a successor is known when its fingerprint is in `fptable` (segments of
    `fpsizes` slots, `fingerprint_slot`)."""
    nprop = kinds.shape[0]
    # The step properties come before the state properties (`checks.check_all`).
    nstep = 0
    while nstep < nprop and not is_state_kind(kinds[nstep]):
        nstep += 1
    spans = (hi - lo + SPAN - 1) // SPAN
    # Each worker's part of the buffers starts at the same row in every block, whatever the
    # block's size, and the worker writes its sources' successors one after another from that
    # row: only the first rows of each part are ever touched (and so made resident).
    region = buf_op.shape[0] // nthreads
    taken[0] = 0
    for t in prange(nthreads):
        for p in range(nprop):
            hits[t, p] = -1
        here = cur[t]
        row = t * region
        # Each worker takes the next span of sources not yet taken, so that a run of states
        # with many successors, or a worker that the machine runs slower, is shared out rather
        # than waited for.  A worker's spans come in queue order, so the first place where a
        # property fires in its spans is the least.
        while True:
            span = take_next(taken, 0)
            if span >= spans:
                break
            for src in range(lo + span * SPAN, min(hi, lo + (span + 1) * SPAN)):
                unpack(sources[src], T, here)
                k = successors(here, T, scratch[t], ops[t])
                counts[src - lo, 0] = k
                counts[src - lo, 1] = row
                _successors_found(T, states, table, fptable, fpsizes, sources[src], here, k,
                                  row, src - lo, nstep, buf_packed, buf_hash, buf_op, buf_known,
                                  kinds, params, pending, hits[t], seen[t], scratch[t], ops[t],
                                  diffs[t], ndiffs[t], changed[t], inside[t], queued[t], charts,
                                  overflow, t)
                row += k


SPAN = 64
"""Sources a worker takes at a time in `expand_block`, each worker the next span not yet taken.
A span's rows of `counts` (16 bytes a source) take a kilobyte, so that two workers can write
into one cache line of it only where their spans meet."""


@njit(cache=True, inline="always")
def queue_place(i, j, maxs):
    """The place in queue order of the j-th successor of a block's i-th source: what `hits`
    records, so that the least over all workers is the first place where a property fired."""
    return i * maxs + j


@njit(cache=True, inline="always")
def _successors_found(T, states, table, fptable, fpsizes, words, here, k, row, i, nstep,
                      buf_packed, buf_hash, buf_op, buf_known, kinds, params, pending, hits, seen,
                      scratch, ops, diffs, ndiffs, changed, inside, queued, charts, overflow, t):
    """The k successors of the block's i-th source (`here`, packed as `words`), made into
    scratch[:k], packed and looked up into the buffers from `row` on, and checked.  Three
    passes over them, so that their lookups in the state table (each a likely cache miss) come
    one right after another and overlap, instead of each waiting behind the work of a whole
    step.  The first `nstep` properties are the step properties."""
    W = T[H_W]
    maxs = scratch.shape[0]
    for j in range(k):
        packed = buf_packed[row + j]
        nd = repack(words, here, scratch[j], T, packed, diffs[j])
        if nd < 0:
            overflow[t] += 1
            nd = 0
        ndiffs[j] = nd
        buf_hash[row + j] = hash_words(packed, W)
        buf_op[row + j] = ops[j]
    # Known already (found in an earlier block): its state properties were checked when it was
    # found.  Unknown ones are numbered in phase two; with exact storage, from the empty slot
    # their lookup ended at (`_unknown_at`).
    if fptable.shape[0] > 1:
        for j in range(k):
            buf_known[row + j] = _find_fingerprint(fptable, fpsizes, buf_hash[row + j])
    else:
        tmask = np.uint32(table.shape[0] - 1)
        for j in range(k):
            slot = _slot(states, table, buf_packed[row + j], buf_hash[row + j], W)
            got = _index(table[slot], tmask)
            buf_known[row + j] = got if got >= 0 else _unknown_at(slot)
    for j in range(k):
        after = scratch[j]
        nch = changed_executions(here, after, T, diffs[j], ndiffs[j], changed)
        if charts:
            record_charts(here, after, T, seen, changed, nch, diffs[j], ndiffs[j])
        check_all(here, after, T, ops[j], buf_known[row + j], kinds, params, pending, hits,
                  queue_place(i, j, maxs), changed, nch, inside, queued, nstep)


AHEAD = 16
"""Phase two asks for the table slot of the successor this many rows ahead of the one it looks
up (`insert_block`): phase one's lookups were a whole block earlier, so the slots have mostly
left the cache, and phase two, on one thread, would otherwise wait for each in turn."""


@njit(cache=True, inline="always")
def _unknown_at(slot):
    """What phase one records for a successor not in the state table, whose lookup ended at the
    empty slot `slot`: a negative number, from which `_recorded_slot` gets the slot back."""
    return -2 - np.int64(slot)


@njit(cache=True, inline="always")
def _recorded_slot(known):
    """The slot that `_unknown_at` recorded (known <= -2)."""
    return np.uint64(-2 - known)


@njit(cache=True, inline="always")
def _resumed(known, h, tmask):
    """Where phase two looks a successor up: from the slot phase one's lookup ended at, when
    it recorded one (every slot before it on the way from its home slot was taken then by
    another state, and the table only gains states until it grows), else from its home slot."""
    return _recorded_slot(known) if known <= -2 else h & tmask


@njit(cache=True, inline="always")
def _tag(h, tmask):
    """The bits of a state table entry above the state's number: the top bits of the state's
    hash, so that a lookup reads a stored state only where the hashes' bits agree (the slot
    is chosen by the low bits, so these are independent of it).  A table of 2**b slots numbers
    states below 2**b - 1 and keeps 32 - b bits of tag."""
    return np.uint32(h >> np.uint64(32)) & ~tmask


@njit(cache=True, inline="always")
def _index(entry, tmask):
    """The number of the state a table entry holds, or -1 for an empty slot."""
    return np.int64(entry & tmask) - 1


@njit(cache=True, inline="always")
def _entry(state, h, tmask):
    """The table entry for state number `state` of hash h."""
    return np.uint32(state + 1) | _tag(h, tmask)


@njit(cache=True, inline="always")
def _slot(states, table, packed, h, W):
    """Where the state table holds `packed` (hash h), or the empty slot where it would go."""
    return _slot_from(states, table, packed, h, h & np.uint64(table.shape[0] - 1), W)


@njit(cache=True, inline="always")
def _slot_from(states, table, packed, h, slot, W):
    """`_slot`, probing from `slot` on."""
    tmask = np.uint32(table.shape[0] - 1)
    tag = _tag(h, tmask)
    while True:
        entry = table[slot]
        if entry == 0:
            return slot
        if entry & ~tmask == tag:
            got = _index(entry, tmask)
            same = True
            for w in range(W):
                if states[got, w] != packed[w]:
                    same = False
                    break
            if same:
                return slot
        slot = (slot + np.uint64(1)) & np.uint64(tmask)


@njit(cache=True)
def _settle(kinds, pending, first_hit, place, states_kind, found, state, before, op):
    """Record every pending property (state properties or step properties, as `states_kind`
    says) first hit at `place` (`queue_place`); returns how many were settled."""
    settled = 0
    for p in range(kinds.shape[0]):
        if pending[p] and first_hit[p] == place and is_state_kind(kinds[p]) == states_kind:
            pending[p] = 0
            settled += 1
            found[p, 0] = state
            found[p, 1] = before
            found[p, 2] = op
    return settled


@njit(cache=True)
def _next_hit(first_hit, pending, after):
    """The first place in queue order after `after` where a pending property fired (-2: none),
    so that phase two looks at the properties only at those places."""
    best = -2
    for p in range(first_hit.shape[0]):
        place = first_hit[p]
        if pending[p] and place > after and (best < 0 or place < best):
            best = place
    return best


@njit(cache=True)
def _first_hits(hits, nprop):
    """Per property, the first place in queue order (`queue_place`) where any worker saw it
    fire."""
    first_hit = np.full(nprop, -1, dtype=np.int64)
    for p in range(nprop):
        for t in range(hits.shape[0]):
            h = hits[t, p]
            if h >= 0 and (first_hit[p] < 0 or h < first_hit[p]):
                first_hit[p] = h
    return first_hit


@njit(cache=True, inline="always")
def fingerprint_of(h):
    """The fingerprint stored for a state of hash h (never 0, which marks an empty slot)."""
    return h | np.uint64(1)


SEGMENT_BITS = 6
"""The fingerprint table is 2**SEGMENT_BITS segments, chosen by a fingerprint's top bits, each
an open-addressing table of its own that grows on its own: growing one holds a copy of that
segment only, and the segments' sizes (and so the table's load) change in small steps."""
MAX_LOAD_NUM, MAX_LOAD_DEN = 4, 5
"""A segment grows when more than 4/5 of its slots are taken (linear probing over 8-byte slots
stays cheap at that load: no state is read to compare)."""
SEGMENT_SLOTS = 512
"""A segment's slots are a multiple of this (4 KiB), its first size."""


@njit(cache=True, inline="always")
def fingerprint_slot(row, size, fp):
    """Where the segment `row` of `size` slots holds fingerprint fp, or the empty slot where it
    would go: linear probing from the home slot that 32 middle bits of fp scale to the size."""
    usize = np.uint64(size)
    slot = (((fp >> np.uint64(16)) & np.uint64(0xFFFFFFFF)) * usize) >> np.uint64(32)
    while row[slot] != 0 and row[slot] != fp:
        slot += np.uint64(1)
        if slot == usize:
            slot = np.uint64(0)
    return slot


@njit(cache=True, inline="always")
def fingerprint_segment(fp):
    return fp >> np.uint64(64 - SEGMENT_BITS)


@njit(cache=True, inline="always")
def _find_fingerprint(fptable, fpsizes, h):
    """0 when the state of hash h has been seen, else -1."""
    fp = fingerprint_of(h)
    seg = fingerprint_segment(fp)
    row = fptable[seg]
    return 0 if row[fingerprint_slot(row, fpsizes[seg], fp)] != 0 else -1


@njit(cache=True)
def grow_segment(fptable, fpsizes, seg):
    """Give segment `seg` a quarter more slots (at least SEGMENT_SLOTS), in place: its row of the
    table has room up to the row's length; False when it has not."""
    size = fpsizes[seg]
    grown = size + max(SEGMENT_SLOTS, (size // 4) // SEGMENT_SLOTS * SEGMENT_SLOTS)
    row = fptable[seg]
    if grown > row.shape[0]:
        return False
    old = row[:size].copy()
    row[:grown] = 0
    fpsizes[seg] = grown
    for i in range(size):
        fp = old[i]
        if fp != 0:
            row[fingerprint_slot(row, grown, fp)] = fp
    return True


@njit(cache=True)
def add_fingerprint(fptable, fpsizes, fpcounts, fp):
    """Store fp (not stored yet), growing its segment first when it is full enough; False when
    the segment cannot grow and is full."""
    seg = fingerprint_segment(fp)
    if (fpcounts[seg] + 1) * MAX_LOAD_DEN > fpsizes[seg] * MAX_LOAD_NUM:
        if not grow_segment(fptable, fpsizes, seg) and fpcounts[seg] + 1 >= fpsizes[seg]:
            return False
    row = fptable[seg]
    row[fingerprint_slot(row, fpsizes[seg], fp)] = fp
    fpcounts[seg] += 1
    return True


@njit(cache=True)
def insert_block_fingerprints(T, fptable, fpsizes, fpcounts, queue, ctr, lo, hi, counts,
                              buf_packed, buf_hash,
                              buf_op, buf_known, kinds, pending, hits, found, op_counts, maxs,
                              parents, choices, cur):
    """Fingerprint storage's phase two: new states (by fingerprint) go to the end of `queue`,
    with their parent's number and which of its successors they are (`parents`, `choices`,
    from ctr[8] on).  ctr as for `insert_block`, and: 7 the number of the queue's first state,
    8 how many new states this block found, 9 the first deadlock (-1: none).  Returns R_FULL
    (in ctr[6]) when a segment of the fingerprint table can grow no more."""
    W = T[H_W]
    nprop = kinds.shape[0]
    first_hit = _first_hits(hits, nprop)
    n_states, n_edges = ctr[0], ctr[2]
    max_states = ctr[3]
    npending = ctr[5]
    base = ctr[7]
    fresh = 0
    why = R_DONE
    current = lo
    hit = _next_hit(first_hit, pending, -1)
    for src in range(lo, hi):
        current = src
        if ctr[4] == 0 and npending == 0:
            why = R_DECIDED
            break
        number = base + src
        if counts[src - lo, 0] == 0 and ctr[9] < 0:
            unpack(queue[src], T, cur)
            if _unfinished(cur, T):
                ctr[9] = number
        first = counts[src - lo, 1]
        stopped = False
        for j in range(counts[src - lo, 0]):
            row = first + j
            op = buf_op[row]
            op_counts[op & 15] += 1
            place = queue_place(src - lo, j, maxs)
            here = place == hit
            if here:
                npending -= _settle(kinds, pending, first_hit, place, False, found, -1, number,
                                    op)
                hit = _next_hit(first_hit, pending, place)
            n_edges += 1
            if buf_known[row] >= 0:
                continue
            fp = fingerprint_of(buf_hash[row])
            seg = fingerprint_segment(fp)
            segment = fptable[seg]
            if segment[fingerprint_slot(segment, fpsizes[seg], fp)] != 0:
                continue
            if max_states >= 0 and n_states >= max_states:
                why = R_MAX_STATES
                stopped = True
                n_edges -= 1
                break
            if not add_fingerprint(fptable, fpsizes, fpcounts, fp):
                why = R_FULL
                stopped = True
                n_edges -= 1
                break
            end = n_states - base
            for w in range(W):
                queue[end, w] = buf_packed[row, w]
            parents[fresh] = number
            choices[fresh] = j
            fresh += 1
            ctr[8] = fresh
            target = n_states
            n_states += 1
            if here:
                npending -= _settle(kinds, pending, first_hit, place, True, found, target, -1,
                                    -1)
        if stopped:
            break
        current = src + 1
    ctr[0], ctr[1], ctr[2], ctr[5], ctr[6] = n_states, current, n_edges, npending, why
    ctr[8] = fresh


@njit(cache=True)
def insert_block(T, states, table, edge_target, ctr, lo, hi, counts,
                 buf_packed, buf_hash, buf_op, buf_known, kinds, pending, hits, found, op_counts,
                 maxs, resume):
    """Number the block's successors in queue order, and write the targets of the steps out of
    the sources expanded, in order, from edge_target[ctr[2]] on (the sources' out-degrees are
    their successor counts, `counts`).  ctr: 0 states, 1 next state to expand, 2 edges, 3 max
    states (-1: none), 4 the whole graph is needed, 5 properties pending, 6 why it returned.
    The caller has made room for every successor of the block; `resume`: the table has not
    grown since phase one, so the lookups of unknown successors go on where phase one's ended.
    """
    W = T[H_W]
    tmask = np.uint64(table.shape[0] - 1)
    emask = np.uint32(tmask)
    nprop = kinds.shape[0]
    first_hit = _first_hits(hits, nprop)
    n_states, n_edges = ctr[0], ctr[2]
    max_states = ctr[3]
    needs_graph = ctr[4] != 0
    npending = ctr[5]
    why = R_DONE
    current = lo
    last = buf_known.shape[0] - 1
    hit = _next_hit(first_hit, pending, -1)
    for src in range(lo, hi):
        current = src
        if not needs_graph and npending == 0:
            why = R_DECIDED
            break
        base = counts[src - lo, 1]
        stopped = False
        for j in range(counts[src - lo, 0]):
            row = base + j
            # Rows ahead within the worker's part of the buffers: mostly this source's or the
            # next ones' successors (where a span ends, some other ones').
            ahead = buf_known[min(row + AHEAD, last)]
            if resume and ahead <= -2:
                prefetch(table, _recorded_slot(ahead))
            op = buf_op[row]
            op_counts[op & 15] += 1
            place = queue_place(src - lo, j, maxs)
            here = place == hit
            if here:
                npending -= _settle(kinds, pending, first_hit, place, False, found, -1, src, op)
            target = buf_known[row]
            if target >= 0:
                edge_target[n_edges] = target
                n_edges += 1
                if here:
                    hit = _next_hit(first_hit, pending, place)
                continue
            packed = buf_packed[row]
            h = buf_hash[row]
            start = _resumed(target if resume else -1, h, tmask)
            slot = _slot_from(states, table, packed, h, start, W)
            target = _index(table[slot], emask)
            if target < 0:
                if max_states >= 0 and n_states >= max_states:
                    why = R_MAX_STATES
                    stopped = True
                    break
                target = n_states
                for w in range(W):
                    states[target, w] = packed[w]
                table[slot] = _entry(target, h, emask)
                n_states += 1
                if here:
                    npending -= _settle(kinds, pending, first_hit, place, True, found, target,
                                        -1, -1)
            if here:
                hit = _next_hit(first_hit, pending, place)
            edge_target[n_edges] = target
            n_edges += 1
        if stopped:
            break
        current = src + 1
    ctr[0], ctr[1], ctr[2], ctr[5], ctr[6] = n_states, current, n_edges, npending, why


@njit(cache=True)
def merge_seen(seen):
    for t in range(1, seen.shape[0]):
        for c in range(seen.shape[1]):
            for a in range(seen.shape[2]):
                for b in range(seen.shape[3]):
                    if seen[t, c, a, b]:
                        seen[0, c, a, b] = 1


@njit(cache=True)
def rehash(states, n_states, table, W):
    table[:] = 0
    tmask = np.uint64(table.shape[0] - 1)
    emask = np.uint32(tmask)
    for i in range(n_states):
        h = hash_words(states[i], W)
        slot = h & tmask
        while table[slot] != 0:
            slot = (slot + np.uint64(1)) & tmask
        table[slot] = _entry(i, h, emask)


@njit(cache=True)
def one_state_successors(T, words, scratch, ops, cur, packed_out):
    """The successors of one stored state, packed, and their operations (for traces and the
    edge listing of a state)."""
    unpack(words, T, cur)
    k = successors(cur, T, scratch, ops)
    for j in range(k):
        if not pack(scratch[j], T, packed_out[j]):
            return -1
    return k


# --------------------------------------------------------------------------------------------
# The compact graph, and the analyses on it
#
# Exact storage keeps the steps in three arrays: `degree` (each state's number of steps out),
# `found` (a bit per step, in order: set when the step found its target, which then is the
# next state numbered, so the target need not be stored) and `known` (the targets of the other
# steps, in order).  Every state but the initial one is found by exactly one step, so `known`
# holds transitions - states + 1 numbers.  Per CHUNK states, `chunk_steps` and `chunk_known`
# count the steps and the known targets before the chunk's first state: a state's steps are
# listed from there.

CHUNK = 64


@njit(cache=True, inline="always")
def _is_found(found, k):
    return (found[k >> 3] >> (k & 7)) & 1


@njit(cache=True)
def split_steps(targets, m, first, found, known, next_found, n_known):
    """Steps first..first+m-1, whose targets are targets[:m], into `found` and `known`;
    returns the number the next state found will have, and how many targets `known` holds (-1:
    more than it has room for, which a consistent search never gives)."""
    for j in range(m):
        k = first + j
        t = targets[j]
        if t == next_found:
            found[k >> 3] |= np.uint8(1 << (k & 7))
            next_found += 1
        else:
            if n_known >= known.shape[0]:
                return next_found, -1
            known[n_known] = t
            n_known += 1
    return next_found, n_known


@njit(cache=True)
def chunk_counts(degree, n, found):
    """`chunk_steps` and `chunk_known` for states 0..n-1."""
    chunks = n // CHUNK + 1
    chunk_steps = np.zeros(chunks, dtype=np.int64)
    chunk_known = np.zeros(chunks, dtype=np.int64)
    e, kn = 0, 0
    for s in range(n + 1):
        if s % CHUNK == 0:
            chunk_steps[s // CHUNK] = e
            chunk_known[s // CHUNK] = kn
        if s < n:
            for j in range(degree[s]):
                if not _is_found(found, e + j):
                    kn += 1
            e += degree[s]
    return chunk_steps, chunk_known


@njit(cache=True)
def _steps_from(degree, found, chunk_steps, chunk_known, s):
    """The number of state s's first step, and how many known targets come before it."""
    c = s // CHUNK
    e, kn = chunk_steps[c], chunk_known[c]
    for r in range(c * CHUNK, s):
        for j in range(degree[r]):
            if not _is_found(found, e + j):
                kn += 1
        e += degree[r]
    return e, kn


@njit(cache=True, inline="always")
def _decode_steps(degree, found, known, s, e, kn, out, at):
    """The targets of state s's steps, the first numbered e with kn known targets before it,
    into out[at:]; returns the known targets before the next state's steps."""
    for j in range(degree[s]):
        k = e + j
        if _is_found(found, k):
            out[at + j] = k - kn + 1
        else:
            out[at + j] = known[kn]
            kn += 1
    return kn


@njit(cache=True)
def targets_of(degree, found, known, chunk_steps, chunk_known, s, out):
    """The targets of state s's steps into out; returns how many."""
    e, kn = _steps_from(degree, found, chunk_steps, chunk_known, s)
    _decode_steps(degree, found, known, s, e, kn, out, 0)
    return degree[s]


@njit(cache=True)
def parent_of(degree, found, chunk_steps, chunk_known, t):
    """The state whose expansion found state t > 0 (a shortest path's last step): the source of
    the (t-1)-th step that found its target."""
    i = t - 1
    lo, hi = 0, chunk_steps.shape[0] - 1  # the last chunk whose first state has i or fewer
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if chunk_steps[mid] - chunk_known[mid] <= i:
            lo = mid
        else:
            hi = mid - 1
    e = chunk_steps[lo]
    before = e - chunk_known[lo]
    r = lo * CHUNK
    while True:
        for j in range(degree[r]):
            if _is_found(found, e + j):
                if before == i:
                    return r
                before += 1
        e += degree[r]
        r += 1


@njit(cache=True)
def full_edges(degree, found, known, n, n_edges):
    """The graph as edge_start (n + 1) and edge_target arrays: the targets of state i's steps
    are edge_target[edge_start[i]:edge_start[i + 1]]."""
    edge_start = np.zeros(n + 1, dtype=np.int32)
    edge_target = np.zeros(n_edges, dtype=np.int32)
    e, kn = 0, 0
    for s in range(n):
        edge_start[s] = e
        kn = _decode_steps(degree, found, known, s, e, kn, edge_target, e)
        e += degree[s]
    edge_start[n] = e
    return edge_start, edge_target


@njit(cache=True)
def _unfinished(v, T):
    rec = T[H_REC]
    for e in range(v[T[H_N]]):
        if v[e * rec + R_STATUS] <= STOPPING:
            return True
    return False


@njit(cache=True)
def first_deadlock(T, states, degree, expanded, cur):
    for i in range(expanded):
        if degree[i] == 0:
            unpack(states[i], T, cur)
            if _unfinished(cur, T):
                return i
    return -1


@njit(cache=True, parallel=True)
def finished_states(T, states, n, cur, goal):
    """1 for each state in which every execution has finished (goal 0), or that has the fact
    numbered `goal` (`checks.fact_holds`), by every worker at once (`cur` holds one scratch
    vector per worker)."""
    can = np.zeros(n, dtype=np.uint8)
    workers = cur.shape[0]
    per = (n + workers - 1) // workers
    for t in prange(workers):
        here = cur[t]
        for i in range(t * per, min(n, (t + 1) * per)):
            unpack(states[i], T, here)
            if goal == 0:
                if not _unfinished(here, T):
                    can[i] = 1
            elif fact_holds(here, T, goal):
                can[i] = 1
    return can


@njit(cache=True)
def first_stuck(T, states, n, degree, found, known, chunk_steps, chunk_known, cur, goal):
    """The first state from which no path leads to a state where every execution finished
    (goal 0), or to a state with the fact numbered `goal`.

    A state can finish if it is finished or some successor can.  Sweeps over the states from
    the last found to the first, until nothing changes: an edge to a later state (most of them,
    in breadth-first order) is settled in the same sweep, an edge back needs another.  No
    reverse graph is built, so the analysis needs one byte per state beyond the graph."""
    can = finished_states(T, states, n, cur, goal)
    first_step = np.zeros(CHUNK, dtype=np.int64)
    known_before = np.zeros(CHUNK, dtype=np.int64)
    changed = True
    while changed:
        changed = False
        for c in range((n + CHUNK - 1) // CHUNK - 1, -1, -1):
            lo, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
            e, kn = chunk_steps[c], chunk_known[c]
            for r in range(lo, hi):
                first_step[r - lo], known_before[r - lo] = e, kn
                for j in range(degree[r]):
                    if not _is_found(found, e + j):
                        kn += 1
                e += degree[r]
            for s in range(hi - 1, lo - 1, -1):
                if can[s]:
                    continue
                e, kn = first_step[s - lo], known_before[s - lo]
                for j in range(degree[s]):
                    k = e + j
                    if _is_found(found, k):
                        t = k - kn + 1
                    else:
                        t = known[kn]
                        kn += 1
                    if can[t]:
                        can[s] = 1
                        changed = True
                        break
    for i in range(n):
        if not can[i]:
            return i
    return -1
