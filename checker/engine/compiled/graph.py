"""The breadth-first search in compiled form: a block of the queue expanded in parallel, then its
successors numbered in order, so that every worker count finds the same states with the same
numbers, the same shortest traces and the same verdicts.

Phase one (`expand_block`, one slice of the block per worker): each source's successors are
generated, packed and hashed, and every pending property is checked on them; each worker keeps,
per property, the first successor (in queue order) where it fires.  Phase two (`insert_block`,
one thread): successors are looked up in the state table in queue order, new ones are numbered,
edges are recorded, and a property is found at the first place, over all workers, where it fired
-- exactly where a one-worker search would find it.  The state table could be split by hash
between workers (each owning the states that hash to it) without changing this order; phase two
is where that would go.

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
R_DONE, R_DECIDED, R_MAX_STATES = 0, 1, 2


@njit(cache=True, parallel=True)
def expand_block(T, states, table, fptable, sources, lo, hi, nthreads, counts, buf_packed,
                 buf_hash, buf_op, buf_known, kinds, params, pending, hits, seen, scratch, ops,
                 cur, changed, inside, queued, charts, overflow):
    """Successors of sources[lo..hi-1] into the block buffers (counts[source - lo]: how many,
    and the row of the first; rows follow queue order), and per worker and property the first
    row where the property fires (hits, -1: nowhere).
    Exact storage: `sources` is `states`, looked up in `table`; fingerprint storage: `sources`
    is the queue, and a successor is known when its fingerprint is in `fptable`."""
    W = T[H_W]
    nprop = kinds.shape[0]
    per = (hi - lo + nthreads - 1) // nthreads
    # Each worker's part of the buffers starts at the same row in every block, whatever the
    # block's size, and the worker writes its sources' successors one after another from that
    # row: only the first rows of each part are ever touched (and so made resident).
    region = buf_op.shape[0] // nthreads
    for t in prange(nthreads):
        for p in range(nprop):
            hits[t, p] = -1
        first = lo + t * per
        last = min(hi, first + per)
        here = cur[t]
        row = t * region
        for src in range(first, last):
            unpack(sources[src], T, here)
            k = successors(here, T, scratch[t], ops[t])
            counts[src - lo, 0] = k
            counts[src - lo, 1] = row
            for j in range(k):
                after = scratch[t, j]
                op = ops[t, j]
                packed = buf_packed[row]
                if not repack(sources[src], here, after, T, packed):
                    overflow[t] += 1
                h = hash_words(packed, W)
                buf_hash[row] = h
                buf_op[row] = op
                # Known already (found in an earlier block): its state properties were checked
                # when it was found.  Unknown ones are numbered in phase two.
                if fptable.shape[0] > 1:
                    known = _find_fingerprint(fptable, h)
                else:
                    known = _find(states, table, packed, h, W)
                buf_known[row] = known
                nch = changed_executions(here, after, T, changed[t])
                if charts:
                    record_charts(here, after, T, seen[t], changed[t], nch)
                check_all(here, after, T, op, known, kinds, params, pending, hits[t], row,
                          changed[t], nch, inside[t], queued[t])
                row += 1


@njit(cache=True, inline="always")
def _slot(states, table, packed, h, W):
    """Where the state table holds `packed` (hash h), or the empty slot where it would go."""
    tmask = np.uint64(table.shape[0] - 1)
    slot = h & tmask
    while True:
        got = table[slot] - 1
        if got < 0:
            return slot
        same = True
        for w in range(W):
            if states[got, w] != packed[w]:
                same = False
                break
        if same:
            return slot
        slot = (slot + np.uint64(1)) & tmask


@njit(cache=True, inline="always")
def _find(states, table, packed, h, W):
    """The number of a stored state, or -1."""
    return table[_slot(states, table, packed, h, W)] - 1


@njit(cache=True)
def _settle(kinds, pending, first_hit, row, states_kind, found, state, before, op):
    """Record every pending property (state properties or step properties, as `states_kind`
    says) first hit at `row`; returns how many were settled."""
    settled = 0
    for p in range(kinds.shape[0]):
        if pending[p] and first_hit[p] == row and is_state_kind(kinds[p]) == states_kind:
            pending[p] = 0
            settled += 1
            found[p, 0] = state
            found[p, 1] = before
            found[p, 2] = op
    return settled


@njit(cache=True)
def _next_hit(first_hit, pending, after):
    """The first row after `after` where a pending property fired (-2: none), so that phase two
    looks at the properties only at those rows."""
    best = -2
    for p in range(first_hit.shape[0]):
        row = first_hit[p]
        if pending[p] and row > after and (best < 0 or row < best):
            best = row
    return best


@njit(cache=True)
def _first_hits(hits, nprop):
    """Per property, the first block row (in queue order) where any worker saw it fire."""
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


@njit(cache=True, inline="always")
def _fingerprint_slot(fptable, fp):
    """Where the table holds fingerprint fp, or the empty slot where it would go."""
    tmask = np.uint64(fptable.shape[0] - 1)
    slot = fp & tmask
    while fptable[slot] != 0 and fptable[slot] != fp:
        slot = (slot + np.uint64(1)) & tmask
    return slot


@njit(cache=True, inline="always")
def _find_fingerprint(fptable, h):
    """0 when the state of hash h has been seen, else -1."""
    return 0 if fptable[_fingerprint_slot(fptable, fingerprint_of(h))] != 0 else -1


@njit(cache=True)
def insert_block_fingerprints(T, fptable, queue, ctr, lo, hi, counts, buf_packed, buf_hash,
                              buf_op, buf_known, kinds, pending, hits, found, op_counts, maxs,
                              parents, choices, cur):
    """Fingerprint storage's phase two: new states (by fingerprint) go to the end of `queue`,
    with their parent's number and which of its successors they are (`parents`, `choices`,
    from ctr[8] on).  ctr as for `insert_block`, and: 7 the number of the queue's first state,
    8 how many new states this block found, 9 the first deadlock (-1: none)."""
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
            here = row == hit
            if here:
                npending -= _settle(kinds, pending, first_hit, row, False, found, -1, number, op)
                hit = _next_hit(first_hit, pending, row)
            n_edges += 1
            if buf_known[row] >= 0:
                continue
            fp = fingerprint_of(buf_hash[row])
            slot = _fingerprint_slot(fptable, fp)
            if fptable[slot] != 0:
                continue
            if max_states >= 0 and n_states >= max_states:
                why = R_MAX_STATES
                stopped = True
                n_edges -= 1
                break
            fptable[slot] = fp
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
                npending -= _settle(kinds, pending, first_hit, row, True, found, target, -1, -1)
        if stopped:
            break
        current = src + 1
    ctr[0], ctr[1], ctr[2], ctr[5], ctr[6] = n_states, current, n_edges, npending, why
    ctr[8] = fresh


@njit(cache=True)
def rehash_fingerprints(old, new):
    for i in range(old.shape[0]):
        fp = old[i]
        if fp == 0:
            continue
        new[_fingerprint_slot(new, fp)] = fp


@njit(cache=True)
def insert_block(T, states, table, edge_start, edge_target, ctr, lo, hi, counts,
                 buf_packed, buf_hash, buf_op, buf_known, kinds, pending, hits, found, op_counts,
                 maxs):
    """Number the block's successors in queue order.  ctr: 0 states, 1 next state to expand,
    2 edges, 3 max states (-1: none), 4 the whole graph is needed, 5 properties pending, 6 why
    it returned.  The caller has made room for every successor of the block."""
    W = T[H_W]
    nprop = kinds.shape[0]
    first_hit = _first_hits(hits, nprop)
    n_states, n_edges = ctr[0], ctr[2]
    max_states = ctr[3]
    needs_graph = ctr[4] != 0
    npending = ctr[5]
    why = R_DONE
    current = lo
    hit = _next_hit(first_hit, pending, -1)
    for src in range(lo, hi):
        current = src
        if not needs_graph and npending == 0:
            why = R_DECIDED
            break
        edge_start[src] = n_edges
        base = counts[src - lo, 1]
        stopped = False
        for j in range(counts[src - lo, 0]):
            row = base + j
            op = buf_op[row]
            op_counts[op & 15] += 1
            here = row == hit
            if here:
                npending -= _settle(kinds, pending, first_hit, row, False, found, -1, src, op)
            target = buf_known[row]
            if target >= 0:
                edge_target[n_edges] = target
                n_edges += 1
                if here:
                    hit = _next_hit(first_hit, pending, row)
                continue
            packed = buf_packed[row]
            slot = _slot(states, table, packed, buf_hash[row], W)
            target = table[slot] - 1
            if target < 0:
                if max_states >= 0 and n_states >= max_states:
                    why = R_MAX_STATES
                    stopped = True
                    break
                target = n_states
                for w in range(W):
                    states[target, w] = packed[w]
                table[slot] = target + 1
                n_states += 1
                if here:
                    npending -= _settle(kinds, pending, first_hit, row, True, found, target, -1,
                                        -1)
            if here:
                hit = _next_hit(first_hit, pending, row)
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
    for i in range(n_states):
        slot = hash_words(states[i], W) & tmask
        while table[slot] != 0:
            slot = (slot + np.uint64(1)) & tmask
        table[slot] = i + 1


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
# Graph analyses on the compact arrays


@njit(cache=True)
def parents_from_edges(edge_start, edge_target, n, expanded):
    """Each state's parent: the state whose expansion found it, which is the source of the
    first edge into it (states are expanded in order, their successors listed in order)."""
    parent = np.full(n, -1, dtype=np.int32)
    parent[0] = 0
    for s in range(expanded + 1 if expanded < n else n):
        for k in range(edge_start[s], edge_start[s + 1]):
            t = edge_target[k]
            if parent[t] < 0:
                parent[t] = s
    return parent


@njit(cache=True)
def depths(parent, n):
    d = np.zeros(n, dtype=np.int32)
    for i in range(1, n):
        d[i] = d[parent[i]] + 1
    return d


@njit(cache=True)
def _unfinished(v, T):
    rec = T[H_REC]
    for e in range(v[T[H_N]]):
        if v[e * rec + R_STATUS] <= STOPPING:
            return True
    return False



@njit(cache=True)
def first_deadlock(T, states, edge_start, expanded, cur):
    for i in range(expanded):
        if edge_start[i] == edge_start[i + 1]:
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
def first_stuck(T, states, n, edge_start, edge_target, cur, goal):
    """The first state from which no path leads to a state where every execution finished
    (goal 0), or to a state with the fact numbered `goal`.

    A state can finish if it is finished or some successor can.  Sweeps over the states from
    the last found to the first, until nothing changes: an edge to a later state (most of them,
    in breadth-first order) is settled in the same sweep, an edge back needs another.  No
    reverse graph is built, so the analysis needs one byte per state beyond the graph."""
    can = finished_states(T, states, n, cur, goal)
    changed = True
    while changed:
        changed = False
        for s in range(n - 1, -1, -1):
            if can[s]:
                continue
            for k in range(edge_start[s], edge_start[s + 1]):
                if can[edge_target[k]]:
                    can[s] = 1
                    changed = True
                    break
    for i in range(n):
        if not can[i]:
            return i
    return -1
