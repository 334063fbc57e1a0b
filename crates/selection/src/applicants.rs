//! The applicant list (CSV or XLSX): who applied to which formation and track, with the
//! two tie-breakers the final ranking needs (education score and date of birth).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Cursor;

use item_bank::{Diagnostic, Diagnostics};
use scoring::{BirthDate, Gpa};

use crate::definition::{FormationCode, Selection, Track};

/// A participant number (nomor peserta), unique within the selection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParticipantNo(String);

impl ParticipantNo {
    /// A participant number: non-empty, without spaces.
    pub fn parse(s: &str) -> Option<ParticipantNo> {
        let s = s.trim();
        (!s.is_empty() && !s.chars().any(char::is_whitespace)).then(|| ParticipantNo(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ParticipantNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One applicant, checked against the selection: their formation exists and admits
/// their track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    participant: ParticipantNo,
    name: String,
    formation: FormationCode,
    track: Track,
    education: Option<Gpa>,
    born: BirthDate,
}

impl Applicant {
    pub fn participant(&self) -> &ParticipantNo {
        &self.participant
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn formation(&self) -> &FormationCode {
        &self.formation
    }
    pub fn track(&self) -> Track {
        self.track
    }
    /// IPK or diploma average in hundredths; `None` when the list left it blank (ranked
    /// after every applicant with one, as scoring's `FinalKey` does).
    pub fn education(&self) -> Option<Gpa> {
        self.education
    }
    pub fn born(&self) -> BirthDate {
        self.born
    }
}

/// Every applicant of a selection, by participant number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicants(BTreeMap<ParticipantNo, Applicant>);

impl Applicants {
    pub fn get(&self, participant: &ParticipantNo) -> Option<&Applicant> {
        self.0.get(participant)
    }
    pub fn iter(&self) -> impl Iterator<Item = &Applicant> {
        self.0.values()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The applicants of one formation's track, by participant number.
    pub fn of(&self, formation: &FormationCode, track: Track) -> impl Iterator<Item = &Applicant> {
        self.0.values().filter(move |a| a.formation == *formation && a.track == track)
    }

    /// Reads a CSV list (comma or semicolon, as spreadsheets in Indonesian locales save
    /// it) with the header `COLUMNS`. Every problem comes back at once; nothing is
    /// accepted when any is found.
    pub fn parse_csv(file: &str, bytes: &[u8], selection: &Selection) -> Result<Applicants, Diagnostics> {
        let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
        let delimiter = if first.contains(&b';') && !first.contains(&b',') { b';' } else { b',' };
        let mut reader =
            csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(bytes);
        let mut rows = Vec::new();
        // A byte that is not UTF-8 (a file saved as "CSV" in a legacy code page) is one
        // problem of its line: the row is still checked, read with a replacement
        // character, so the file's other mistakes come back with it.
        let mut encoding = Vec::new();
        for record in reader.byte_records() {
            match record {
                Ok(r) => {
                    let line = r.position().map_or(0, |p| p.line() as usize);
                    if r.iter().any(|cell| std::str::from_utf8(cell).is_err()) {
                        encoding.push(diag(
                            file,
                            Some(line),
                            None,
                            "not UTF-8 text: save the file as \"CSV UTF-8\"".to_owned(),
                        ));
                    }
                    rows.push(RawRow {
                        line,
                        cells: r.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect(),
                    });
                }
                Err(e) => {
                    let line = e.position().map(|p| p.line() as usize);
                    return Err(Diagnostics(vec![diag(file, line, None, format!("not readable as CSV: {e}"))]));
                }
            }
        }
        match Applicants::from_rows(file, rows, selection) {
            Ok(list) if encoding.is_empty() => Ok(list),
            Ok(_) => Err(Diagnostics(encoding)),
            Err(Diagnostics(mut problems)) => {
                problems.extend(encoding);
                problems.sort_by_key(|d| d.line);
                Err(Diagnostics(problems))
            }
        }
    }

    /// Reads the first sheet of an XLSX workbook; row numbers are the spreadsheet's.
    ///
    /// Cells are read one by one, not as calamine's dense range: a range spans from the
    /// first used cell to the last, so a small file with one cell at `XFD1048576` would ask
    /// for hundreds of gigabytes. A cell beyond [`MAX_ROWS`] or [`MAX_COLUMNS`] refuses the
    /// sheet.
    pub fn parse_xlsx(file: &str, bytes: &[u8], selection: &Selection) -> Result<Applicants, Diagnostics> {
        use calamine::{Data, Reader as _};
        let unreadable = |e: String| Diagnostics(vec![diag(file, None, None, format!("not readable as XLSX: {e}"))]);
        let mut book = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
        let Some(sheet) = book.sheet_names().first().cloned() else {
            return Err(unreadable("the workbook has no sheet".to_owned()));
        };
        let mut cells = book.worksheet_cells_reader(&sheet).map_err(|e| unreadable(e.to_string()))?;
        let text = |cell: &Data| match cell {
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::DateTime(d) => serial_date(d.as_f64()),
            other => other.to_string(),
        };
        let mut rows: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        while let Some(cell) = cells.next_cell().map_err(|e| unreadable(e.to_string()))? {
            let (row, col) = cell.get_position();
            if row as usize >= MAX_ROWS || col as usize >= MAX_COLUMNS {
                return Err(Diagnostics(vec![diag(
                    file,
                    Some(row as usize + 1),
                    None,
                    format!(
                        "the sheet is too large: a cell in column {} of row {}; at most {MAX_ROWS} rows and \
                         {MAX_COLUMNS} columns are read",
                        col + 1,
                        row + 1
                    ),
                )]));
            }
            let value = text(&Data::from(cell.get_value().clone()));
            let cells = rows.entry(row).or_default();
            if cells.len() <= col as usize {
                cells.resize(col as usize + 1, String::new());
            }
            cells[col as usize] = value;
        }
        let rows = rows.into_iter().map(|(row, cells)| RawRow { line: row as usize + 1, cells }).collect();
        Applicants::from_rows(file, rows, selection)
    }

    fn from_rows(file: &str, rows: Vec<RawRow>, selection: &Selection) -> Result<Applicants, Diagnostics> {
        let mut problems: Vec<(usize, Option<&'static str>, String)> = Vec::new();
        let mut rows = rows.into_iter().filter(|r| r.cells.iter().any(|c| !c.trim().is_empty()));
        let Some(header) = rows.next() else {
            return Err(Diagnostics(vec![diag(
                file,
                None,
                None,
                format!("empty: expected the header {}", COLUMNS.join(",")),
            )]));
        };
        let mut at = [usize::MAX; 6];
        for (i, name) in COLUMNS.iter().enumerate() {
            match header.cells.iter().position(|h| h.trim().trim_start_matches('\u{feff}').eq_ignore_ascii_case(name)) {
                Some(p) => at[i] = p,
                None => problems.push((header.line, Some(COLUMNS[i]), "missing column".to_owned())),
            }
        }
        if !problems.is_empty() {
            return Err(to_diags(file, problems));
        }
        let mut out: BTreeMap<ParticipantNo, Applicant> = BTreeMap::new();
        let mut first_line: BTreeMap<ParticipantNo, usize> = BTreeMap::new();
        for row in rows {
            let cell = |i: usize| row.cells.get(at[i]).map_or("", |c| c.trim()).to_owned();
            let raw = RawApplicant {
                line: row.line,
                participant: cell(0),
                name: cell(1),
                formation: cell(2),
                track: cell(3),
                education: cell(4),
                born: cell(5),
            };
            let line = raw.line;
            match Applicant::try_from(Checked { raw, selection }) {
                Ok(a) => {
                    if let Some(first) = first_line.get(&a.participant) {
                        problems.push((
                            line,
                            Some("nomor_peserta"),
                            format!("{} is already on line {first}", a.participant),
                        ));
                    } else {
                        first_line.insert(a.participant.clone(), line);
                        out.insert(a.participant.clone(), a);
                    }
                }
                Err(p) => problems.extend(p.into_iter().map(|(f, m)| (line, Some(f), m))),
            }
        }
        if problems.is_empty() { Ok(Applicants(out)) } else { Err(to_diags(file, problems)) }
    }
}

/// The columns of an applicant list, in Bahasa Indonesia as committees write them; their
/// order in the file does not matter.
/// The most rows a spreadsheet of applicants may reach: far above any selection, far
/// below what would exhaust memory.
pub const MAX_ROWS: usize = 1_000_000;
/// The most columns read: the list has six, with room for a committee's own notes.
pub const MAX_COLUMNS: usize = 50;

pub const COLUMNS: [&str; 6] = ["nomor_peserta", "nama", "formasi", "jalur", "nilai_pendidikan", "tanggal_lahir"];

struct RawRow {
    line: usize,
    cells: Vec<String>,
}

/// One row as the file wrote it.
struct RawApplicant {
    line: usize,
    participant: String,
    name: String,
    formation: String,
    track: String,
    education: String,
    born: String,
}

/// A row with the selection it must fit.
struct Checked<'a> {
    raw: RawApplicant,
    selection: &'a Selection,
}

impl TryFrom<Checked<'_>> for Applicant {
    /// Every problem of the row: (column, message).
    type Error = Vec<(&'static str, String)>;

    fn try_from(c: Checked<'_>) -> Result<Applicant, Self::Error> {
        let Checked { raw, selection } = c;
        let mut problems = Vec::new();
        let participant = ParticipantNo::parse(&raw.participant);
        if participant.is_none() {
            problems.push(("nomor_peserta", format!("{:?} is not a participant number", raw.participant)));
        }
        if raw.name.is_empty() {
            problems.push(("nama", "empty".to_owned()));
        }
        let formation = selection.formation(&raw.formation);
        if formation.is_none() {
            let mut message = format!("unknown formation {:?}", raw.formation);
            let near = selection
                .formations()
                .iter()
                .map(|f| (strsim::levenshtein(&f.code().as_str().to_lowercase(), &raw.formation.to_lowercase()), f))
                .min_by_key(|(d, _)| *d);
            if let Some((d, f)) = near
                && d <= 3
            {
                message.push_str(&format!(" (did you mean {}?)", f.code()));
            }
            problems.push(("formasi", message));
        }
        let track = Track::parse(&raw.track);
        match (track, formation) {
            (None, _) => {
                let names: Vec<&str> = Track::ALL.iter().map(|t| t.indonesian()).collect();
                problems.push(("jalur", format!("{:?} is not a track (one of {})", raw.track, names.join(", "))));
            }
            (Some(t), Some(f)) if f.track(t).is_none() => {
                let admitted: Vec<&str> = f.tracks().iter().map(|s| s.track.indonesian()).collect();
                problems.push((
                    "jalur",
                    format!(
                        "formation {} does not admit {} (it admits {})",
                        f.code(),
                        t.indonesian(),
                        admitted.join(", ")
                    ),
                ));
            }
            _ => {}
        }
        let education = if raw.education.is_empty() {
            Ok(None)
        } else {
            parse_hundredths(&raw.education).map(|v| Some(Gpa(v))).ok_or(())
        };
        if education.is_err() {
            problems.push((
                "nilai_pendidikan",
                format!(
                    "{:?} is not a grade average (e.g. 3.75 or 87,25; at most two decimals, at most 100)",
                    raw.education
                ),
            ));
        }
        let born = parse_date(&raw.born);
        if born.is_none() {
            problems.push(("tanggal_lahir", format!("{:?} is not a date (YYYY-MM-DD or DD-MM-YYYY)", raw.born)));
        }
        match (participant, formation, track, education, born) {
            (Some(participant), Some(f), Some(track), Ok(education), Some(born)) if problems.is_empty() => {
                Ok(Applicant { participant, name: raw.name, formation: f.code().clone(), track, education, born })
            }
            _ => Err(problems),
        }
    }
}

fn diag(file: &str, line: Option<usize>, field: Option<&str>, message: String) -> Diagnostic {
    Diagnostic { file: file.to_owned(), line, item: None, field: field.map(str::to_owned), message }
}

fn to_diags(file: &str, mut problems: Vec<(usize, Option<&'static str>, String)>) -> Diagnostics {
    problems.sort_by_key(|p| p.0);
    Diagnostics(problems.into_iter().map(|(l, f, m)| diag(file, Some(l), f, m)).collect())
}

/// "3.75", "3,75", "87.25", "90" in hundredths, at most 100.00.
fn parse_hundredths(s: &str) -> Option<u32> {
    let s = s.replace(',', ".");
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let frac: u32 = format!("{frac:0<2}").parse().ok()?;
    let v = whole.checked_mul(100)?.checked_add(frac)?;
    (v <= 10_000).then_some(v)
}

/// `YYYY-MM-DD`, or `DD-MM-YYYY` / `DD/MM/YYYY` as Indonesian forms write it.
fn parse_date(s: &str) -> Option<BirthDate> {
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    let [a, b, c] = parts.as_slice() else { return None };
    let num =
        |p: &str| (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse::<u16>().ok()).flatten();
    let (y, m, d) = if a.len() == 4 {
        (num(a)?, num(b)?, num(c)?)
    } else if c.len() == 4 {
        (num(c)?, num(b)?, num(a)?)
    } else {
        return None;
    };
    BirthDate::new(y, u8::try_from(m).ok()?, u8::try_from(d).ok()?)
}

/// A spreadsheet date serial (days since 1899-12-30) as `YYYY-MM-DD`.
fn serial_date(serial: f64) -> String {
    // Days from 1970-01-01, then the civil calendar (Howard Hinnant's days_from_civil inverse).
    let z = serial.floor() as i64 - 25_569 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grade_averages_read_in_hundredths() {
        for (s, v) in
            [("3.75", Some(375)), ("3,75", Some(375)), ("87.25", Some(8725)), ("90", Some(9000)), ("3.5", Some(350))]
        {
            assert_eq!(parse_hundredths(s), v, "{s}");
        }
        for bad in ["", "3.755", "-3", "abc", "100.01", "3..5", ".5"] {
            assert_eq!(parse_hundredths(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_read_in_both_orders_and_only_real_days() {
        assert_eq!(parse_date("1998-02-03"), BirthDate::new(1998, 2, 3));
        assert_eq!(parse_date("03-02-1998"), BirthDate::new(1998, 2, 3));
        assert_eq!(parse_date("03/02/1998"), BirthDate::new(1998, 2, 3));
        for bad in ["1998-02-30", "98-02-03", "1998/13/01", "kemarin", ""] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn spreadsheet_serials_are_calendar_days() {
        assert_eq!(serial_date(25_569.0), "1970-01-01");
        assert_eq!(serial_date(36_526.0), "2000-01-01");
        assert_eq!(serial_date(35_829.5), "1998-02-03");
    }
}
