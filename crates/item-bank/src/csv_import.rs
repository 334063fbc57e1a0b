//! Spreadsheet rows to an item file. Committees often author in a spreadsheet; each row
//! becomes a [`Draft`] and goes through exactly the checks a TOML item does.

use std::fmt::Write as _;

use crate::diag::{Diagnostics, Sink};
use crate::draft::{Draft, DraftOption};
use crate::model::{Item, Key};
use crate::walk::{At, Got};

/// The columns a CSV may have; any other header is an error (a typo would drop data).
pub const COLUMNS: &[&str] = &[
    "id",
    "section",
    "topic",
    "kind",
    "difficulty",
    "stem",
    "image",
    "answer",
    "pin_options",
    "a",
    "b",
    "c",
    "d",
    "e",
    "a_points",
    "b_points",
    "c_points",
    "d_points",
    "e_points",
];

/// The separator a CSV's header row uses: `;` when it has more semicolons than commas
/// (what a spreadsheet saves under Indonesian and other comma-decimal settings), else `,`.
pub fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    let count = |c: char| header.chars().filter(|h| *h == c).count();
    if count(';') > count(',') { b';' } else { b',' }
}

/// Reads CSV text (comma or semicolon separated, see [`sniff_delimiter`]) into validated
/// items. `file` names the CSV in messages. Every problem in every row is reported; a CSV
/// with any problem yields no items.
pub fn parse_csv(file: &str, text: &str) -> Result<Vec<Item>, Diagnostics> {
    let mut sink = Sink::new(file);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .has_headers(false)
        .delimiter(sniff_delimiter(text))
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line() as usize);
                rows.push((line, r.iter().map(str::to_owned).collect()));
            }
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                sink.error(line, None, format!("malformed row: {e}"));
            }
        }
    }
    if !sink.diags.is_empty() {
        return Err(sink.diags);
    }
    parse_rows(file, rows)
}

/// Reads spreadsheet rows into validated items: the first row is the header (the columns
/// of [`COLUMNS`]); each row comes with the line or row number messages name.
pub fn parse_rows(file: &str, rows: Vec<(usize, Vec<String>)>) -> Result<Vec<Item>, Diagnostics> {
    let mut sink = Sink::new(file);
    let mut rows = rows.into_iter();
    let Some((_, header)) = rows.next() else {
        sink.error(Some(1), None, "the header row is missing");
        return Err(sink.diags);
    };
    let headers: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    for h in &headers {
        if !COLUMNS.contains(&h.as_str()) {
            sink.error(
                Some(1),
                Some(&format!("column {h}")),
                format!("unknown column (expected: {})", COLUMNS.join(", ")),
            );
        }
    }
    for required in ["id", "section", "topic", "stem", "a", "b"] {
        if !headers.iter().any(|h| h == required) {
            sink.error(Some(1), Some(&format!("column {required}")), "missing from the header row");
        }
    }
    if !sink.diags.is_empty() {
        return Err(sink.diags);
    }

    let mut items = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for (line, record) in rows {
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |name: &str| -> Option<String> {
            let i = headers.iter().position(|h| h == name)?;
            record.get(i).map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_owned)
        };
        let text_field = |name: &str| match cell(name) {
            Some(v) => Got::Ok(At { value: v, line }),
            None => Got::Missing,
        };
        let int_field = |name: &str, sink: &mut Sink| match cell(name) {
            None => Got::Missing,
            Some(v) => match v.parse::<i64>() {
                Ok(n) => Got::Ok(At { value: n, line }),
                Err(_) => {
                    sink.error(Some(line), Some(&format!("column {name}")), format!("{v:?} is not a whole number"));
                    Got::Bad
                }
            },
        };
        let pin = match cell("pin_options").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => Got::Missing,
            Some("true" | "yes" | "1") => Got::Ok(At { value: true, line }),
            Some("false" | "no" | "0") => Got::Ok(At { value: false, line }),
            Some(other) => {
                sink.error(Some(line), Some("column pin_options"), format!("{other:?} is not true or false"));
                Got::Bad
            }
        };
        // Options are the non-empty columns a..e; trailing empty ones are dropped.
        let letters = ["a", "b", "c", "d", "e"];
        let last = letters.iter().rposition(|l| cell(l).is_some() || cell(&format!("{l}_points")).is_some());
        let mut options = Vec::new();
        for l in letters.iter().take(last.map_or(0, |n| n + 1)) {
            options.push(DraftOption {
                line,
                label: Got::Ok(At { value: l.to_ascii_uppercase(), line }),
                text: text_field(l),
                image: Got::Missing,
                points: int_field(&format!("{l}_points"), &mut sink),
            });
        }
        let draft = Draft {
            line,
            id: text_field("id"),
            section: text_field("section"),
            topic: text_field("topic"),
            kind: text_field("kind"),
            difficulty: int_field("difficulty", &mut sink),
            stem: text_field("stem"),
            image: text_field("image"),
            answer: text_field("answer").map_value(|a| a.to_ascii_uppercase()),
            pin_options: pin,
            options: Got::Ok(At { value: options, line }),
            explanation: Got::Missing,
            // A spreadsheet has no column for it: silencing a lint check is a reviewed edit of
            // the item file, where the reason sits next to the item.
            lint_allow: Got::Missing,
        };
        if let Some(id) = cell("id")
            && let Some(first) = seen.insert(id.clone(), line)
        {
            sink.error(Some(line), Some("column id"), format!("{id} repeats the id of line {first}"));
        }
        if let Some(item) = draft.validate(None, &mut sink) {
            items.push(item);
        }
    }
    if items.is_empty() && sink.diags.is_empty() {
        sink.error(None, None, "the CSV holds no rows");
    }
    sink.diags.into_result(items)
}

impl<T> Got<T> {
    fn map_value(self, f: impl FnOnce(T) -> T) -> Got<T> {
        match self {
            Got::Ok(At { value, line }) => Got::Ok(At { value: f(value), line }),
            other => other,
        }
    }
}

/// Writes items as an item file in the bank format, one `[[item]]` table each.
pub fn to_item_file(items: &[Item]) -> String {
    let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let mut out = String::from("# Imported from CSV by `ujian bank import-csv`.\n");
    for item in items {
        out.push_str("\n[[item]]\n");
        let _ = writeln!(out, "id = {}", q(item.id().as_str()));
        let _ = writeln!(out, "section = {}", q(item.section().as_str()));
        let _ = writeln!(out, "topic = {}", q(item.topic().as_str()));
        let _ = writeln!(out, "kind = {}", q(item.key().kind_name()));
        if let Some(d) = item.difficulty() {
            let _ = writeln!(out, "difficulty = {d}");
        }
        let _ = writeln!(out, "stem = {}", q(item.stem()));
        if let Some(image) = item.image() {
            let _ = writeln!(out, "image = {}", q(image));
        }
        if let Key::Single(label) = item.key() {
            let _ = writeln!(out, "answer = \"{label}\"");
        }
        if item.pin_options() {
            out.push_str("pin_options = true\n");
        }
        if let Some(explanation) = item.explanation() {
            let _ = writeln!(out, "explanation = {}", q(explanation));
        }
        out.push_str("options = [\n");
        for opt in item.options() {
            let _ = write!(out, "  {{ label = \"{}\", text = {}", opt.label(), q(opt.text()));
            if let Key::Weighted(points) = item.key() {
                let _ = write!(out, ", points = {}", points[opt.label().index()]);
            }
            out.push_str(" },\n");
        }
        out.push_str("]\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(header: &str, expected: u8) {
        assert_eq!(sniff_delimiter(header) as char, expected as char, "{header}");
    }

    #[test]
    fn the_separator_is_read_from_the_header_row() {
        check("id,section,topic,stem\nX;Y", b',');
        check("id;section;topic;stem\nX,Y,Z,W,V", b';');
        check("id", b',');
        check("", b',');
    }
}
