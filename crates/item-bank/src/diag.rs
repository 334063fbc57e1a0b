//! File:line diagnostics, collected rather than thrown so a committee sees every mistake at once.

use std::fmt;

/// One problem in a bank, exam or CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it, so the message can be pasted into an editor.
    pub file: String,
    /// 1-based line; `None` when the problem is about the file as a whole.
    pub line: Option<usize>,
    /// The item the problem belongs to, when it belongs to one.
    pub item: Option<String>,
    /// The field (or CSV column) at fault, when one is.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(":")?;
        if let Some(item) = &self.item {
            write!(f, " item {item}:")?;
        }
        if let Some(field) = &self.field {
            write!(f, " {field}:")?;
        }
        write!(f, " {}", self.message)
    }
}

/// Every problem found, in file order. Never empty when returned as an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub(crate) fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// `Ok(value)` when nothing was reported, otherwise every diagnostic.
    pub(crate) fn into_result<T>(mut self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            self.sort();
            Err(self)
        }
    }

    /// File order, then line order: the order an editor shows them in. Stable, so
    /// problems on one line keep the order they were found in.
    pub(crate) fn sort(&mut self) {
        self.0.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Collects diagnostics for one file, with the item currently being read.
pub(crate) struct Sink {
    file: String,
    item: Option<String>,
    pub(crate) diags: Diagnostics,
}

impl Sink {
    pub(crate) fn new(file: impl Into<String>) -> Sink {
        Sink { file: file.into(), item: None, diags: Diagnostics::default() }
    }

    pub(crate) fn file(&self) -> &str {
        &self.file
    }

    pub(crate) fn set_item(&mut self, item: Option<String>) {
        self.item = item;
    }

    pub(crate) fn error(&mut self, line: Option<usize>, field: Option<&str>, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            file: self.file.clone(),
            line,
            item: self.item.clone(),
            field: field.map(str::to_owned),
            message: message.into(),
        });
    }
}
