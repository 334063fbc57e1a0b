//! The applicant list: the sample reads; every mistake comes back at once with line and
//! column, and nothing is accepted when any is wrong.

use scoring::{BirthDate, Gpa};
use selection::{Applicants, ParticipantNo, Track};

use crate::{repo, sample};

#[test]
fn the_sample_applicants_read_as_written() {
    let bytes = std::fs::read(repo("question-banks/selections/sawahlunto-2026/applicants.csv")).expect("read");
    let list = Applicants::parse_csv("applicants.csv", &bytes, &sample()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(list.len(), 14);
    let a = list.get(&ParticipantNo::parse("2026-0005").expect("no")).expect("applicant");
    assert_eq!((a.name(), a.formation().as_str(), a.track()), ("Fajar Ramadhan", "PK-DISKOMINFO", Track::Disability));
    assert_eq!(a.education(), Some(Gpa(355)));
    assert_eq!(a.born(), BirthDate::new(1996, 3, 7).expect("date"));
    let blank = list.get(&ParticipantNo::parse("2026-0013").expect("no")).expect("applicant");
    assert_eq!(blank.education(), None, "a blank education score is missing, not zero");
    let ids: Vec<&str> = list
        .of(sample().formation("AK-BPKD").expect("f").code(), Track::General)
        .map(|a| a.participant().as_str())
        .collect();
    assert_eq!(ids, ["2026-0010", "2026-0011", "2026-0013", "2026-0014"]);
}

const HEADER: &str = "nomor_peserta,nama,formasi,jalur,nilai_pendidikan,tanggal_lahir\n";

#[track_caller]
fn check(body: &str, expected: &str) {
    let text = format!("{HEADER}{body}");
    let got = match Applicants::parse_csv("pelamar.csv", text.as_bytes(), &sample()) {
        Ok(list) => format!("ok {}", list.len()),
        Err(d) => d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"),
    };
    assert_eq!(got, expected.trim());
}

#[test]
fn every_mistake_is_reported_with_its_line_and_column() {
    check(
        "\
A1,Budi,PK-DISKOMINFO,umum,3.50,1999-01-02
A2,Ani,PK-DISKOMNFO,umum,3.50,1999-01-02
A3,Citra,PK-BAPPEDA,disabilitas,3.50,1999-01-02
A4,Dodi,PK-BAPPEDA,umum,3.5a,1999-02-30
A1,Eka,AK-BPKD,umum,3.10,2000-01-01
A 6,,AK-BPKD,pns,,2000-01-01
",
        r#"
pelamar.csv:3: formasi: unknown formation "PK-DISKOMNFO" (did you mean PK-DISKOMINFO?)
pelamar.csv:4: jalur: formation PK-BAPPEDA does not admit disabilitas (it admits umum)
pelamar.csv:5: nilai_pendidikan: "3.5a" is not a grade average (e.g. 3.75 or 87,25; at most two decimals, at most 100)
pelamar.csv:5: tanggal_lahir: "1999-02-30" is not a date (YYYY-MM-DD or DD-MM-YYYY)
pelamar.csv:6: nomor_peserta: A1 is already on line 2
pelamar.csv:7: nomor_peserta: "A 6" is not a participant number
pelamar.csv:7: nama: empty
pelamar.csv:7: jalur: "pns" is not a track (one of umum, cumlaude_diaspora, disabilitas, papua)
"#,
    );
}

#[test]
fn an_unknown_formation_far_from_any_gets_no_suggestion() {
    check("A1,Budi,GURU-SD,umum,3.50,1999-01-02\n", r#"pelamar.csv:2: formasi: unknown formation "GURU-SD""#);
}

#[test]
fn a_missing_column_is_reported_before_any_row() {
    let got = Applicants::parse_csv("p.csv", b"nomor_peserta,nama,formasi,jalur\nA1,Budi,PK-BAPPEDA,umum\n", &sample())
        .expect_err("refused");
    assert_eq!(
        got.to_string().trim(),
        "p.csv:1: nilai_pendidikan: missing column\np.csv:1: tanggal_lahir: missing column"
    );
    let empty = Applicants::parse_csv("p.csv", b"", &sample()).expect_err("refused");
    assert!(empty.to_string().contains("empty: expected the header"), "{empty}");
}

#[test]
fn columns_may_come_in_any_order_and_semicolons_separate_too() {
    let text =
        "tanggal_lahir;jalur;nama;nomor_peserta;formasi;nilai_pendidikan\n02-01-1999;Umum;Budi;A1;PK-BAPPEDA;3,50\n";
    let list = Applicants::parse_csv("p.csv", text.as_bytes(), &sample()).unwrap_or_else(|e| panic!("{e}"));
    let a = list.get(&ParticipantNo::parse("A1").expect("no")).expect("applicant");
    assert_eq!(a.born(), BirthDate::new(1999, 1, 2).expect("date"));
    assert_eq!(a.education(), Some(Gpa(350)));
    assert_eq!(a.track(), Track::General);
}

#[test]
fn an_xlsx_list_reads_like_the_csv_with_spreadsheet_row_numbers() {
    let bytes = std::fs::read(repo("crates/selection/tests/fixtures/pelamar.xlsx")).expect("fixture");
    let list = Applicants::parse_xlsx("pelamar.xlsx", &bytes, &sample()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(list.len(), 2);
    let a = list.get(&ParticipantNo::parse("X-0001").expect("no")).expect("applicant");
    assert_eq!(a.born(), BirthDate::new(1998, 2, 3).expect("date"), "a date cell reads as its day");
    assert_eq!(a.education(), Some(Gpa(375)), "a number cell reads as its value");
    let bad = std::fs::read(repo("crates/selection/tests/fixtures/pelamar-salah.xlsx")).expect("fixture");
    let errors = Applicants::parse_xlsx("pelamar-salah.xlsx", &bad, &sample()).expect_err("refused");
    assert_eq!(
        errors.to_string().trim(),
        r#"pelamar-salah.xlsx:3: formasi: unknown formation "PK-BAPEDA" (did you mean PK-BAPPEDA?)"#
    );
    let not_xlsx = Applicants::parse_xlsx("x.xlsx", b"nomor_peserta,nama", &sample()).expect_err("refused");
    assert!(not_xlsx.to_string().starts_with("x.xlsx: not readable as XLSX"), "{not_xlsx}");
}

#[test]
fn a_workbook_with_a_cell_at_the_far_corner_is_refused_without_reading_the_range() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "nomor_peserta").expect("header");
    sheet.write_string(1_048_575, 16_383, "x").expect("far cell");
    let bytes = book.save_to_buffer().expect("xlsx");
    assert!(bytes.len() < 10_000, "a small file: {} bytes", bytes.len());
    let errors = Applicants::parse_xlsx("besar.xlsx", &bytes, &sample()).expect_err("refused");
    assert_eq!(
        errors.to_string(),
        "besar.xlsx:1048576: the sheet is too large: a cell in column 16384 of row 1048576; at most 1000000 rows \
         and 50 columns are read"
    );
}

#[test]
fn a_byte_that_is_not_utf8_is_its_lines_problem_and_the_other_rows_are_checked() {
    let mut text = HEADER.as_bytes().to_vec();
    text.extend_from_slice(b"A1,Bud\xE9,PK-DISKOMINFO,umum,3.50,1999-01-02\n");
    text.extend_from_slice(b"A2,Ani,PK-DISKOMNFO,umum,3.50,1999-01-02\n");
    let errors = Applicants::parse_csv("pelamar.csv", &text, &sample()).expect_err("refused");
    let got: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        got,
        [
            r#"pelamar.csv:2: not UTF-8 text: save the file as "CSV UTF-8""#,
            r#"pelamar.csv:3: formasi: unknown formation "PK-DISKOMNFO" (did you mean PK-DISKOMINFO?)"#,
        ]
    );
}
