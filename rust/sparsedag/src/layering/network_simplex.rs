//! Network simplex layering (Gansner, Koutsofios, North, Vo, "A technique for drawing directed
//! graphs", IEEE TSE 1993): the layering with the smallest total edge span, i.e. the fewest
//! dummy nodes, among all layerings with layer(v) - layer(u) >= 1 on every edge.
//!
//! The problem is the LP  min sum_(u,v) (y_v - y_u)  s.t.  y_v - y_u >= 1, whose dual is a
//! transshipment problem; the method is the dual network simplex on a spanning tree of tight
//! edges. Because every edge has weight 1, the cut value of a tree edge equals, up to its
//! orientation, the sum of b(x) = outdeg(x) - indeg(x) over the subtree below it: internal edges
//! of the subtree cancel and only the edges crossing the cut remain. The solver therefore keeps
//! one integer per node (that subtree sum) instead of per-edge cut values, plus the subtree size.
//!
//! Per pivot the work is the tree path around the cycle closed by the entering edge plus a scan
//! of the smaller of the two sides the leaving edge separates, which stops at the first tight
//! crossing edge; only a non-degenerate pivot visits that whole side, to shift its ranks
//! (shifting either side is allowed because components are normalised at the end). No postorder
//! numbering is kept: renumbering the subtree of the cycle's apex after each pivot was measured
//! to visit over twice as many nodes as the sides themselves. Membership in the moving
//! subtree is decided by walking up to its top or to a node already classified, remembering the
//! answer.
//!
//! Almost all pivots on large graphs are degenerate (the entering edge is already tight), and
//! their number depends heavily on which negative cut leaves. Measured on random DAGs, the rule
//! that works best takes the tree edge with the largest |cut value| per node of the smaller side
//! it separates: large cuts repair much at once, small sides keep the scan and the shift cheap.
//! Cut values and sizes only change on the pivot's cycle, so an indexed heap re-keyed along the
//! cycle finds that edge in O(log n); the cyclic scan of Gansner et al. (first negative cut
//! values, resumed where it stopped) took up to 40x more pivots, or with a long candidate
//! list spent most of the running time scanning.
//!
//! Initial ranking: longest path, then sweeps of single-node moves to the cheaper end of each
//! node's free interval, which cuts the non-degenerate pivots by more than half.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::graph::Dag;
use crate::layering::asap;

const NONE: u32 = u32::MAX;

/// Sweeps of single-node moves that improve the longest-path ranking before the tree is built;
/// they converge in two or three sweeps on random DAGs and cut the pivot count.
const BALANCE_SWEEPS: usize = 8;

/// Pivots (or tree insertions) between two cancellation polls.
const POLL_EVERY: u32 = 4096;

/// Minimum total span layering by network simplex; every weakly connected component is shifted so
/// that its smallest layer is 0. Deterministic for a given graph.
pub fn network_simplex(dag: &Dag, cancel: &Cancel) -> Result<Vec<u32>> {
    let n = dag.num_nodes();
    if n == 0 {
        return Ok(Vec::new());
    }
    if dag.num_edges() == 0 {
        return Ok(vec![0; n]);
    }
    if dag.num_edges() >= u32::MAX as usize {
        return Err(Error::TooLarge {
            what: "the number of edges",
            value: dag.num_edges() as u64,
            limit: u32::MAX as u64 - 1,
        });
    }
    let mut s = Simplex::new(dag);
    balance(dag, &mut s.rank);
    s.feasible_tree(cancel)?;
    s.init_subtree_sums();
    s.run(cancel)?;
    Ok(s.normalised())
}

/// Moves single nodes to the end of their free interval that lowers the total span (towards the
/// side with more incident edges) until a sweep changes nothing or the sweep budget is spent.
fn balance(dag: &Dag, rank: &mut [i64]) {
    let topo = dag.topological_order();
    for sweep in 0..BALANCE_SWEEPS {
        let mut moved = false;
        let mut step = |v: u32, rank: &mut [i64]| {
            let d = dag.in_degree(v) as i64 - dag.out_degree(v) as i64;
            let target = if d > 0 {
                dag.predecessors(v)
                    .iter()
                    .map(|&u| rank[u as usize] + 1)
                    .max()
            } else if d < 0 {
                dag.successors(v)
                    .iter()
                    .map(|&w| rank[w as usize] - 1)
                    .min()
            } else {
                None
            };
            if let Some(t) = target {
                if t != rank[v as usize] {
                    rank[v as usize] = t;
                    moved = true;
                }
            }
        };
        // Alternating directions lets a move propagate along a chain within one sweep.
        if sweep % 2 == 0 {
            for &v in topo.iter().rev() {
                step(v, rank);
            }
        } else {
            for &v in topo {
                step(v, rank);
            }
        }
        if !moved {
            break;
        }
    }
}

/// Tree edges with a negative cut value (named by their lower node), keyed by |cut| / (nodes on
/// the smaller side), best first, ties to the smaller node id. Indexed, so a node whose cut
/// changes is re-keyed in place: a heap with lazily invalidated entries grew to many times the
/// live candidates and its comparisons dominated the running time.
struct Queue {
    heap: Vec<u32>,
    pos: Vec<u32>,
    key: Vec<f64>,
}

impl Queue {
    fn new(n: usize) -> Self {
        Queue {
            heap: Vec::new(),
            pos: vec![NONE; n],
            key: vec![0.0; n],
        }
    }

    #[inline]
    fn before(&self, a: u32, b: u32) -> bool {
        let (ka, kb) = (self.key[a as usize], self.key[b as usize]);
        ka > kb || (ka == kb && a < b)
    }

    fn place(&mut self, i: usize, v: u32) {
        self.heap[i] = v;
        self.pos[v as usize] = i as u32;
    }

    fn sift_up(&mut self, mut i: usize) {
        let v = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / 2;
            let p = self.heap[parent];
            if !self.before(v, p) {
                break;
            }
            self.place(i, p);
            i = parent;
        }
        self.place(i, v);
    }

    fn sift_down(&mut self, mut i: usize) {
        let v = self.heap[i];
        let len = self.heap.len();
        loop {
            let mut child = 2 * i + 1;
            if child >= len {
                break;
            }
            if child + 1 < len && self.before(self.heap[child + 1], self.heap[child]) {
                child += 1;
            }
            let c = self.heap[child];
            if !self.before(c, v) {
                break;
            }
            self.place(i, c);
            i = child;
        }
        self.place(i, v);
    }

    /// Sets v's key, inserting or removing it as needed (None = not a candidate).
    fn set(&mut self, v: u32, key: Option<f64>) {
        let i = self.pos[v as usize];
        match (key, i) {
            (Some(k), NONE) => {
                self.key[v as usize] = k;
                self.heap.push(v);
                let last = self.heap.len() - 1;
                self.sift_up(last);
            }
            (Some(k), i) => {
                let old = self.key[v as usize];
                self.key[v as usize] = k;
                if k > old {
                    self.sift_up(i as usize);
                } else {
                    self.sift_down(i as usize);
                }
            }
            (None, NONE) => {}
            (None, i) => self.remove_at(i as usize),
        }
    }

    fn remove_at(&mut self, i: usize) {
        let v = self.heap[i];
        self.pos[v as usize] = NONE;
        let Some(last) = self.heap.pop() else {
            return;
        };
        if i < self.heap.len() {
            self.place(i, last);
            self.sift_down(i);
            let j = self.pos[last as usize] as usize;
            self.sift_up(j);
        }
    }

    fn pop(&mut self) -> Option<u32> {
        let &top = self.heap.first()?;
        self.remove_at(0);
        Some(top)
    }
}

struct Simplex<'a> {
    dag: &'a Dag,
    rank: Vec<i64>,
    /// Tree parent; NONE for the root of a component's tree.
    parent: Vec<u32>,
    /// Whether v is the tail of the graph edge joining it to its parent (edge v -> parent).
    up: Vec<bool>,
    first_child: Vec<u32>,
    next_sib: Vec<u32>,
    prev_sib: Vec<u32>,
    /// Number of nodes in the subtree of v.
    size: Vec<u32>,
    /// Sum of outdeg - indeg over the subtree of v; the cut value of v's parent edge up to sign.
    net: Vec<i64>,
    /// Root of the tree (= weakly connected component) v belongs to. Never changes: the moved
    /// subtree hangs below a tree edge, so it cannot contain the root.
    root_of: Vec<u32>,
    mark: Vec<u32>,
    stamp: u32,
    side: Vec<u32>,
    queue: Queue,
    /// Nodes whose cut value or size the current pivot changed.
    touched: Vec<u32>,
}

impl<'a> Simplex<'a> {
    fn new(dag: &'a Dag) -> Self {
        let n = dag.num_nodes();
        Simplex {
            dag,
            rank: asap(dag).into_iter().map(i64::from).collect(),
            parent: vec![NONE; n],
            up: vec![false; n],
            first_child: vec![NONE; n],
            next_sib: vec![NONE; n],
            prev_sib: vec![NONE; n],
            size: vec![1; n],
            net: vec![0; n],
            root_of: vec![NONE; n],
            mark: vec![0; n],
            stamp: 0,
            side: Vec::new(),
            queue: Queue::new(n),
            touched: Vec::new(),
        }
    }

    fn next_stamp(&mut self) -> u32 {
        if self.stamp == u32::MAX {
            self.mark.fill(0);
            self.stamp = 0;
        }
        self.stamp += 1;
        self.stamp
    }

    fn link(&mut self, v: u32, p: u32) {
        let first = self.first_child[p as usize];
        self.next_sib[v as usize] = first;
        self.prev_sib[v as usize] = NONE;
        if first != NONE {
            self.prev_sib[first as usize] = v;
        }
        self.first_child[p as usize] = v;
        self.parent[v as usize] = p;
    }

    fn unlink(&mut self, v: u32) {
        let (prev, next) = (self.prev_sib[v as usize], self.next_sib[v as usize]);
        if prev != NONE {
            self.next_sib[prev as usize] = next;
        } else {
            self.first_child[self.parent[v as usize] as usize] = next;
        }
        if next != NONE {
            self.prev_sib[next as usize] = prev;
        }
    }

    /// Grows one tight spanning tree per component, Prim style: tight edges first, breadth first
    /// (a shallow tree keeps the pivot cycles short; depth first made them ten times longer),
    /// and when none is left the incident edge of least slack, after shifting the whole tree so
    /// that edge becomes tight. A shift moves every tree node by the same amount, so it is kept as a
    /// lazy offset: ranks of tree nodes are stored relative to it, and the heap keys of edges
    /// leaving and entering the tree are offset-free (their slack is key - offset and
    /// key + offset respectively).
    fn feasible_tree(&mut self, cancel: &Cancel) -> Result<()> {
        let n = self.dag.num_nodes();
        let mut in_tree = vec![false; n];
        let mut tight: VecDeque<(u32, u32, bool)> = VecDeque::new();
        // (key, tree node, outside node)
        let mut out_heap: BinaryHeap<Reverse<(i64, u32, u32)>> = BinaryHeap::new();
        let mut in_heap: BinaryHeap<Reverse<(i64, u32, u32)>> = BinaryHeap::new();
        let mut members: Vec<u32> = Vec::new();
        let mut polls = 0u32;
        let mut placed = 0u64;
        cancel.begin_stage("feasible tree", n as u64);
        for root in 0..n as u32 {
            if in_tree[root as usize] {
                continue;
            }
            let mut offset = 0i64;
            members.clear();
            let mut next = Some((root, NONE));
            while let Some((v, p)) = next {
                polls += 1;
                placed += 1;
                if polls == POLL_EVERY {
                    polls = 0;
                    cancel.check()?;
                    cancel.advance_to(placed);
                }
                // v is outside the tree, so its rank is absolute; store it relative to offset.
                in_tree[v as usize] = true;
                members.push(v);
                self.root_of[v as usize] = root;
                self.rank[v as usize] -= offset;
                if p != NONE {
                    self.link(v, p);
                }
                let rv = self.rank[v as usize];
                for &w in self.dag.successors(v) {
                    if !in_tree[w as usize] {
                        let key = self.rank[w as usize] - rv - 1;
                        if key == offset {
                            tight.push_back((w, v, false));
                        } else {
                            out_heap.push(Reverse((key, v, w)));
                        }
                    }
                }
                for &u in self.dag.predecessors(v) {
                    if !in_tree[u as usize] {
                        let key = rv - self.rank[u as usize] - 1;
                        if key == -offset {
                            tight.push_back((u, v, true));
                        } else {
                            in_heap.push(Reverse((key, v, u)));
                        }
                    }
                }
                next = None;
                while let Some((w, t, w_is_tail)) = tight.pop_front() {
                    if !in_tree[w as usize] {
                        self.up[w as usize] = w_is_tail;
                        next = Some((w, t));
                        break;
                    }
                }
                if next.is_some() {
                    continue;
                }
                while matches!(out_heap.peek(), Some(Reverse((_, _, w))) if in_tree[*w as usize]) {
                    out_heap.pop();
                }
                while matches!(in_heap.peek(), Some(Reverse((_, _, u))) if in_tree[*u as usize]) {
                    in_heap.pop();
                }
                let out_slack = out_heap.peek().map(|Reverse((k, _, _))| k - offset);
                let in_slack = in_heap.peek().map(|Reverse((k, _, _))| k + offset);
                match (out_slack, in_slack) {
                    (Some(so), si) if si.is_none_or(|si| so <= si) => {
                        let Some(Reverse((_, t, w))) = out_heap.pop() else {
                            break;
                        };
                        // Moving the tree down by the slack makes t -> w tight.
                        offset += so;
                        self.up[w as usize] = false;
                        next = Some((w, t));
                    }
                    (_, Some(si)) => {
                        let Some(Reverse((_, t, u))) = in_heap.pop() else {
                            break;
                        };
                        offset -= si;
                        self.up[u as usize] = true;
                        next = Some((u, t));
                    }
                    _ => {}
                }
            }
            for &v in &members {
                self.rank[v as usize] += offset;
            }
        }
        Ok(())
    }

    /// Subtree sizes and net degrees, children before parents (reverse of a preorder).
    fn init_subtree_sums(&mut self) {
        let n = self.dag.num_nodes();
        let mut order = Vec::with_capacity(n);
        for r in 0..n as u32 {
            if self.parent[r as usize] == NONE {
                self.collect_subtree(r, &mut order);
            }
        }
        for &v in order.iter().rev() {
            let v = v as usize;
            self.net[v] +=
                self.dag.out_degree(v as u32) as i64 - self.dag.in_degree(v as u32) as i64;
            let p = self.parent[v];
            if p != NONE {
                self.net[p as usize] += self.net[v];
                self.size[p as usize] += self.size[v];
            }
        }
    }

    /// Appends the subtree of x in preorder, without recursion (trees can be 1M-node paths).
    fn collect_subtree(&self, x: u32, out: &mut Vec<u32>) {
        let mut v = x;
        loop {
            out.push(v);
            let c = self.first_child[v as usize];
            if c != NONE {
                v = c;
                continue;
            }
            loop {
                if v == x {
                    return;
                }
                let s = self.next_sib[v as usize];
                if s != NONE {
                    v = s;
                    break;
                }
                v = self.parent[v as usize];
            }
        }
    }

    /// Whether w lies in the subtree marked `s_in` at its top (nodes already known are marked
    /// `s_in` or `s_out`); every node on the walk is marked with the answer.
    fn in_subtree(&mut self, w: u32, s_in: u32, s_out: u32) -> bool {
        let mut u = w;
        let answer = loop {
            let m = self.mark[u as usize];
            if m == s_in {
                break s_in;
            }
            if m == s_out {
                break s_out;
            }
            let p = self.parent[u as usize];
            if p == NONE {
                break s_out;
            }
            u = p;
        };
        let mut u = w;
        while self.mark[u as usize] != answer {
            self.mark[u as usize] = answer;
            u = self.parent[u as usize];
            if u == NONE {
                break;
            }
        }
        answer == s_in
    }

    /// The node after v in a preorder of the subtree of `top` that leaves out the subtree of
    /// `skip`; NONE at the end.
    fn next_preorder(&self, v: u32, top: u32, skip: u32) -> u32 {
        let skipped = |c: u32| {
            if c == skip && c != NONE {
                self.next_sib[c as usize]
            } else {
                c
            }
        };
        let c = skipped(self.first_child[v as usize]);
        if c != NONE {
            return c;
        }
        let mut v = v;
        while v != top {
            let s = skipped(self.next_sib[v as usize]);
            if s != NONE {
                return s;
            }
            v = self.parent[v as usize];
        }
        NONE
    }

    #[inline]
    fn cut(&self, v: usize) -> i64 {
        if self.up[v] {
            self.net[v]
        } else {
            -self.net[v]
        }
    }

    /// Queues v if its parent edge has a negative cut value, and unqueues it otherwise.
    fn offer(&mut self, v: u32) {
        let vu = v as usize;
        let mut key = None;
        if self.parent[vu] != NONE {
            let cut = self.cut(vu);
            if cut < 0 {
                let size = self.size[vu] as u64;
                let total = self.size[self.root_of[vu] as usize] as u64;
                key = Some(cut.unsigned_abs() as f64 / size.min(total - size) as f64);
            }
        }
        self.queue.set(v, key);
    }

    fn leave(&mut self) -> Option<u32> {
        self.queue.pop()
    }

    fn run(&mut self, cancel: &Cancel) -> Result<()> {
        self.queue_all();
        let mut polls = 0u32;
        let mut pivots = 0u64;
        // How many pivots remain is unknown: the count alone is reported.
        cancel.begin_stage("pivots", 0);
        while let Some(x) = self.leave() {
            polls += 1;
            pivots += 1;
            if polls == POLL_EVERY {
                polls = 0;
                cancel.check()?;
                cancel.advance_to(pivots);
            }
            if !self.pivot(x) {
                // Unreachable: a negative cut value implies an edge crossing the cut the other way.
                return Err(Error::InvalidArgument(
                    "network simplex found no entering edge (internal error)".into(),
                ));
            }
            self.requeue();
        }
        Ok(())
    }

    fn queue_all(&mut self) {
        for v in 0..self.parent.len() as u32 {
            self.offer(v);
        }
    }

    /// Re-keys the nodes whose cut value or subtree size the last pivot changed.
    fn requeue(&mut self) {
        let touched = std::mem::take(&mut self.touched);
        for &v in &touched {
            self.offer(v);
        }
        self.touched = touched;
        self.touched.clear();
    }

    /// Replaces the tree edge above x (negative cut value) by the non-tree edge of least slack
    /// that crosses the same cut in the opposite direction.
    fn pivot(&mut self, x: u32) -> bool {
        let xu = x as usize;
        let root = self.root_of[xu];
        let (size_s, net_s) = (self.size[xu], self.net[xu]);
        // The subtree S of x is the tail side of the leaving edge iff x is that edge's tail; the
        // entering edge runs from the head side to the tail side.
        let s_is_tail = self.up[xu];
        let mut side = std::mem::take(&mut self.side);
        side.clear();
        let scan_s = 2 * size_s as u64 <= self.size[root as usize] as u64;
        let side_is_tail = s_is_tail == scan_s;
        // Membership in S is decided lazily (walk up to x or to a classified node, remembering
        // the answer), so a degenerate pivot that finds a tight edge early never pays for the
        // whole side; marking the side up front was measured over twice as slow.
        let s_in = self.next_stamp();
        let s_out = self.next_stamp();
        self.mark[xu] = s_in;
        self.mark[self.parent[xu] as usize] = s_out;
        let own = if scan_s { s_in } else { s_out };
        let (top, skip) = if scan_s { (x, NONE) } else { (root, x) };
        // Entering edge (side node, other node) of least slack.
        let mut best: Option<(i64, u32, u32)> = None;
        let mut v = top;
        'scan: while v != NONE {
            side.push(v);
            self.mark[v as usize] = own;
            let rv = self.rank[v as usize];
            let others = if side_is_tail {
                self.dag.predecessors(v)
            } else {
                self.dag.successors(v)
            };
            for &w in others {
                let slack = (rv - self.rank[w as usize]).abs() - 1;
                if best.is_some_and(|(b, _, _)| slack >= b) {
                    continue;
                }
                let in_s = self.in_subtree(w, s_in, s_out);
                if in_s == scan_s {
                    continue;
                }
                best = Some((slack, v, w));
                if slack == 0 {
                    break 'scan;
                }
            }
            v = self.next_preorder(v, top, skip);
        }
        let Some((delta, v, w)) = best else {
            self.side = side;
            return false;
        };
        if delta != 0 {
            // Tail side up or head side down: the entering edge becomes tight, every other edge
            // from head to tail side loses at most its slack, edges the other way only gain.
            let shift = if side_is_tail { -delta } else { delta };
            for &u in &side {
                self.rank[u as usize] += shift;
            }
        }
        self.side = side;
        let (a, c) = if scan_s { (v, w) } else { (w, v) };
        let p = self.parent[xu];

        // Ancestors between the old and the new attachment point lose or gain S.
        let apex = self.common_ancestor(p, c);
        self.touched.push(x);
        self.touched.push(a);
        let mut u = p;
        while u != apex {
            self.touched.push(u);
            self.net[u as usize] -= net_s;
            self.size[u as usize] -= size_s;
            u = self.parent[u as usize];
        }
        let mut u = c;
        while u != apex {
            self.touched.push(u);
            self.net[u as usize] += net_s;
            self.size[u as usize] += size_s;
            u = self.parent[u as usize];
        }

        // Re-root S at a: along the path a .. x each node's new subtree is S minus the old
        // subtree of the node below it, and its parent edge is that node's old one reversed.
        // Detach every node of the path from its old parent while that link is still intact.
        self.unlink(x);
        if a != x {
            self.unlink(a);
        }
        let mut prev = a;
        let mut cur = self.parent[a as usize];
        let (mut prev_net, mut prev_size, mut prev_up) = (
            self.net[a as usize],
            self.size[a as usize],
            self.up[a as usize],
        );
        while prev != x {
            let cu = cur as usize;
            let next = self.parent[cu];
            let saved = (self.net[cu], self.size[cu], self.up[cu]);
            self.touched.push(cur);
            if cur != x {
                self.unlink(cur);
            }
            self.link(cur, prev);
            self.up[cu] = !prev_up;
            self.net[cu] = net_s - prev_net;
            self.size[cu] = size_s - prev_size;
            prev = cur;
            cur = next;
            (prev_net, prev_size, prev_up) = saved;
        }
        self.link(a, c);
        self.up[a as usize] = !s_is_tail;
        self.net[a as usize] = net_s;
        self.size[a as usize] = size_s;
        true
    }

    /// Lowest common ancestor by walking up from both nodes in turn and stamping the nodes each
    /// walk passes; costs O(distance to the ancestor), not O(depth) of either.
    fn common_ancestor(&mut self, a: u32, b: u32) -> u32 {
        if a == b {
            return a;
        }
        let sa = self.next_stamp();
        let sb = self.next_stamp();
        let (mut x, mut y) = (a, b);
        self.mark[x as usize] = sa;
        self.mark[y as usize] = sb;
        loop {
            let px = self.parent[x as usize];
            if px != NONE {
                x = px;
                if self.mark[x as usize] == sb {
                    return x;
                }
                self.mark[x as usize] = sa;
            }
            let py = self.parent[y as usize];
            if py != NONE {
                y = py;
                if self.mark[y as usize] == sa {
                    return y;
                }
                self.mark[y as usize] = sb;
            }
        }
    }

    fn normalised(&self) -> Vec<u32> {
        let n = self.rank.len();
        let mut low = vec![i64::MAX; n];
        for v in 0..n {
            let r = self.root_of[v] as usize;
            low[r] = low[r].min(self.rank[v]);
        }
        (0..n)
            .map(|v| (self.rank[v] - low[self.root_of[v] as usize]) as u32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::generators::random_dag;

    impl Simplex<'_> {
        /// Recomputes everything the pivots maintain incrementally and compares.
        fn check_invariants(&self) {
            let n = self.dag.num_nodes();
            let mut size = vec![0u32; n];
            let mut net = vec![0i64; n];
            for v in 0..n as u32 {
                let b = self.dag.out_degree(v) as i64 - self.dag.in_degree(v) as i64;
                let mut u = v;
                let mut steps = 0;
                loop {
                    size[u as usize] += 1;
                    net[u as usize] += b;
                    let p = self.parent[u as usize];
                    if p == NONE {
                        assert_eq!(u, self.root_of[v as usize]);
                        break;
                    }
                    let (t, h) = if self.up[u as usize] { (u, p) } else { (p, u) };
                    assert!(
                        self.dag.successors(t).contains(&h),
                        "tree edge not in graph"
                    );
                    assert_eq!(
                        self.rank[h as usize] - self.rank[t as usize],
                        1,
                        "loose tree edge"
                    );
                    u = p;
                    steps += 1;
                    assert!(steps <= n, "parent cycle");
                }
            }
            assert_eq!(size, self.size);
            assert_eq!(net, self.net);
            for (u, v) in self.dag.edge_iter() {
                assert!(self.rank[v as usize] - self.rank[u as usize] >= 1);
            }
            for v in 0..n as u32 {
                let mut kids = Vec::new();
                let mut c = self.first_child[v as usize];
                while c != NONE {
                    assert_eq!(self.parent[c as usize], v);
                    kids.push(c);
                    c = self.next_sib[c as usize];
                }
                let expect = (0..n as u32)
                    .filter(|&c| self.parent[c as usize] == v)
                    .count();
                assert_eq!(kids.len(), expect);
            }
        }
    }

    fn total_span(g: &Dag, layer: &[u32]) -> u64 {
        crate::layering::layering_metrics(g, layer)
            .unwrap()
            .total_span
    }

    /// Smallest total span over all layerings with layers in 0..n, by depth-first enumeration in
    /// topological order (each node at least one below its highest predecessor).
    fn brute_force_span(g: &Dag) -> u64 {
        fn go(g: &Dag, topo: &[u32], i: usize, layer: &mut [u32], best: &mut u64) {
            if i == topo.len() {
                *best = (*best).min(total_span(g, layer));
                return;
            }
            let v = topo[i];
            let low = g
                .predecessors(v)
                .iter()
                .map(|&u| layer[u as usize] + 1)
                .max()
                .unwrap_or(0);
            for l in low..g.num_nodes() as u32 {
                layer[v as usize] = l;
                go(g, topo, i + 1, layer, best);
            }
        }
        let mut layer = vec![0; g.num_nodes()];
        let mut best = u64::MAX;
        go(g, g.topological_order(), 0, &mut layer, &mut best);
        best
    }

    #[test]
    fn matches_brute_force_on_tiny_dags() {
        for seed in 0..300 {
            let n = 1 + seed % 7;
            let p = [0.3, 0.5, 0.8][(seed / 7 % 3) as usize];
            let g = random_dag(n, Some(p), None, seed).unwrap();
            let layer = network_simplex(&g, crate::cancel::never()).unwrap();
            assert_eq!(total_span(&g, &layer), brute_force_span(&g), "seed {seed}");
        }
    }

    fn dag(n: u64, edges: &[(u32, u32)]) -> Dag {
        let (src, dst): (Vec<u32>, Vec<u32>) = edges.iter().copied().unzip();
        Dag::from_edges(&src, &dst, Some(n), crate::graph::DuplicatePolicy::Reject).unwrap()
    }

    fn solve(g: &Dag) -> Vec<u32> {
        let layer = network_simplex(g, crate::cancel::never()).unwrap();
        crate::layering::check_layering(g, &layer).unwrap();
        layer
    }

    #[test]
    fn empty_and_edgeless_graphs() {
        assert_eq!(solve(&dag(0, &[])), Vec::<u32>::new());
        assert_eq!(solve(&dag(4, &[])), vec![0; 4]);
    }

    #[test]
    fn chains_stars_and_diamonds() {
        assert_eq!(solve(&dag(4, &[(2, 0), (0, 3), (3, 1)])), vec![1, 3, 0, 2]);
        let out_star: Vec<(u32, u32)> = (1..6).map(|v| (0, v)).collect();
        assert_eq!(solve(&dag(6, &out_star)), vec![0, 1, 1, 1, 1, 1]);
        let in_star: Vec<(u32, u32)> = (1..6).map(|v| (v, 0)).collect();
        assert_eq!(solve(&dag(6, &in_star)), vec![1, 0, 0, 0, 0, 0]);
        let diamond = dag(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert_eq!(solve(&diamond), vec![0, 1, 1, 2]);
    }

    #[test]
    fn pulls_a_late_source_down_to_its_target() {
        // ASAP leaves 4 in layer 0 (span 3); the optimum puts it right above 3.
        let g = dag(5, &[(0, 1), (1, 2), (2, 3), (4, 3)]);
        assert_eq!(solve(&g), vec![0, 1, 2, 3, 2]);
    }

    #[test]
    fn side_chain_into_a_shared_sink() {
        // The side chain 4 -> 5 -> 6 -> 3 is as long as the main chain, so both must start in
        // layer 0 even though 4 and 5 have extra edges into 3 pulling them down.
        let g = dag(
            7,
            &[
                (0, 1),
                (1, 2),
                (2, 3),
                (4, 5),
                (5, 6),
                (6, 3),
                (4, 3),
                (5, 3),
            ],
        );
        let layer = solve(&g);
        assert_eq!(total_span(&g, &layer), brute_force_span(&g));
        assert_eq!(layer, vec![0, 1, 2, 3, 0, 1, 2]);
    }

    #[test]
    fn components_are_normalised_separately() {
        // Two chains and an isolated node; every component starts at layer 0.
        let g = dag(6, &[(1, 0), (3, 2), (2, 4)]);
        assert_eq!(solve(&g), vec![1, 0, 1, 0, 2, 0]);
    }

    #[test]
    fn long_chain_needs_no_recursion() {
        let n = 200_000u32;
        let edges: Vec<(u32, u32)> = (0..n - 1).map(|v| (v, v + 1)).collect();
        let layer = solve(&dag(n as u64, &edges));
        assert!(layer.iter().enumerate().all(|(v, &l)| l == v as u32));
    }

    #[test]
    fn deterministic() {
        let g = random_dag(500, None, Some(2500), 7).unwrap();
        assert_eq!(solve(&g), solve(&g));
    }

    #[test]
    fn cancellation_is_reported() {
        let g = random_dag(20_000, None, Some(60_000), 3).unwrap();
        let cancel = Cancel::new();
        cancel.request();
        assert_eq!(network_simplex(&g, &cancel), Err(Error::Interrupted));
    }

    #[test]
    fn invariants_hold_after_every_pivot() {
        for seed in 0..200 {
            let n = 2 + seed % 30;
            let g = random_dag(n, Some(0.2), None, seed).unwrap();
            if g.num_edges() == 0 {
                continue;
            }
            let mut s = Simplex::new(&g);
            s.feasible_tree(crate::cancel::never()).unwrap();
            s.init_subtree_sums();
            s.check_invariants();
            s.queue_all();
            let mut pivots = 0;
            while let Some(x) = s.leave() {
                assert!(s.cut(x as usize) < 0);
                assert!(s.pivot(x));
                s.requeue();
                s.check_invariants();
                pivots += 1;
                assert!(pivots < 10_000, "no convergence, seed {seed}");
            }
            for v in 0..g.num_nodes() {
                assert!(
                    s.parent[v] == NONE || s.cut(v) >= 0,
                    "missed a negative cut"
                );
            }
        }
    }
}
