//! Reading spanned TOML tables field by field, so that every error carries its line and
//! one bad field does not hide the others (serde would stop at the first).

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::Sink;

/// Byte offset → 1-based line number.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub(crate) fn line(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

/// A value and the line it was written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At<T> {
    pub(crate) value: T,
    pub(crate) line: usize,
}

/// The outcome of reading one field: absent, present but unusable (already reported), or good.
#[derive(Debug, Clone)]
pub(crate) enum Got<T> {
    Missing,
    Bad,
    Ok(At<T>),
}

impl<T> Got<T> {
    pub(crate) fn ok(self) -> Option<At<T>> {
        match self {
            Got::Ok(v) => Some(v),
            _ => None,
        }
    }

    /// The value if present and good; a "missing" diagnostic if absent; `None` if bad.
    pub(crate) fn required(self, sink: &mut Sink, line: usize, field: &str) -> Option<At<T>> {
        match self {
            Got::Ok(v) => Some(v),
            Got::Bad => None,
            Got::Missing => {
                sink.error(Some(line), Some(field), "missing");
                None
            }
        }
    }
}

/// One TOML table being read: typed getters report wrong types, `finish` reports unknown keys.
pub(crate) struct Fields<'t, 'i> {
    table: &'t DeTable<'i>,
    lines: &'t LineIndex,
    /// The line of the table's header, for errors about missing fields.
    pub(crate) line: usize,
}

impl<'t, 'i> Fields<'t, 'i> {
    pub(crate) fn new(table: &'t Spanned<DeTable<'i>>, lines: &'t LineIndex) -> Self {
        Fields { table: table.get_ref(), lines, line: lines.line(table.span().start) }
    }

    pub(crate) fn from_value(
        value: &'t Spanned<DeValue<'i>>,
        lines: &'t LineIndex,
        sink: &mut Sink,
        field: &str,
    ) -> Option<Self> {
        let line = lines.line(value.span().start);
        match value.get_ref() {
            DeValue::Table(table) => Some(Fields { table, lines, line }),
            other => {
                sink.error(Some(line), Some(field), format!("expected a table, found {}", other.type_str()));
                None
            }
        }
    }

    fn get(&self, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.table.get(key)
    }

    fn line_of(&self, value: &Spanned<DeValue<'i>>) -> usize {
        self.lines.line(value.span().start)
    }

    fn typed<T>(
        &self,
        key: &str,
        sink: &mut Sink,
        expected: &str,
        convert: impl FnOnce(&'t DeValue<'i>) -> Option<T>,
    ) -> Got<T> {
        let Some(value) = self.get(key) else { return Got::Missing };
        let line = self.line_of(value);
        match convert(value.get_ref()) {
            Some(v) => Got::Ok(At { value: v, line }),
            None => {
                sink.error(Some(line), Some(key), format!("expected {expected}, found {}", describe(value.get_ref())));
                Got::Bad
            }
        }
    }

    pub(crate) fn string(&self, key: &str, sink: &mut Sink) -> Got<String> {
        self.typed(key, sink, "a string", |v| v.as_str().map(str::to_owned))
    }

    pub(crate) fn int(&self, key: &str, sink: &mut Sink) -> Got<i64> {
        self.typed(key, sink, "a whole number", |v| {
            v.as_integer().and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok())
        })
    }

    pub(crate) fn bool(&self, key: &str, sink: &mut Sink) -> Got<bool> {
        self.typed(key, sink, "true or false", DeValue::as_bool)
    }

    pub(crate) fn array(&self, key: &str, sink: &mut Sink) -> Got<&'t [Spanned<DeValue<'i>>]> {
        self.typed(key, sink, "an array", |v| v.as_array().map(|a| &a[..]))
    }

    pub(crate) fn table(&self, key: &str, sink: &mut Sink) -> Option<Fields<'t, 'i>> {
        let value = self.get(key)?;
        Fields::from_value(value, self.lines, sink, key)
    }

    /// Every key of the table with its line, for free-form tables such as accommodations.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&'t str, &'t Spanned<DeValue<'i>>)> + '_ {
        self.table.iter().map(|(k, v)| (k.get_ref().as_ref(), v))
    }

    pub(crate) fn lines(&self) -> &'t LineIndex {
        self.lines
    }

    /// Reports keys that are not in `known`: a typo such as `anwser` must not silently drop a key.
    pub(crate) fn finish(&self, known: &[&str], sink: &mut Sink) {
        for (key, _) in self.table.iter() {
            let name: &str = key.get_ref();
            if !known.contains(&name) {
                let line = self.lines.line(key.span().start);
                sink.error(Some(line), Some(name), format!("unknown field (expected one of: {})", known.join(", ")));
            }
        }
    }
}

/// A string array, each element typed-checked.
pub(crate) fn strings(
    items: &[Spanned<DeValue<'_>>],
    lines: &LineIndex,
    sink: &mut Sink,
    field: &str,
) -> Vec<At<String>> {
    let mut out = Vec::new();
    for value in items {
        let line = lines.line(value.span().start);
        match value.get_ref().as_str() {
            Some(s) => out.push(At { value: s.to_owned(), line }),
            None => {
                sink.error(Some(line), Some(field), format!("expected a string, found {}", describe(value.get_ref())))
            }
        }
    }
    out
}

pub(crate) fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "a whole number",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Parses a whole file, reporting syntax errors with their lines. `None` if nothing usable came out.
pub(crate) fn parse_document<'i>(text: &'i str, lines: &LineIndex, sink: &mut Sink) -> Option<Spanned<DeTable<'i>>> {
    let (table, errors) = DeTable::parse_recoverable(text);
    let had_errors = !errors.is_empty();
    for e in errors {
        let line = e.span().map(|s| lines.line(s.start));
        sink.error(line, None, format!("TOML syntax: {}", e.message()));
    }
    // A file with syntax errors is not read further: a recovered tree can misplace keys and
    // produce confusing follow-up errors. The syntax errors alone point at the fix.
    (!had_errors).then_some(table)
}

/// `[a-z0-9-]+`: topics and bank names.
pub(crate) fn is_slug(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `[A-Za-z0-9_-]+`: item ids, section and exam codes.
pub(crate) fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
