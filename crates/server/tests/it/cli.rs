//! The `ujian` binary as a committee member runs it.

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

#[test]
fn bank_validate_passes_the_skd_sample_and_prints_counts_and_hash() {
    let (code, out, err) = ujian(&["bank", "validate", "question-banks/skd"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("bank skd"), "{out}");
    assert!(out.contains("sha256 "), "{out}");
    for line in ["TWK", "pilar-negara", "figural", "anti-radikalisme", "ok: 220 items"] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn bank_validate_lists_every_planted_mistake_with_file_and_line_and_exits_1() {
    let (code, _, err) = ujian(&["bank", "validate", "crates/item-bank/tests/fixtures/broken"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("crates/item-bank/tests/fixtures/broken/items.toml:21: item BAD-001: text: option E has no text"),
        "{err}"
    );
    assert!(err.contains("10 problems found"), "{err}");
    // Sorted by file, then line.
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("items.toml:")).collect();
    let numbers: Vec<usize> =
        lines.iter().map(|l| l.split(':').nth(1).and_then(|n| n.parse().ok()).expect("line")).collect();
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    assert_eq!(numbers, sorted);
}

#[test]
fn bank_lint_prints_the_cue_figures_and_strict_fails_a_bank_passed_unread() {
    let bank = "crates/item-bank/tests/fixtures/lint/longest-key";
    let exam = format!("{bank}/exam.toml");
    let (code, out, err) = ujian(&["bank", "lint", bank, "--exam", &exam]);
    assert_eq!(code, 0, "warnings alone do not fail: {err}");
    assert!(
        out.contains("L        (all)                        longest                 6/6     1.5    <0.001"),
        "{out}"
    );
    assert!(out.contains("L        longest              30.0        25"), "{out}");
    assert!(
        err.contains(&format!(
            "{exam}:5: warning: reading-free-score: section L: always choosing the longest option without reading the stem expects 30.0 points, reaching the threshold 25"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{bank}/items.toml:11: warning: item L-2: longest-key: the key (A) is the longest option"
        )),
        "{err}"
    );
    assert!(err.ends_with("0 errors, 8 warnings\n"), "{err}");

    let (code, _, err) = ujian(&["bank", "lint", bank, "--exam", &exam, "--strict"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.ends_with("8 errors, 0 warnings\n"), "{err}");

    // validate shows the same findings (without the exam's) and still passes the bank.
    let (code, out, err) = ujian(&["bank", "validate", bank]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok: 6 items"), "{out}");
    assert!(err.contains("warning: item L-6: longest-key"), "{err}");
    assert!(err.contains("7 lint warnings"), "{err}");
}

#[test]
fn exam_check_prints_the_blueprint_table() {
    let (code, out, err) = ujian(&["exam", "check", "question-banks/exams/skd.toml"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("TWK         30    60"), "{out}");
    assert!(out.contains("TKP         45    90  weighted, blank 0    225       166"), "{out}");
    assert!(out.contains("ties broken by TKP, then TIU, then TWK"), "{out}");
    let (code, _, err) = ujian(&["exam", "check", "question-banks/exams/nope.toml"]);
    assert_eq!(code, 1);
    assert!(err.contains("nope.toml"), "{err}");
}

#[test]
fn csv_import_writes_an_item_file_or_reports_every_bad_row() {
    let dir = tempfile::tempdir().expect("tmp");
    let csv = dir.path().join("items.csv");
    std::fs::write(&csv, "id,section,topic,stem,answer,a,b\nX-1,TWK,t,Soal,B,ya,tidak\n").expect("write");
    let out = dir.path().join("items.toml");
    let (code, stdout, err) =
        ujian(&["bank", "import-csv", csv.to_str().expect("utf8"), "--out", out.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("wrote 1 items"), "{stdout}");
    assert!(std::fs::read_to_string(&out).expect("read").contains("id = \"X-1\""));

    std::fs::write(&csv, "id,section,topic,stem,answer,a,b\nX-1,TWK,t,Soal,F,ya,tidak\nX-2,TWK,t,,A,ya,tidak\n")
        .expect("write");
    let (code, _, err) =
        ujian(&["bank", "import-csv", csv.to_str().expect("utf8"), "--out", out.to_str().expect("utf8"), "--force"]);
    assert_eq!(code, 1);
    assert!(err.contains("items.csv:2: item X-1: answer"), "{err}");
    assert!(err.contains("items.csv:3: item X-2: stem: missing"), "{err}");
}

#[test]
fn bank_import_writes_a_valid_bank_with_a_summary_or_nothing_when_a_question_is_wrong() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("latihan");
    let out_s = out.to_str().expect("utf8");
    let (code, stdout, err) =
        ujian(&["bank", "import", "crates/bank-formats/tests/fixtures/soal.gift", "--out", out_s]);
    assert_eq!(code, 0, "{err}");
    for line in
        ["gift import of", "imported     3  topic wawasan-kebangsaan-pancasila", "essay (lines 26)", "wrote 6 items"]
    {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    let (code, validated, err) = ujian(&["bank", "validate", out_s]);
    assert_eq!(code, 0, "{err}");
    let hash = |text: &str| text.lines().find_map(|l| l.strip_prefix("sha256 ").map(str::to_owned));
    assert!(stdout.contains(&hash(&validated).expect("hash")), "the summary names the bank's hash");

    let again = dir.path().join("lagi");
    let (code, _, err) = ujian(&[
        "bank",
        "import",
        "gift",
        "crates/bank-formats/tests/fixtures/soal.gift",
        "--out",
        again.to_str().expect("utf8"),
        "--name",
        "latihan",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, revalidated, _) = ujian(&["bank", "validate", again.to_str().expect("utf8")]);
    assert_eq!(hash(&revalidated), hash(&validated), "the same file imports to the same bank hash");

    let bad = dir.path().join("rusak");
    let (code, _, err) = ujian(&[
        "bank",
        "import",
        "aiken",
        "crates/bank-formats/tests/fixtures/broken.aiken.txt",
        "--out",
        bad.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("broken.aiken.txt:8: ANSWER \"E\" is not one of the options (A, B)"), "{err}");
    assert!(err.contains("6 problems found; nothing written"), "{err}");
    assert!(!bad.exists(), "nothing is written when a question is wrong");
}

#[test]
fn candidates_import_hashes_pins_and_writes_generated_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let csv = dir.path().join("peserta.csv");
    std::fs::write(&csv, "participant_no,name,pin\nA-1,Ani,123456\nA-2,Budi,\n").expect("write");
    let data = dir.path().join("data");
    let pins = dir.path().join("pins.csv");
    let (code, out, err) = ujian(&[
        "--data-dir",
        data.to_str().expect("utf8"),
        "candidates",
        "import",
        csv.to_str().expect("utf8"),
        "--pins-out",
        pins.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imported 2 candidates"), "{out}");
    let generated = std::fs::read_to_string(&pins).expect("pins");
    assert!(generated.starts_with("participant_no,pin\nA-2,"), "{generated}");
    assert!(!generated.contains("A-1"), "a given PIN is not written out");
    let db = std::fs::read(data.join("ujian.db")).expect("db");
    assert!(!db.windows(6).any(|w| w == b"123456"), "the PIN itself is never stored");
}

#[test]
fn a_committee_prepares_a_sitting_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf8");
    let csv = dir.path().join("peserta.csv");
    std::fs::write(&csv, "participant_no,name,pin\nA-1,Ani,123456\nA-2,Budi,654321\n").expect("write");
    let run = |args: &[&str]| {
        let mut all = vec!["--data-dir", d];
        all.extend_from_slice(args);
        ujian(&all)
    };
    assert_eq!(run(&["exam", "import", "question-banks/exams/sample-en.toml"]).0, 0);
    assert_eq!(run(&["candidates", "import", csv.to_str().expect("utf8")]).0, 0);
    let prepare = [
        "sitting",
        "prepare",
        "--id",
        "S-1",
        "--exam",
        "SAMPLE-EN",
        "--venue",
        "Aula",
        "--starts-at",
        "2026-11-24T08:00:00+07:00",
        "--candidates",
        csv.to_str().expect("utf8"),
    ];
    let (code, out, err) = run(&prepare);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("sitting S-1 (SAMPLE-EN, Aula): 2 candidates, papers drawn"), "{out}");
    let token =
        out.lines().find_map(|l| l.strip_prefix("token ")).and_then(|l| l.split(' ').next()).expect("token").to_owned();
    assert_eq!(token.len(), 6);
    // Again: nothing changes, same token.
    let (_, again, _) = run(&prepare);
    assert!(again.contains(&format!("token {token}")), "{again}");
    let (code, _, err) = run(&[
        "sitting",
        "prepare",
        "--id",
        "S-2",
        "--exam",
        "NOPE",
        "--venue",
        "x",
        "--starts-at",
        "2026-11-24T08:00:00Z",
        "--candidates",
        csv.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("exam NOPE is not stored"), "{err}");
}

/// The database file's bytes once the command that last touched it has closed it: what a
/// refused command must leave exactly as it was.
fn database_bytes(data: &std::path::Path) -> Vec<u8> {
    let wal = std::fs::metadata(data.join("ujian.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the last command left writes in its WAL");
    std::fs::read(data.join("ujian.db")).expect("read the database")
}

#[test]
fn every_committee_command_refused_for_a_planted_mistake_changes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf8");
    let path = |name: &str| dir.path().join(name).to_str().expect("utf8").to_owned();
    let run = |args: &[&str]| {
        let mut all = vec!["--data-dir", d];
        all.extend_from_slice(args);
        ujian(&all)
    };
    std::fs::write(path("peserta.csv"), "participant_no,name,pin\nA-1,Ani,123456\nA-2,Budi,654321\n").expect("write");
    assert_eq!(run(&["exam", "import", "question-banks/exams/sample-en.toml"]).0, 0);
    assert_eq!(run(&["candidates", "import", &path("peserta.csv")]).0, 0);
    let prepare = |id: &str, candidates: &str| {
        run(&[
            "sitting",
            "prepare",
            "--id",
            id,
            "--exam",
            "SAMPLE-EN",
            "--venue",
            "Aula",
            "--starts-at",
            "2026-11-24T08:00:00+07:00",
            "--candidates",
            candidates,
        ])
    };
    assert_eq!(prepare("S-1", &path("peserta.csv")).0, 0);
    let (code, out, err) = run(&["staff", "add", "sup1", "--sitting", "S-1"]);
    assert_eq!(code, 0, "{err}");
    let password = out.split("password ").nth(1).expect("password").trim().to_owned();

    let before = database_bytes(&data);
    let refused = |what: &str, (code, out, err): (i32, String, String), says: &[&str]| {
        assert_eq!(code, 1, "{what}: {out}{err}");
        for s in says {
            assert!(err.contains(s), "{what}: missing {s:?} in\n{err}");
        }
        assert!(database_bytes(&data) == before, "{what} changed the database");
    };

    // A typo in the sitting: refused, and the password printed before still stands.
    refused(
        "staff add",
        run(&["staff", "add", "sup1", "--sitting", "S-1", "--sitting", "S-TYPO", "--sitting", "S-NOPE"]),
        &["sitting S-TYPO, S-NOPE does not exist; nothing was changed"],
    );
    // An exam whose bank does not exist.
    std::fs::write(path("exam.toml"), "code = \"X\"\ntitle = \"x\"\nbank = \"nope\"\nduration_minutes = 10\n")
        .expect("write");
    refused("exam import", run(&["exam", "import", &path("exam.toml")]), &["exam.toml"]);
    // One bad row among good ones.
    std::fs::write(path("more.csv"), "participant_no,name,pin\nA-3,Citra,111111\nA-4,,12\n").expect("write");
    refused(
        "candidates import",
        run(&["candidates", "import", &path("more.csv")]),
        &["more.csv:3: column name: missing", "more.csv:3: column pin", "nothing imported"],
    );
    // Two unregistered candidates: both named in one run.
    std::fs::write(path("sitting.csv"), "participant_no\nA-1\nZ-1\nZ-2\n").expect("write");
    refused(
        "sitting prepare",
        prepare("S-2", &path("sitting.csv")),
        &["candidate Z-1 is not registered", "candidate Z-2 is not registered", "2 problems found"],
    );
    refused("results export", run(&["results", "export", "--sitting", "S-9"]), &["sitting S-9 does not exist"]);

    // The supervisor's password is still the one printed when the account was made.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let hash = rt.block_on(async {
        let store = store::Store::open(&store::sqlite_url_in(&data)).await.expect("open");
        let row = store.staff("sup1").await.expect("read").expect("sup1");
        store.close().await;
        row.password_hash
    });
    assert!(server::credentials::verify_secret(&password, &hash), "the old password no longer works");
}

#[tokio::test]
async fn the_demo_runs_from_an_empty_directory_and_prints_every_login() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut child, printed) = spawn_until(
        dir.path(),
        &["demo", "--listen", "127.0.0.1:0", "--candidates", "2", "--data-dir", "data"],
        "stop with ctrl-c",
        120,
    )
    .await;
    for expected in
        ["DEMO-0001", "DEMO-0002", "supervisor (this sitting): pengawas / ", "admin (every sitting):     panitia / "]
    {
        assert!(printed.contains(expected), "missing {expected:?} in:\n{printed}");
    }
    let url = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("exam page (candidates):"))
        .map(|u| u.trim().to_owned())
        .expect("the exam page's URL");
    let health = reqwest::get(format!("{url}health")).await.expect("health");
    assert_eq!(health.status(), 200);
    assert!(dir.path().join("data/question-banks/exams/skd.toml").is_file(), "the sample was unpacked");
    child.kill().await.expect("stop the demo");
}

#[test]
fn items_come_from_a_semicolon_csv_an_xlsx_and_an_ods_into_a_new_folder() {
    let dir = tempfile::tempdir().expect("tmp");
    // What a spreadsheet saves as CSV under Indonesian settings: ';' between cells.
    let csv = dir.path().join("soal.csv");
    std::fs::write(&csv, "id;section;topic;stem;answer;a;b\nX-1;TWK;t;Soal, dengan koma;B;ya;tidak\n").expect("write");
    let sources = [
        csv.to_str().expect("utf8").to_owned(),
        repo("crates/item-bank/tests/fixtures/spreadsheets/soal.xlsx").to_str().expect("utf8").to_owned(),
        repo("crates/item-bank/tests/fixtures/spreadsheets/soal.ods").to_str().expect("utf8").to_owned(),
    ];
    for (i, source) in sources.iter().enumerate() {
        let out = dir.path().join(format!("bank-{i}/nested/items.toml"));
        let (code, stdout, err) = ujian(&["bank", "import-csv", source, "--out", out.to_str().expect("utf8")]);
        assert_eq!(code, 0, "{source}: {err}");
        let written = std::fs::read_to_string(&out).expect("the folder was created and the file written");
        if i == 0 {
            assert!(stdout.contains("with ';' as the separator"), "{stdout}");
            assert!(written.contains("stem = \"Soal, dengan koma\""), "{written}");
        } else {
            assert!(stdout.contains("wrote 2 items"), "{source}: {stdout}");
            assert!(written.contains("id = \"SS-2\""), "{written}");
            assert!(written.contains("difficulty = 3"), "a number cell reads as a whole number: {written}");
            assert!(written.contains("text = \"Pita lambang Garuda\""), "{written}");
        }
    }
}

#[test]
fn a_small_xlsx_with_a_cell_at_the_far_corner_is_refused_not_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "id").expect("header");
    sheet.write_string(1_048_575, 16_383, "x").expect("far cell");
    let xlsx = dir.path().join("besar.xlsx");
    book.save(&xlsx).expect("save");
    let out = dir.path().join("items.toml");
    let (code, _, err) =
        ujian(&["bank", "import-csv", xlsx.to_str().expect("utf8"), "--out", out.to_str().expect("utf8")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the sheet is too large: a cell in column 16384 of row 1048576"), "{err}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn a_new_bank_validates_as_written_and_is_not_made_twice() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().to_str().expect("utf8");
    let (code, out, err) = ujian(&["bank", "new", "bank-kita", "--dir", d]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("bank-kita/bank.toml"), "{out}");
    let folder = dir.path().join("bank-kita");
    let (code, out, err) = ujian(&["bank", "validate", folder.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok: 2 items"), "{out}");
    let (code, _, err) = ujian(&["bank", "new", "bank-kita", "--dir", d]);
    assert_eq!(code, 1);
    assert!(err.contains("exists"), "{err}");
    let (code, _, err) = ujian(&["bank", "new", "Bank Kita", "--dir", d]);
    assert_eq!(code, 1);
    assert!(err.contains("lower case"), "{err}");
}

#[test]
fn bank_export_writes_qti3_and_moodle_xml_that_import_back_to_the_same_bank() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = |name: &str| dir.path().join(name).to_str().expect("utf8").to_owned();
    let hash = |text: &str| text.lines().find_map(|l| l.strip_prefix("sha256 ").map(str::to_owned));
    let (code, validated, err) = ujian(&["bank", "validate", "question-banks/skd"]);
    assert_eq!(code, 0, "{err}");
    let skd = hash(&validated).expect("the sample bank's hash");

    for (format, file) in [("qti3", "skd.zip"), ("moodle-xml", "skd.xml")] {
        let (code, out, err) = ujian(&["bank", "export", format, "question-banks/skd", "--out", &path(file)]);
        assert_eq!(code, 0, "{format}: {err}");
        assert!(out.contains(file), "{format}: the summary names the file written: {out}");
        assert!(out.contains(&skd), "{format}: the summary names the bank's hash: {out}");
        let back = path(&format!("back-{format}"));
        let (code, out, err) = ujian(&["bank", "import", &path(file), "--out", &back]);
        assert_eq!(code, 0, "{format}: {err}\n{out}");
        let (code, revalidated, err) = ujian(&["bank", "validate", &back]);
        assert_eq!(code, 0, "{format}: {err}");
        assert_eq!(hash(&revalidated), Some(skd.clone()), "{format}: the round trip keeps the bank hash");
    }

    let (code, _, err) = ujian(&["bank", "export", "word", "question-banks/skd", "--out", &path("skd.docx")]);
    assert_ne!(code, 0);
    assert!(err.contains("word"), "the refusal names the unknown format: {err}");
    assert!(!dir.path().join("skd.docx").exists(), "a refused export writes nothing");
}

#[test]
fn help_lists_the_committees_day_in_order_and_every_listed_command_exists() {
    let (code, help, _) = ujian(&["--help"]);
    assert_eq!(code, 0);
    let day = ["bank validate", "bank lint", "exam check", "exam import", "candidates import", "sitting prepare"];
    let day = day.iter().chain(&["staff add", "serve", "console", "results export", "audit verify", "receipt verify"]);
    let mut rest = help.as_str();
    for step in day {
        let at = rest.find(step).unwrap_or_else(|| panic!("{step:?} missing or out of order in:\n{help}"));
        rest = &rest[at + step.len()..];
    }
    assert!(help.contains("--role admin") && help.contains("--role supervisor"), "{help}");
    let steps = help.lines().filter_map(|l| l.split_once(" ujian ")).filter(|(before, _)| {
        let before = before.trim();
        before.is_empty() || before.ends_with('.')
    });
    for (_, line) in steps {
        let command: Vec<&str> = line.split_whitespace().take_while(|w| !w.starts_with('-')).take(2).collect();
        let (code, _, err) = ujian(&[command.as_slice(), &["--help"]].concat());
        assert_eq!(code, 0, "`ujian {}` listed in --help does not exist: {err}", command.join(" "));
    }
}

/// Starts `ujian ARGS` in `dir` and returns the running process with what it printed up
/// to the first line containing `until`, within `secs` seconds.
async fn spawn_until(dir: &std::path::Path, args: &[&str], until: &str, secs: u64) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ujian"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start ujian");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut printed = String::new();
    let read = async {
        while let Some(line) = lines.next_line().await.expect("read") {
            printed.push_str(&line);
            printed.push('\n');
            if line.contains(until) {
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(secs), read)
        .await
        .unwrap_or_else(|_| panic!("ujian {args:?} printed no line with {until:?}"));
    (child, printed)
}

/// Starts `ujian serve` in `dir` and returns what it printed up to the console's URL.
async fn serve_banner(dir: &std::path::Path) -> (tokio::process::Child, String) {
    spawn_until(dir, &["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"], "supervisor console", 60).await
}

#[tokio::test]
async fn serve_prints_its_urls_and_how_to_make_the_first_admin() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut child, printed) = serve_banner(dir.path()).await;
    assert!(printed.contains("ujian staff add NAME --role admin"), "no hint to make an admin in:\n{printed}");
    for (label, path) in
        [("exam page (candidates):", "/"), ("public board:", "/board"), ("supervisor console:", "/console")]
    {
        let url = printed.lines().find_map(|l| l.trim().strip_prefix(label)).map(str::trim);
        let url = url.unwrap_or_else(|| panic!("no {label:?} in:\n{printed}"));
        assert!(url.starts_with("http://127.0.0.1:") && url.ends_with(path), "{label} {url}");
        assert_eq!(reqwest::get(url).await.expect("get").status(), 200, "{url}");
    }
    child.kill().await.expect("stop the server");
    child.wait().await.expect("the server stopped");

    let add = std::process::Command::new(env!("CARGO_BIN_EXE_ujian"))
        .args(["staff", "add", "panitia", "--role", "admin", "--data-dir", "data"])
        .current_dir(dir.path())
        .output()
        .expect("run staff add");
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    let (mut child, printed) = serve_banner(dir.path()).await;
    assert!(!printed.contains("--role admin"), "an admin exists, yet serve says to make one:\n{printed}");
    child.kill().await.expect("stop the server");
}

/// Runs `ujian ARGS` against the test server as `user` (password from UJIAN_PASSWORD),
/// without blocking the server that runs on the test's own thread.
async fn ujian_on(app: &crate::helpers::TestApp, user: &str, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ujian"))
        .args(args)
        .args(["--server", &app.http(""), "--user", user])
        .env("UJIAN_PASSWORD", crate::helpers::PIN)
        .env_remove("UJIAN_LISTEN")
        .stdin(std::process::Stdio::null())
        .current_dir(repo(""))
        .output()
        .await
        .expect("run ujian");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test]
async fn the_committee_opens_pauses_resumes_and_closes_sittings_through_the_running_server() {
    use crate::helpers::{Setup, TestApp};
    let app = TestApp::spawn(Setup::tiny(3)).await;
    let why = ["--reason", "jadwal panitia"];

    let (code, out, err) = ujian_on(&app, "admin", &["sitting", "status", "T-1"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("sitting T-1 (TINY, Test): open\n"), "{out}");
    assert!(out.contains(&format!("token {}\n", app.token)), "{out}");
    assert!(out.contains("candidates 3: 3 ready\n"), "{out}");

    // T-2 is prepared: it cannot be paused before it opens; opening it prints its token.
    let (code, _, err) = ujian_on(&app, "admin", &[&["sitting", "pause", "T-2"][..], &why].concat()).await;
    assert_eq!(code, 1);
    assert!(err.contains("sitting T-2 is prepared: open it first (sitting_not_open)"), "{err}");
    let (code, out, err) = ujian_on(&app, "admin", &[&["sitting", "open", "T-2"][..], &why].concat()).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("sitting T-2: open; token "), "{out}");
    let (code, _, err) = ujian_on(&app, "admin", &[&["sitting", "open", "T-1"][..], &why].concat()).await;
    assert_eq!(code, 1);
    assert!(err.contains("sitting T-1 is open: it is open already (bad_request)"), "{err}");

    let mut c1 = app.candidate(1).await;
    assert_eq!(c1.answer(0, Some("A")).await["type"], "ack");
    let (code, out, err) = ujian_on(&app, "admin", &[&["sitting", "pause", "T-1"][..], &why].concat()).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "sitting T-1: paused; 1 running candidates paused (audited)\n");
    assert_eq!(c1.recv().await["type"], "paused");
    let (code, _, err) = ujian_on(&app, "admin", &[&["sitting", "open", "T-1"][..], &why].concat()).await;
    assert_eq!(code, 1);
    assert!(err.contains("sitting T-1 is paused: resume it instead"), "{err}");
    let (_, out, _) = ujian_on(&app, "admin", &["sitting", "status", "T-1"]).await;
    assert!(out.starts_with("sitting T-1 (TINY, Test): paused\n") && out.contains("1 paused, 2 ready"), "{out}");

    // A supervisor of another sitting, and a reason that says nothing, are refused.
    let (code, _, err) = ujian_on(&app, "sup2", &[&["sitting", "resume", "T-1"][..], &why].concat()).await;
    assert_eq!(code, 1);
    assert!(err.contains("(forbidden)"), "{err}");
    let (code, _, err) = ujian_on(&app, "admin", &["sitting", "resume", "T-1", "--reason", "ok"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("(reason_required)"), "{err}");

    let (code, out, err) = ujian_on(&app, "sup1", &[&["sitting", "resume", "T-1"][..], &why].concat()).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "sitting T-1: open; 1 paused candidates resumed (audited)\n");
    assert_eq!(c1.recv().await["type"], "resumed");
    let (code, out, err) = ujian_on(&app, "admin", &[&["sitting", "close", "T-1"][..], &why].concat()).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("sitting T-1: closed; 0 logins of candidates who had not started ended"), "{out}");
    assert!(out.contains("1 candidates still working"), "{out}");
    let (code, _, err) = ujian_on(&app, "admin", &[&["sitting", "close", "T-1"][..], &why].concat()).await;
    assert_eq!(code, 1);
    assert!(err.contains("sitting T-1 is closed: it is closed already (sitting_closed)"), "{err}");
    let (code, _, err) = ujian_on(&app, "admin", &[&["sitting", "pause", "T-1"][..], &why].concat()).await;
    assert_eq!(code, 1);
    assert!(err.contains("sitting T-1 is closed: open it again first (sitting_closed)"), "{err}");

    let log = app.store().audit_log().await.expect("log");
    let steps: Vec<(&str, &str, &str)> = log
        .iter()
        .filter(|r| r.action.starts_with("sitting."))
        .map(|r| (r.actor.as_str(), r.action.as_str(), r.subject.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("admin", "sitting.open", "T-2"),
            ("admin", "sitting.pause", "T-1"),
            ("sup1", "sitting.resume", "T-1"),
            ("admin", "sitting.close", "T-1")
        ]
    );
    assert!(log.iter().filter(|r| r.action.starts_with("sitting.")).all(|r| r.detail.contains("jadwal panitia")));
    // Each command ended its staff login: no token is left in force.
    let logins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM staff_tokens").fetch_one(app.store().pool()).await.expect("count");
    assert_eq!(logins, 0);
}

#[tokio::test]
async fn sitting_commands_say_how_to_reach_a_server_and_where_the_password_comes_from() {
    let (code, _, err) = tokio::task::spawn_blocking(|| {
        ujian(&["sitting", "status", "T-1", "--server", "http://127.0.0.1:9", "--user", "admin"])
    })
    .await
    .expect("run");
    assert_eq!(code, 1);
    assert!(err.contains("no password for admin: set UJIAN_PASSWORD"), "{err}");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ujian"))
        .args(["sitting", "close", "T-1", "--reason", "selesai", "--server", "http://127.0.0.1:9", "--user", "admin"])
        .env("UJIAN_PASSWORD", "x")
        .output()
        .await
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("cannot reach the server at http://127.0.0.1:9: start it with `ujian serve`"), "{err}");
}

/// Runs `ujian ARGS` on a pseudo-terminal (util-linux `script`), as a committee member at a
/// terminal does; returns the exit code and everything the terminal showed.
fn ujian_on_a_terminal(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_ujian"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let out = Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .current_dir(dir)
        .env("COLUMNS", "120")
        .output()
        .expect("run script (util-linux) for a pseudo-terminal");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into())
}

#[test]
fn long_committee_commands_show_a_bar_on_a_terminal_and_nothing_when_piped() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let exam = repo("question-banks/exams/sample-en.toml");
    let rows: String = (1..=300).map(|i| format!("A-{i:03},Peserta {i},{:06}\n", 100_000 + i)).collect();
    std::fs::write(d.join("peserta.csv"), format!("participant_no,name,pin\n{rows}")).expect("write");
    let data = ["--data-dir", "data"];
    let steps: [(&[&str], &str); 3] = [
        (&["candidates", "import", "peserta.csv"], "checking candidates"),
        (
            &[
                "sitting",
                "prepare",
                "--id",
                "S-1",
                "--exam",
                "SAMPLE-EN",
                "--venue",
                "Aula",
                "--starts-at",
                "2026-11-24T08:00:00+07:00",
                "--candidates",
                "peserta.csv",
            ],
            "drawing papers",
        ),
        (&["results", "export", "--sitting", "S-1", "--provisional", "--out", "hasil.csv"], "rescoring"),
    ];
    let (code, _, err) =
        ujian(&["--data-dir", d.join("data").to_str().expect("utf8"), "exam", "import", exam.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{err}");
    for (args, bar) in steps {
        let all = [&data[..], args].concat();
        let (code, shown) = ujian_on_a_terminal(d, &all);
        assert_eq!(code, 0, "{args:?}: {shown}");
        assert!(shown.contains(bar) && shown.contains("/300"), "{args:?}: no {bar:?} bar in:\n{shown}");
        // Piped (each step again: the second time changes nothing but the export's file),
        // standard error holds no bar.
        let out = Command::new(env!("CARGO_BIN_EXE_ujian")).args(&all).current_dir(d).output().expect("run");
        let (code, err) = (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr));
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!err.contains(bar) && !err.contains('\r'), "{args:?}: a bar on a pipe:\n{err}");
    }
}

/// The commands of README's "For exam committees" walkthrough (its first `sh` block):
/// comments and comment-only lines left out.
fn readme_walkthrough() -> Vec<String> {
    let readme = std::fs::read_to_string(repo("README.md")).expect("README.md");
    let section = readme.split("\n## For exam committees\n").nth(1).expect("a For exam committees section");
    let block = section.split("```sh\n").nth(1).and_then(|b| b.split("\n```").next()).expect("an sh block");
    block
        .lines()
        .map(|line| {
            // A comment starts at a '#' outside quotes.
            let mut quote = None;
            let end = line
                .char_indices()
                .find(|&(_, c)| {
                    match (quote, c) {
                        (None, '\'' | '"') => quote = Some(c),
                        (Some(q), c) if c == q => quote = None,
                        _ => {}
                    }
                    quote.is_none() && c == '#'
                })
                .map_or(line.len(), |(i, _)| i);
            line[..end].trim().to_owned()
        })
        .filter(|command| !command.is_empty())
        .collect()
}

#[tokio::test]
async fn the_readme_walkthrough_runs_command_by_command_in_an_empty_folder() {
    let dir = tempfile::tempdir().expect("tmp");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ujian")).parent().expect("the binary's folder");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
    let listen = format!("127.0.0.1:{port}");
    let commands = readme_walkthrough();
    assert!(commands.len() >= 15 && commands[0].starts_with("ujian "), "{commands:?}");
    // What a committee member types by hand: the password `staff add` printed.
    let mut password = None;
    let mut server = None;
    for command in &commands {
        let shell = |command: &str| {
            let mut sh = tokio::process::Command::new("sh");
            sh.args(["-c", command])
                .current_dir(dir.path())
                .env("PATH", &path)
                .env("UJIAN_LISTEN", &listen)
                .env_remove("UJIAN_DATA_DIR")
                .env_remove("UJIAN_DATABASE_URL")
                .env_remove("UJIAN_SERVER")
                .env_remove("UJIAN_USER")
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true);
            match &password {
                Some(p) => sh.env("UJIAN_PASSWORD", p),
                None => sh.env_remove("UJIAN_PASSWORD"),
            };
            sh
        };
        if let Some(background) = command.strip_suffix('&') {
            let mut sh = shell(&format!("exec {}", background.trim()));
            // The server's log goes to a file (shown if it does not come up), not into the
            // test run's output.
            let log = std::fs::File::create(dir.path().join("server.log")).expect("a log file");
            let child = sh.stdout(std::process::Stdio::null()).stderr(log).spawn().expect("start the server");
            server = Some(child);
            let health = format!("http://{listen}/health");
            let up = async {
                while !reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            };
            tokio::time::timeout(std::time::Duration::from_secs(60), up).await.unwrap_or_else(|_| {
                let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
                panic!("`{command}`: the server did not answer within a minute; its log:\n{log}")
            });
            continue;
        }
        let out = shell(command).output().await.expect("run sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "`{command}` failed:\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
        if command.contains("--role admin") {
            password = stdout.split("password ").nth(1).map(|p| p.trim().to_owned());
        }
    }
    let mut server = server.expect("the walkthrough starts a server");
    server.kill().await.expect("stop the server");
    let results = std::fs::read_to_string(dir.path().join("hasil.csv")).expect("the walkthrough's export");
    assert_eq!(results.lines().count(), 3, "a header and both candidates: {results}");
    let pdf = std::fs::read(dir.path().join("pengumuman.pdf")).expect("the published list");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
}

#[tokio::test]
async fn a_sitting_command_on_a_terminal_asks_for_the_password_without_showing_it() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = crate::helpers::TestApp::spawn(crate::helpers::Setup::tiny(1)).await;
    let command =
        format!("'{}' sitting status T-1 --server {} --user admin", env!("CARGO_BIN_EXE_ujian"), app.http(""));
    let mut child = tokio::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("UJIAN_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run script (util-linux) for a pseudo-terminal");
    // Typed once the prompt shows, as a person does (typed ahead, the terminal would echo
    // it before the prompt turned echo off).
    let mut stdout = child.stdout.take().expect("stdout");
    let mut shown = Vec::new();
    let prompt = async {
        let mut buf = [0u8; 256];
        while !String::from_utf8_lossy(&shown).contains("password for admin: ") {
            let n = stdout.read(&mut buf).await.expect("read");
            assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&shown));
            shown.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), prompt).await.expect("a prompt in time");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(format!("{}\n", crate::helpers::PIN).as_bytes()).await.expect("type the password");
    let rest = async {
        stdout.read_to_end(&mut shown).await.expect("read");
        child.wait().await.expect("script")
    };
    let status = tokio::time::timeout(std::time::Duration::from_secs(60), rest).await.expect("done in time");
    let shown = String::from_utf8_lossy(&shown);
    assert!(status.success(), "{shown}");
    assert!(shown.contains("password for admin: "), "{shown}");
    assert!(shown.contains("sitting T-1 (TINY, Test): open"), "{shown}");
    assert!(!shown.contains(crate::helpers::PIN), "the password was shown:\n{shown}");
}
