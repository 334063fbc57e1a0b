//! RankIndex against a from-scratch model (a sorted Vec of (key, id)) under random edits.

use proptest::prelude::*;
use scoring::{RankIndex, RankKey};

/// Few ids and few keys, so that updates, removals of absent ids and ties are common.
const IDS: u32 = 12;
const TOTALS: i64 = 4;
const PARTS: i64 = 2;

#[derive(Debug, Clone)]
enum Op {
    Upsert(u32, i64, i64),
    Remove(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..IDS, 0..TOTALS, 0..PARTS).prop_map(|(id, t, p)| Op::Upsert(id, t, p)),
        1 => (0..IDS).prop_map(Op::Remove),
    ]
}

fn key(total: i64, part: i64) -> RankKey {
    RankKey::from_parts(total, &[part])
}

/// The model: every entry, sorted by (key, id).
#[derive(Default)]
struct Model(Vec<(RankKey, u32)>);

impl Model {
    fn remove(&mut self, id: u32) -> Option<RankKey> {
        let at = self.0.iter().position(|e| e.1 == id)?;
        Some(self.0.remove(at).0)
    }

    fn upsert(&mut self, id: u32, key: RankKey) -> Option<RankKey> {
        let old = self.remove(id);
        let at = self.0.partition_point(|e| *e < (key.clone(), id));
        self.0.insert(at, (key, id));
        old
    }
}

/// Every query of the index, compared with the model.
fn same(index: &RankIndex<RankKey, u32>, model: &Model) -> Result<(), TestCaseError> {
    let m = &model.0;
    prop_assert_eq!(index.len(), m.len());
    prop_assert_eq!(index.is_empty(), m.is_empty());
    for id in 0..IDS {
        let at = m.iter().position(|e| e.1 == id);
        prop_assert_eq!(index.position(&id), at, "position of {}", id);
        prop_assert_eq!(index.key_of(&id), at.map(|i| &m[i].0), "key of {}", id);
        let rank = at.map(|i| m.iter().filter(|e| e.0 < m[i].0).count() + 1);
        prop_assert_eq!(index.rank(&id), rank, "rank of {}", id);
    }
    for total in -1..=TOTALS {
        for part in -1..=PARTS {
            let k = key(total, part);
            prop_assert_eq!(index.count_better(&k), m.iter().filter(|e| e.0 < k).count());
        }
    }
    let as_model =
        |entries: Vec<(&u32, &RankKey)>| entries.into_iter().map(|(i, k)| (k.clone(), *i)).collect::<Vec<_>>();
    for i in 0..=m.len() + 1 {
        prop_assert_eq!(index.nth(i).map(|(i, k)| (k.clone(), *i)), m.get(i).cloned(), "nth({})", i);
    }
    for offset in [0, 1, 2, m.len() / 2, m.len().saturating_sub(1), m.len(), m.len() + 1, usize::MAX] {
        for limit in [0, 1, 3, m.len(), m.len() + 1, usize::MAX - 1, usize::MAX] {
            let from = offset.min(m.len());
            let to = offset.saturating_add(limit).min(m.len());
            prop_assert_eq!(as_model(index.page(offset, limit)), &m[from..to], "page({}, {})", offset, limit);
        }
    }
    for k in [0, 1, 5, usize::MAX] {
        prop_assert_eq!(as_model(index.top(k)), &m[..k.min(m.len())], "top({})", k);
    }
    Ok(())
}

proptest! {
    #[test]
    fn the_index_answers_like_a_sorted_vec_after_every_edit(ops in prop::collection::vec(op(), 0..120)) {
        let mut index = RankIndex::new();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Upsert(id, t, p) => prop_assert_eq!(index.upsert(id, key(t, p)), model.upsert(id, key(t, p))),
                Op::Remove(id) => prop_assert_eq!(index.remove(&id), model.remove(id)),
            }
            same(&index, &model)?;
        }
    }
}
