//! Exams with their banks, loaded from the store once and shared by every session of the
//! exam, and the item images served from them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use item_bank::{Bank, Exam, ItemId};
use store::Store;

use crate::board::BoardExam;

/// An exam with its bank, loaded once and shared by every session of the exam.
pub struct ExamCtx {
    pub exam: Exam,
    pub bank: Bank,
    pub bank_hash: String,
    /// What the public board shows of this exam, shared by every row.
    pub board: Arc<BoardExam>,
    /// Each item's place in the bank, to find a paper's items without a search.
    index: HashMap<ItemId, usize>,
}

impl ExamCtx {
    pub fn new(exam: Exam, bank: Bank) -> ExamCtx {
        let index = bank.items().iter().enumerate().map(|(i, item)| (item.id().clone(), i)).collect();
        let bank_hash = bank.hash().to_hex();
        let board = Arc::new(BoardExam::of(&exam));
        ExamCtx { exam, bank, bank_hash, board, index }
    }

    /// The item's place in the bank (`None`: not in this bank).
    pub fn item_index(&self, item: &ItemId) -> Option<usize> {
        self.index.get(item).copied()
    }
}

/// Why an exam could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ExamError {
    #[error("exam {0} is not stored")]
    NotStored(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The exams in memory, by code.
pub struct Exams {
    store: Store,
    loaded: Mutex<HashMap<String, Arc<ExamCtx>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The map is consistent between statements; a panic elsewhere must not take it down.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Exams {
    pub fn new(store: Store) -> Exams {
        Exams { store, loaded: Mutex::new(HashMap::new()) }
    }

    /// The exam (and bank) by code, from memory or the store.
    pub async fn get(&self, code: &str) -> Result<Arc<ExamCtx>, ExamError> {
        if let Some(ctx) = lock(&self.loaded).get(code) {
            return Ok(ctx.clone());
        }
        let stored = self.store.get_exam(code).await?.ok_or_else(|| ExamError::NotStored(code.to_owned()))?;
        let ctx = Arc::new(ExamCtx::new(stored.exam, stored.bank));
        let mut loaded = lock(&self.loaded);
        if !loaded.contains_key(code)
            && let Some(warning) = ctx.exam.board().running.warning(code)
        {
            tracing::warn!("{warning}");
        }
        Ok(loaded.entry(code.to_owned()).or_insert(ctx).clone())
    }

    /// The warnings about the exams in memory (a live board is an answer-key oracle), for
    /// the server's start.
    pub fn warnings(&self) -> Vec<String> {
        let loaded = lock(&self.loaded);
        let mut out: Vec<String> =
            loaded.values().filter_map(|c| c.exam.board().running.warning(c.exam.code())).collect();
        out.sort();
        out
    }

    /// An asset of any loaded bank, by bank hash and file name.
    pub fn asset(&self, bank_hash: &str, name: &str) -> Option<Vec<u8>> {
        let loaded = lock(&self.loaded);
        loaded.values().find(|c| c.bank_hash == bank_hash).and_then(|c| c.bank.asset(name).map(<[u8]>::to_vec))
    }
}
