//! `ujian selection check` as a committee member runs it: a summary per formation, or
//! every mistake at once with exit 1.

use std::process::Command;

use crate::helpers::repo;

fn ujian(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ujian")).args(args).current_dir(repo("")).output().expect("run ujian");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const SAMPLE: &str = "question-banks/selections/sawahlunto-2026";

#[test]
fn selection_check_summarises_the_sample_per_formation_and_track() {
    let selection = format!("{SAMPLE}/selection.toml");
    let applicants = format!("{SAMPLE}/applicants.csv");
    let (code, out, err) = ujian(&["selection", "check", &selection, "--applicants", &applicants]);
    assert_eq!(code, 0, "{err}");
    for line in [
        "selection Seleksi CPNS Kota Sawahlunto 2026 (contoh)",
        "SKD: exam SKD-2026, 3 x openings go on, shortfall passers_only",
        "PK-DISKOMINFO    umum                        2          4  Pranata Komputer Ahli Pertama / Dinas Komunikasi dan Informatika",
        "                 disabilitas                 1          2",
        "AK-BPKD          umum                        3          4  Analis Keuangan Pusat dan Daerah Ahli Pertama / \
         Badan Pengelolaan Keuangan Daerah",
        "                 cumlaude_diaspora           1          1",
        "  wawancara      Wawancara                    30%, two assessors, 4 criteria out of 100, tolerance 10",
        "  kesamaptaan    Tes kesamaptaan jasmani      pass/fail",
        "final: SKD 40% + SKB 60%",
        "ok: 3 formations, 8 openings, 14 applicants",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn selection_check_lists_every_applicant_mistake_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("pelamar.csv");
    std::fs::write(
        &csv,
        "nomor_peserta,nama,formasi,jalur,nilai_pendidikan,tanggal_lahir\n\
         A1,Budi,PK-BAPEDA,umum,3.50,1999-01-02\n\
         A2,Ani,PK-BAPPEDA,disabilitas,3.50,1999-02-30\n",
    )
    .expect("write");
    let selection = format!("{SAMPLE}/selection.toml");
    let (code, out, err) = ujian(&["selection", "check", &selection, "--applicants", csv.to_str().expect("utf8")]);
    assert_eq!(code, 1, "{out}");
    let name = csv.display();
    for line in [
        format!("{name}:2: formasi: unknown formation \"PK-BAPEDA\" (did you mean PK-BAPPEDA?)"),
        format!("{name}:3: jalur: formation PK-BAPPEDA does not admit disabilitas (it admits umum)"),
        format!("{name}:3: tanggal_lahir: \"1999-02-30\" is not a date (YYYY-MM-DD or DD-MM-YYYY)"),
        "3 problems found".to_owned(),
    ] {
        assert!(err.lines().any(|l| l == line), "missing {line:?} in:\n{err}");
    }
    assert!(out.is_empty(), "no summary when anything is wrong: {out}");
}

#[test]
fn selection_check_refuses_weights_that_do_not_add_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("selection.toml");
    let text = std::fs::read_to_string(repo(&format!("{SAMPLE}/selection.toml"))).expect("read");
    std::fs::write(&file, text.replacen("weight = 50", "weight = 45", 1)).expect("write");
    let (code, _, err) = ujian(&["selection", "check", file.to_str().expect("utf8")]);
    assert_eq!(code, 1);
    assert!(
        err.contains("weight: SKB weights must add up to 100 percent, got 95 (cat 45 + wawancara 30 + praktik 20)"),
        "{err}"
    );
    assert!(err.contains("1 problem found"), "{err}");
}
