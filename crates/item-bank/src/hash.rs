//! The bank's content hash: SHA-256 over a canonical, length-prefixed encoding of what a
//! candidate sees and how it is scored. TOML layout and comments do not change it.

use std::collections::BTreeMap;
use std::fmt;

use ring::digest;

use crate::model::{Item, Key};

/// SHA-256 of a bank's canonical form, shown as 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BankHash([u8; 32]);

impl BankHash {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<BankHash> {
        let bytes = hex::decode(s).ok()?;
        Some(BankHash(bytes.try_into().ok()?))
    }

    /// The first 12 hex digits, enough to tell versions apart in a table.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }
}

impl fmt::Display for BankHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Length-prefixed fields, so that no two different contents can encode the same bytes.
struct Canon(digest::Context);

impl Canon {
    fn bytes(&mut self, b: &[u8]) {
        self.0.update(&(b.len() as u64).to_be_bytes());
        self.0.update(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.0.update(&[1]);
                self.str(s);
            }
            None => self.0.update(&[0]),
        }
    }
    fn int(&mut self, n: i64) {
        self.0.update(&n.to_be_bytes());
    }
}

/// The explanation (pembahasan) is left out: a candidate never sees it while sitting the
/// exam and it does not score, and leaving it out keeps the hashes of existing banks.
pub(crate) fn bank_hash(name: &str, version: &str, items: &[Item], assets: &BTreeMap<String, Vec<u8>>) -> BankHash {
    let mut c = Canon(digest::Context::new(&digest::SHA256));
    c.str("ujian-bank-v1");
    c.str(name);
    c.str(version);
    c.int(items.len() as i64);
    for item in items {
        c.str(item.id().as_str());
        c.str(item.section().as_str());
        c.str(item.topic().as_str());
        c.int(item.difficulty().map_or(0, i64::from));
        c.str(item.stem());
        c.opt(item.image());
        c.int(i64::from(item.pin_options()));
        c.int(item.options().len() as i64);
        for opt in item.options() {
            c.str(opt.text());
            c.opt(opt.image());
        }
        match item.key() {
            Key::Single(label) => {
                c.str("single");
                c.int(label.index() as i64);
            }
            Key::Weighted(points) => {
                c.str("weighted");
                for p in points {
                    c.int(p.0);
                }
            }
        }
    }
    c.int(assets.len() as i64);
    for (name, bytes) in assets {
        c.str(name);
        c.bytes(bytes);
    }
    let d = c.0.finish();
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    BankHash(out)
}
