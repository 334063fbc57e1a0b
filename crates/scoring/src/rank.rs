//! A ranking index: insert, update, remove, rank-of and k-th in O(log n).
//!
//! A treap (randomised balanced binary search tree) with subtree sizes, stored in an
//! arena of nodes addressed by `u32`. Entries are ordered by `(key, id)`, so equal keys
//! still have one deterministic order (the id's), and the public board never flickers
//! between two candidates with equal scores.

use std::collections::HashMap;
use std::hash::Hash;

const NIL: u32 = u32::MAX;

struct Node<K, I> {
    key: K,
    id: I,
    prio: u32,
    left: u32,
    right: u32,
    size: u32,
}

/// Entries ordered by `(key, id)`, ascending: put the best first by making better keys
/// smaller (see [`crate::board::RankKey`]).
pub struct RankIndex<K, I> {
    nodes: Vec<Node<K, I>>,
    free: Vec<u32>,
    root: u32,
    by_id: HashMap<I, u32>,
    /// xorshift state for node priorities: deterministic, so a rebuilt index has the same shape.
    rng: u64,
}

impl<K: Ord + Clone, I: Ord + Hash + Clone> Default for RankIndex<K, I> {
    fn default() -> Self {
        RankIndex::new()
    }
}

impl<K: Ord + Clone, I: Ord + Hash + Clone> RankIndex<K, I> {
    pub fn new() -> Self {
        RankIndex { nodes: Vec::new(), free: Vec::new(), root: NIL, by_id: HashMap::new(), rng: 0x9E37_79B9_7F4A_7C15 }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn key_of(&self, id: &I) -> Option<&K> {
        self.by_id.get(id).map(|&n| &self.nodes[n as usize].key)
    }

    fn next_prio(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        (x >> 32) as u32
    }

    fn size(&self, t: u32) -> u32 {
        if t == NIL { 0 } else { self.nodes[t as usize].size }
    }

    fn fix(&mut self, t: u32) {
        let (l, r) = (self.nodes[t as usize].left, self.nodes[t as usize].right);
        self.nodes[t as usize].size = 1 + self.size(l) + self.size(r);
    }

    fn less(&self, t: u32, key: &K, id: &I) -> bool {
        let n = &self.nodes[t as usize];
        (&n.key, &n.id) < (key, id)
    }

    /// Splits `t` into (entries < (key, id), the rest).
    fn split(&mut self, t: u32, key: &K, id: &I) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.less(t, key, id) {
            let (l, r) = self.split(self.nodes[t as usize].right, key, id);
            self.nodes[t as usize].right = l;
            self.fix(t);
            (t, r)
        } else {
            let (l, r) = self.split(self.nodes[t as usize].left, key, id);
            self.nodes[t as usize].left = r;
            self.fix(t);
            (l, t)
        }
    }

    /// Splits `t` into its first `n` entries and the rest.
    fn split_at(&mut self, t: u32, n: u32) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let left = self.nodes[t as usize].left;
        let ls = self.size(left);
        if n <= ls {
            let (l, r) = self.split_at(left, n);
            self.nodes[t as usize].left = r;
            self.fix(t);
            (l, t)
        } else {
            let (l, r) = self.split_at(self.nodes[t as usize].right, n - ls - 1);
            self.nodes[t as usize].right = l;
            self.fix(t);
            (t, r)
        }
    }

    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio > self.nodes[b as usize].prio {
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            self.fix(a);
            a
        } else {
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            self.fix(b);
            b
        }
    }

    /// Inserts `id` with `key`, or moves it there. Returns the previous key.
    pub fn upsert(&mut self, id: I, key: K) -> Option<K> {
        let old = self.remove(&id);
        let prio = self.next_prio();
        let node = Node { key: key.clone(), id: id.clone(), prio, left: NIL, right: NIL, size: 1 };
        let n = match self.free.pop() {
            Some(n) => {
                self.nodes[n as usize] = node;
                n
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let (l, r) = self.split(self.root, &key, &id);
        let l = self.merge(l, n);
        self.root = self.merge(l, r);
        self.by_id.insert(id, n);
        old
    }

    /// Removes `id`; returns its key.
    pub fn remove(&mut self, id: &I) -> Option<K> {
        let n = self.by_id.remove(id)?;
        let key = self.nodes[n as usize].key.clone();
        let (l, r) = self.split(self.root, &key, id);
        let (mid, r) = self.split_at(r, 1);
        debug_assert_eq!(mid, n);
        self.root = self.merge(l, r);
        self.free.push(n);
        Some(key)
    }

    /// How many entries come before `(key, id)`.
    fn count_before(&self, key: &K, id: Option<&I>) -> usize {
        let mut t = self.root;
        let mut count = 0;
        while t != NIL {
            let node = &self.nodes[t as usize];
            let before = match id {
                Some(id) => (&node.key, &node.id) < (key, id),
                None => node.key < *key,
            };
            if before {
                count += self.size(node.left) as usize + 1;
                t = node.right;
            } else {
                t = node.left;
            }
        }
        count
    }

    /// The 0-based position of `id` in the order.
    pub fn position(&self, id: &I) -> Option<usize> {
        let key = self.key_of(id)?;
        Some(self.count_before(key, Some(id)))
    }

    /// How many entries have a key strictly before `key`: 1 + this is a standard
    /// competition rank ("1, 2, 2, 4") for an entry with that key.
    pub fn count_better(&self, key: &K) -> usize {
        self.count_before(key, None)
    }

    /// The competition rank of `id` (1-based; equal keys share a rank).
    pub fn rank(&self, id: &I) -> Option<usize> {
        self.key_of(id).map(|k| self.count_better(k) + 1)
    }

    /// The entry at 0-based position `i`.
    pub fn nth(&self, mut i: usize) -> Option<(&I, &K)> {
        let mut t = self.root;
        while t != NIL {
            let node = &self.nodes[t as usize];
            let ls = self.size(node.left) as usize;
            if i < ls {
                t = node.left;
            } else if i == ls {
                return Some((&node.id, &node.key));
            } else {
                i -= ls + 1;
                t = node.right;
            }
        }
        None
    }

    /// Entries at positions `offset..offset + limit`, in order.
    pub fn page(&self, offset: usize, limit: usize) -> Vec<(&I, &K)> {
        let mut out = Vec::with_capacity(limit.min(self.len().saturating_sub(offset)));
        self.walk(self.root, offset, offset.saturating_add(limit), 0, &mut out);
        out
    }

    /// In-order walk of the positions in `[from, to)`, skipping whole subtrees outside it.
    fn walk<'a>(&'a self, t: u32, from: usize, to: usize, base: usize, out: &mut Vec<(&'a I, &'a K)>) {
        if t == NIL || base >= to {
            return;
        }
        let node = &self.nodes[t as usize];
        let ls = self.size(node.left) as usize;
        if base + ls > from {
            self.walk(node.left, from, to, base, out);
        }
        let here = base + ls;
        if here >= from && here < to {
            out.push((&node.id, &node.key));
        }
        if here + 1 < to {
            self.walk(node.right, from, to, here + 1, out);
        }
    }

    /// The first `k` entries.
    pub fn top(&self, k: usize) -> Vec<(&I, &K)> {
        self.page(0, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ranks_pages_and_updates() {
        let mut idx: RankIndex<i64, &str> = RankIndex::new();
        for (id, key) in [("d", 3), ("a", 1), ("c", 2), ("b", 2), ("e", 5)] {
            assert_eq!(idx.upsert(id, key), None);
        }
        let order: Vec<&str> = idx.page(0, 10).into_iter().map(|(i, _)| *i).collect();
        assert_eq!(order, ["a", "b", "c", "d", "e"]);
        assert_eq!(idx.rank(&"b"), Some(2));
        assert_eq!(idx.rank(&"c"), Some(2), "equal keys share a rank");
        assert_eq!(idx.position(&"c"), Some(2), "but not a position");
        assert_eq!(idx.rank(&"d"), Some(4));
        assert_eq!(idx.upsert("a", 9), Some(1));
        assert_eq!(idx.nth(0).map(|(i, _)| *i), Some("b"));
        assert_eq!(idx.nth(4).map(|(i, _)| *i), Some("a"));
        assert_eq!(idx.remove(&"c"), Some(2));
        assert_eq!(idx.len(), 4);
        assert_eq!(idx.page(1, 2).into_iter().map(|(i, _)| *i).collect::<Vec<_>>(), ["d", "e"]);
        assert_eq!(idx.top(1).into_iter().map(|(i, _)| *i).collect::<Vec<_>>(), ["b"]);
        assert_eq!(idx.rank(&"zz"), None);
        assert!(idx.page(10, 5).is_empty());
    }

    #[test]
    fn a_page_whose_end_is_past_usize_max_stops_at_the_last_entry() {
        let mut idx: RankIndex<i64, u32> = RankIndex::new();
        for id in 0..3 {
            idx.upsert(id, i64::from(id));
        }
        let ids = |page: Vec<(&u32, &i64)>| page.into_iter().map(|(i, _)| *i).collect::<Vec<_>>();
        assert_eq!(ids(idx.page(1, usize::MAX)), [1, 2]);
        assert!(idx.page(usize::MAX, usize::MAX).is_empty());
    }
}
