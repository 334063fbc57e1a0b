//! A stored selection parsed again, as an exam is: its `selection.toml` text through the
//! selection crate, its applicants through the same list parser the import used.

use selection::{Applicant, Applicants, Selection};
use store::{ApplicantRow, Store};

/// A selection as stored, checked again.
pub struct StoredSelection {
    pub id: String,
    pub selection: Selection,
    pub applicants: Applicants,
}

impl StoredSelection {
    pub async fn load(store: &Store, id: &str) -> anyhow::Result<StoredSelection> {
        let row = store.get_selection(id).await?.ok_or_else(|| anyhow::anyhow!("selection {id} is not stored"))?;
        let file = format!("stored:{id}");
        let selection = Selection::parse(&file, &row.source)
            .map_err(|d| anyhow::anyhow!("stored selection {id} no longer parses: {d}"))?;
        let rows = store.selection_applicants(id).await?;
        let applicants = Applicants::parse_csv(&format!("{file}:applicants"), csv(&rows).as_bytes(), &selection)
            .map_err(|d| anyhow::anyhow!("stored applicants of {id} no longer parse: {d}"))?;
        Ok(StoredSelection { id: id.to_owned(), selection, applicants })
    }
}

/// An id names a selection in commands and addresses: letters, digits, '-' and '_'.
pub fn is_selection_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The row an applicant is stored as.
pub fn applicant_row(a: &Applicant) -> ApplicantRow {
    let born = a.born();
    ApplicantRow {
        participant_no: a.participant().as_str().to_owned(),
        name: a.name().to_owned(),
        formation: a.formation().as_str().to_owned(),
        track: a.track().as_str().to_owned(),
        education: a.education().map(|g| i64::from(g.0)),
        birth_date: format!("{:04}-{:02}-{:02}", born.year(), born.month(), born.day()),
    }
}

/// Stored rows as the applicant list they came from, for the list's own parser.
fn csv(rows: &[ApplicantRow]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["nomor_peserta", "nama", "formasi", "jalur", "nilai_pendidikan", "tanggal_lahir"]);
    for r in rows {
        let education = r.education.map(|e| format!("{}.{:02}", e / 100, e % 100)).unwrap_or_default();
        let _ = w.write_record([&r.participant_no, &r.name, &r.formation, &r.track, &education, &r.birth_date]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
