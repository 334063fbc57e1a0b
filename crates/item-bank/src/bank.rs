//! A bank: its metadata, its validated items and the assets they show.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::DeValue;

use crate::diag::{Diagnostics, Sink};
use crate::draft::{Draft, DraftAllow, DraftOption};
use crate::hash::{self, BankHash};
use crate::model::{Item, ItemId, SectionCode, Topic};
use crate::walk::{At, Fields, Got, LineIndex, is_slug, parse_document};

/// The bank's own file, naming the item files.
pub const BANK_FILE: &str = "bank.toml";
/// The folder, inside the bank, that item images are read from.
pub const ASSETS_DIR: &str = "assets";

/// Failure to load a bank: the files could not be read, or they hold mistakes.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// The raw files of a bank, read from a folder or from storage. Keeping the bank as its
/// files means that storage round-trips through exactly the same parser and checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankSource {
    /// How the bank's folder is named in messages (`question-banks/skd`).
    pub root: String,
    /// Text files by their name inside the bank: `bank.toml` and the item files.
    pub files: BTreeMap<String, String>,
    /// Assets by file name (without the `assets/` prefix).
    pub assets: BTreeMap<String, Vec<u8>>,
}

impl BankSource {
    /// Reads `bank.toml`, the item files it lists and every referenced asset that exists.
    /// Missing item files and assets are left out, to be reported by [`Bank::parse`].
    pub fn read_dir(dir: &Path) -> Result<BankSource, BankError> {
        let root = dir.display().to_string();
        let read = |name: &str| -> Result<Option<String>, BankError> {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(BankError::Io { path, source }),
            }
        };
        let mut source = BankSource { root, ..BankSource::default() };
        let Some(meta) = read(BANK_FILE)? else {
            return Err(BankError::Io {
                path: dir.join(BANK_FILE),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "a bank folder needs a bank.toml"),
            });
        };
        // The list of files comes from bank.toml; parse it leniently here, strictly in `parse`.
        let listed: Vec<String> = toml::from_str::<toml::Table>(&meta)
            .ok()
            .and_then(|t| t.get("files").and_then(|f| f.as_array()).cloned())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        source.files.insert(BANK_FILE.to_owned(), meta);
        for name in listed {
            if safe_relative(&name)
                && let Some(text) = read(&name)?
            {
                source.files.insert(name, text);
            }
        }
        let assets = dir.join(ASSETS_DIR);
        match std::fs::read_dir(&assets) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(|source| BankError::Io { path: assets.clone(), source })?;
                    let path = entry.path();
                    if path.is_file()
                        && let Some(name) = path.file_name().and_then(|n| n.to_str())
                    {
                        let bytes =
                            std::fs::read(&path).map_err(|source| BankError::Io { path: path.clone(), source })?;
                        source.assets.insert(name.to_owned(), bytes);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(BankError::Io { path: assets, source }),
        }
        Ok(source)
    }
}

fn safe_relative(name: &str) -> bool {
    let p = Path::new(name);
    p.is_relative() && p.components().all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// A validated bank.
#[derive(Debug, Clone)]
pub struct Bank {
    name: String,
    version: String,
    title: String,
    language: String,
    /// Item files in `bank.toml` order, as listed there.
    files: Vec<String>,
    items: Vec<Item>,
    hash: BankHash,
    /// Only the assets some item references; stray files in assets/ are not part of the bank.
    source: BankSource,
}

impl Bank {
    /// Reads and validates a bank folder.
    pub fn load(dir: &Path) -> Result<Bank, BankError> {
        let source = BankSource::read_dir(dir)?;
        Bank::parse(source).map_err(BankError::Invalid)
    }

    /// Validates a bank's files, reporting every problem at once.
    pub fn parse(source: BankSource) -> Result<Bank, Diagnostics> {
        let mut diags = Diagnostics::default();
        let root = source.root.trim_end_matches('/').to_owned();
        let display = |name: &str| if root.is_empty() { name.to_owned() } else { format!("{root}/{name}") };

        let meta_name = display(BANK_FILE);
        let mut sink = Sink::new(&meta_name);
        let meta = match source.files.get(BANK_FILE) {
            Some(text) => parse_meta(text, &mut sink),
            None => {
                sink.error(None, None, "missing: a bank folder needs a bank.toml");
                None
            }
        };
        diags.extend(sink.diags);
        let Some(meta) = meta else { return Err(diags) };

        let mut items: Vec<Item> = Vec::new();
        // Every item's id as written, valid item or not: a repeated id is reported in the
        // same run as the other problems of the items that carry it.
        let mut ids: Vec<(String, String, usize)> = Vec::new();
        let mut seen_files = BTreeSet::new();
        for file in &meta.files {
            let mut sink = Sink::new(display(&file.value));
            if !seen_files.insert(file.value.clone()) {
                let mut s = Sink::new(&meta_name);
                s.error(Some(file.line), Some("files"), format!("{:?} is listed twice", file.value));
                diags.extend(s.diags);
                continue;
            }
            match source.files.get(&file.value) {
                Some(text) if safe_relative(&file.value) => {
                    let mut file_ids = Vec::new();
                    items.extend(parse_item_file(text, &mut sink, &mut file_ids));
                    ids.extend(file_ids.into_iter().map(|(id, line)| (display(&file.value), id, line)));
                }
                _ => {
                    let mut s = Sink::new(&meta_name);
                    s.error(
                        Some(file.line),
                        Some("files"),
                        format!("{:?} does not exist in the bank folder", file.value),
                    );
                    diags.extend(s.diags);
                }
            }
            diags.extend(sink.diags);
        }

        // Bank-wide checks: unique ids, images that exist.
        let mut first_seen: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
        for (file, id, line) in &ids {
            if let Some((first_file, first_line)) = first_seen.get(id.as_str()) {
                let mut sink = Sink::new(file);
                sink.set_item(Some(id.clone()));
                sink.error(Some(*line), Some("id"), format!("repeated: first used at {first_file}:{first_line}"));
                diags.extend(sink.diags);
            } else {
                first_seen.insert(id, (file, *line));
            }
        }
        let mut assets = BTreeMap::new();
        for item in &items {
            let mut sink = Sink::new(item.file());
            sink.set_item(Some(item.id().to_string()));
            let images = item.image().into_iter().chain(item.options().iter().filter_map(|o| o.image()));
            for image in images {
                match source.assets.get(image) {
                    Some(bytes) => {
                        assets.insert(image.to_owned(), bytes.clone());
                    }
                    None => sink.error(
                        Some(item.line()),
                        Some("image"),
                        format!("{image:?} is not in {}", display(crate::bank::ASSETS_DIR)),
                    ),
                }
            }
            diags.extend(sink.diags);
        }
        if items.is_empty() && diags.is_empty() {
            let mut s = Sink::new(&meta_name);
            s.error(None, Some("files"), "the bank holds no items");
            diags.extend(s.diags);
        }
        if !diags.is_empty() {
            diags.sort();
            return Err(diags);
        }

        let files = meta.files.iter().map(|f| f.value.clone()).collect::<Vec<_>>();
        let kept_files =
            source.files.into_iter().filter(|(name, _)| name == BANK_FILE || files.contains(name)).collect();
        let source = BankSource { root: source.root, files: kept_files, assets };
        let hash = hash::bank_hash(&meta.name.value, &meta.version.value, &items, &source.assets);
        Ok(Bank {
            name: meta.name.value,
            version: meta.version.value,
            title: meta.title,
            language: meta.language,
            files,
            items,
            hash,
            source,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn version(&self) -> &str {
        &self.version
    }
    pub fn title(&self) -> &str {
        &self.title
    }
    pub fn language(&self) -> &str {
        &self.language
    }
    pub fn item_files(&self) -> &[String] {
        &self.files
    }
    pub fn items(&self) -> &[Item] {
        &self.items
    }
    pub fn hash(&self) -> &BankHash {
        &self.hash
    }
    /// The files the bank was read from, for storage.
    pub fn source(&self) -> &BankSource {
        &self.source
    }
    pub fn asset(&self, name: &str) -> Option<&[u8]> {
        self.source.assets.get(name).map(Vec::as_slice)
    }
    pub fn item(&self, id: &ItemId) -> Option<&Item> {
        self.items.iter().find(|i| i.id() == id)
    }

    /// Item counts by section and topic, in first-seen order, for summaries.
    pub fn counts(&self) -> Vec<(SectionCode, Vec<(Topic, usize)>)> {
        let mut out: Vec<(SectionCode, Vec<(Topic, usize)>)> = Vec::new();
        for item in &self.items {
            let pos = match out.iter().position(|(s, _)| s == item.section()) {
                Some(p) => p,
                None => {
                    out.push((item.section().clone(), Vec::new()));
                    out.len() - 1
                }
            };
            let topics = &mut out[pos].1;
            match topics.iter_mut().find(|(t, _)| t == item.topic()) {
                Some((_, n)) => *n += 1,
                None => topics.push((item.topic().clone(), 1)),
            }
        }
        out
    }
}

struct Meta {
    name: At<String>,
    version: At<String>,
    title: String,
    language: String,
    files: Vec<At<String>>,
}

fn parse_meta(text: &str, sink: &mut Sink) -> Option<Meta> {
    let lines = LineIndex::new(text);
    let doc = parse_document(text, &lines, sink)?;
    let f = Fields::new(&doc, &lines);
    let name = f.string("name", sink).required(sink, 1, "name");
    if let Some(n) = &name
        && !is_slug(&n.value)
    {
        sink.error(Some(n.line), Some("name"), format!("{:?} must be lower case letters, digits and '-'", n.value));
    }
    let version = f.string("version", sink).required(sink, 1, "version");
    let title = f.string("title", sink).ok().map(|t| t.value).unwrap_or_default();
    let language = f.string("language", sink).ok().map(|t| t.value).unwrap_or_else(|| "id".to_owned());
    let files = match f.array("files", sink) {
        Got::Ok(a) => crate::walk::strings(a.value, &lines, sink, "files"),
        Got::Bad => Vec::new(),
        Got::Missing => {
            sink.error(Some(1), Some("files"), "missing: list the item files, e.g. files = [\"twk.toml\"]");
            Vec::new()
        }
    };
    f.finish(&["name", "version", "title", "language", "files"], sink);
    Some(Meta { name: name?, version: version?, title, language, files })
}

/// Parses one item file; invalid items are reported and left out. The id and line of every
/// item, valid or not, go to `ids`.
pub(crate) fn parse_item_file(text: &str, sink: &mut Sink, ids: &mut Vec<(String, usize)>) -> Vec<Item> {
    let lines = LineIndex::new(text);
    let Some(doc) = parse_document(text, &lines, sink) else { return Vec::new() };
    let f = Fields::new(&doc, &lines);
    let default_section = f.string("section", sink).ok();
    let mut items = Vec::new();
    match f.array("item", sink) {
        Got::Ok(array) => {
            for value in array.value {
                let Some(draft) = read_item(value, &lines, sink) else { continue };
                if let Got::Ok(id) = &draft.id {
                    ids.push((id.value.clone(), draft.line));
                }
                if let Some(item) = draft.validate(default_section.as_ref(), sink) {
                    items.push(item);
                }
            }
        }
        Got::Bad => {}
        Got::Missing => sink.error(None, Some("item"), "no [[item]] tables in this file"),
    }
    f.finish(&["section", "item"], sink);
    items
}

const ITEM_FIELDS: &[&str] = &[
    "id",
    "section",
    "topic",
    "kind",
    "difficulty",
    "stem",
    "image",
    "answer",
    "pin_options",
    "options",
    "explanation",
    "lint_allow",
];

fn read_item(value: &Spanned<DeValue<'_>>, lines: &LineIndex, sink: &mut Sink) -> Option<Draft> {
    let f = Fields::from_value(value, lines, sink, "item")?;
    let id = f.string("id", sink);
    sink.set_item(id.clone().ok().map(|i| i.value));
    let options = match f.array("options", sink) {
        Got::Ok(a) => {
            let mut out = Vec::new();
            for opt in a.value {
                let Some(of) = Fields::from_value(opt, lines, sink, "options") else { continue };
                out.push(DraftOption {
                    line: of.line,
                    label: of.string("label", sink),
                    text: of.string("text", sink),
                    image: of.string("image", sink),
                    points: of.int("points", sink),
                });
                of.finish(&["label", "text", "image", "points"], sink);
            }
            Got::Ok(At { value: out, line: a.line })
        }
        Got::Bad => Got::Bad,
        Got::Missing => Got::Missing,
    };
    let lint_allow = match f.array("lint_allow", sink) {
        Got::Ok(a) => {
            let mut out = Vec::new();
            for entry in a.value {
                let Some(ef) = Fields::from_value(entry, lines, sink, "lint_allow") else { continue };
                out.push(DraftAllow {
                    line: ef.line,
                    check: ef.string("check", sink),
                    reason: ef.string("reason", sink),
                });
                ef.finish(&["check", "reason"], sink);
            }
            Got::Ok(At { value: out, line: a.line })
        }
        Got::Bad => Got::Bad,
        Got::Missing => Got::Missing,
    };
    let draft = Draft {
        line: f.line,
        id,
        section: f.string("section", sink),
        topic: f.string("topic", sink),
        kind: f.string("kind", sink),
        difficulty: f.int("difficulty", sink),
        stem: f.string("stem", sink),
        image: f.string("image", sink),
        answer: f.string("answer", sink),
        pin_options: f.bool("pin_options", sink),
        options,
        explanation: f.string("explanation", sink),
        lint_allow,
    };
    f.finish(ITEM_FIELDS, sink);
    sink.set_item(None);
    Some(draft)
}
