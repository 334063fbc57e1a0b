//! A selection made real: imported, its SKD sat through the real server, closed,
//! announced (signed), verified, tampered with, served publicly, looked up by a
//! candidate, corrected; and a refused import that changes nothing.

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{Db, Setup, TestApp, best_and_worst, databases, participant, repo};

const SELECTION: &str = r#"
name = "Seleksi Uji"

[[formation]]
code = "F-A"
position = "Pranata Komputer"
unit = "Dinas A"
education = "S-1"
tracks = [{ track = "umum", openings = 1 }]

[[formation]]
code = "F-B"
position = "Pranata Komputer"
unit = "Dinas B"
education = "S-1"
tracks = [{ track = "umum", openings = 1 }]

[skd]
exam = "TINY"
multiplier = 2

[[skb.component]]
id = "cat"
name = "SKB CAT"
kind = "cat"
weight = 50
raw_max = 100

[[skb.component]]
id = "wawancara"
name = "Wawancara"
kind = "assessed"
weight = 50

[skb.component.rubric]
tolerance = 5
criteria = [
  { id = "motivasi", name = "Motivasi", min = 0, max = 25 },
  { id = "komunikasi", name = "Komunikasi", min = 0, max = 25 },
]
"#;

fn applicants(p3_formation: &str) -> String {
    format!(
        "nomor_peserta,nama,formasi,jalur,nilai_pendidikan,tanggal_lahir\n\
         P-0001,Ani,F-A,umum,3.50,1999-01-02\n\
         P-0002,Budi,F-A,umum,3.40,1998-02-03\n\
         P-0003,Citra,{p3_formation},umum,3.30,1997-03-04\n\
         P-0004,Dodi,F-A,umum,,1996-04-05\n\
         P-0005,Eka,F-B,umum,3.20,1995-05-06\n\
         P-0006,Fajar,F-B,umum,3.10,1994-06-07\n"
    )
}

/// Runs the real `ujian` binary on `dir`'s data; returns exit code, stdout, stderr.
fn ujian(dir: &std::path::Path, database: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ujian"));
    cmd.args(["--data-dir", dir.to_str().expect("utf8")]);
    if let Some(url) = database {
        cmd.args(["--database", url]);
    }
    let out = cmd.args(args).current_dir(repo("")).output().expect("run ujian");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test]
async fn an_skd_announcement_is_signed_verified_tampered_with_and_corrected() {
    for db in databases() {
        announce_on(db).await;
    }
}

async fn announce_on(db: Db) {
    let app = TestApp::spawn(Setup::tiny(6).on(db)).await;
    let (data, url) = (app.dir.path().to_owned(), app.url.clone());
    let files = tempfile::tempdir().expect("tmp");
    let file = |name: &str, text: &str| {
        let p = files.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("utf8").to_owned()
    };
    let selection = file("selection.toml", SELECTION);
    let list = file("pelamar.csv", &applicants("F-A"));
    let run = |args: &[&str]| ujian(&data, Some(&url), args);
    let (code, out, err) = run(&["selection", "import", &selection, "--id", "UJI-1", "--applicants", &list]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("stored selection UJI-1 (Seleksi Uji): 2 formations, 6 applicants"), "{out}");

    // 1, 2 and 5 answer best (1 and 2 tie), 3 worst (below a threshold), 4 never comes,
    // 6 is disqualified.
    let sup = app.staff("sup1").await;
    for i in [1, 2, 3, 5] {
        let mut c = app.candidate(i).await;
        let key = best_and_worst(&app, &format!("T-1.{}", participant(i))).await;
        for (q, (best, worst, ..)) in key.iter().enumerate() {
            c.answer(q, Some(if i == 3 { worst } else { best })).await;
        }
        c.finish().await;
    }
    let mut c6 = app.candidate(6).await;
    c6.answer(0, Some("A")).await;
    let (status, _) = app.act(&sup, "/api/v1/sessions/T-1.P-0006/terminate", json!({ "reason": "joki" })).await;
    assert_eq!(status, 200);

    // Not closed yet: refused, and nothing is announced.
    let out_dir = files.path().join("out");
    let out_arg = out_dir.to_str().expect("utf8");
    let (code, _, err) = run(&["selection", "announce", "UJI-1", "--stage", "skd", "--out", out_arg]);
    assert_eq!(code, 1);
    assert!(err.contains("sitting T-1 (open), T-2 (prepared) is not closed"), "{err}");
    assert!(app.store().announcements_of("UJI-1").await.expect("list").is_empty());

    let admin = app.staff("admin").await;
    for sitting in ["T-1", "T-2"] {
        let (status, body) =
            app.act(&admin, &format!("/api/v1/sittings/{sitting}/close"), json!({ "reason": "selesai" })).await;
        assert_eq!(status, 200, "{body}");
    }
    let (code, out, err) = run(&["selection", "announce", "UJI-1", "--stage", "skd", "--out", out_arg]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("announcement UJI-1-001 (skd of UJI-1): 2 tracks, 6 lines"), "{out}");
    let path = out_dir.join("UJI-1-001.json");
    let signed: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("json")).expect("parse");
    let a = &signed["announcement"];
    let lines = |track: &Value| -> Vec<(Value, String, String, Value)> {
        track["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| {
                let no = l["participant_no"].as_str().expect("no").to_owned();
                (l["rank"].clone(), no, l["code"].as_str().expect("code").to_owned(), l["total"].clone())
            })
            .collect()
    };
    let fa = lines(&a["tracks"][0]);
    let codes: Vec<(&str, &str)> = fa.iter().map(|(_, no, code, _)| (no.as_str(), code.as_str())).collect();
    assert_eq!(codes, [("P-0001", "P/L"), ("P-0002", "P/L"), ("P-0003", "TL"), ("P-0004", "TH")]);
    assert_eq!((fa[0].0.clone(), fa[1].0.clone()), (json!(1), json!(1)), "tied: the same rank");
    assert_eq!(fa[0].3, json!(18));
    assert_eq!(a["tracks"][0]["quota"], json!(2));
    assert_eq!(a["tracks"][0]["thresholds"], json!({ "K": 5, "W": 5 }));
    assert_eq!(a["tracks"][0]["lines"][0]["scores"], json!({ "K": 10, "W": 8 }));
    let fb = lines(&a["tracks"][1]);
    let codes: Vec<(&str, &str)> = fb.iter().map(|(_, no, code, _)| (no.as_str(), code.as_str())).collect();
    assert_eq!(codes, [("P-0005", "P/L"), ("P-0006", "DIS")]);
    let head = app.store().audit_head().await.expect("head").expect("some");
    assert!(a["audit_head"]["seq"].as_i64().expect("seq") < head.0, "computed before its own entry");
    let csv = std::fs::read_to_string(out_dir.join("UJI-1-001.csv")).expect("csv");
    assert!(csv.starts_with("announcement,formation,track,rank,participant_no,name,K,W,total,code,below_threshold\n"));
    assert!(csv.contains("UJI-1-001,F-A,general,1,P-0001,Ani,10,8,18,P/L,false\n"), "{csv}");
    for printed in ["UJI-1-001-F-A-general.xlsx", "UJI-1-001-F-B-general.pdf"] {
        let bytes = std::fs::read(out_dir.join(printed)).unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert!(bytes.starts_with(b"PK") || bytes.starts_with(b"%PDF"), "{printed}");
    }
    let book = out_dir.join("UJI-1-001-F-A-general.xlsx");
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&book).expect("xlsx");
    let sheet = calamine::Reader::worksheet_range_at(&mut book, 0).expect("sheet").expect("range");
    let cells: Vec<String> = sheet.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(cells.iter().any(|c| c.contains("Pengumuman UJI-1-001")), "{cells:?}");
    assert!(cells.iter().any(|c| c == "P-0001") && cells.iter().any(|c| c == "TH"), "{cells:?}");

    // Verified with the server's key; a changed score or signature fails.
    let path_arg = path.to_str().expect("utf8");
    let (code, out, err) = run(&["announcement", "verify", path_arg]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok: announcement UJI-1-001 signed by key"), "{out}");
    assert!(out.contains("2 formation tracks, 6 lines"), "{out}");
    let mut forged = signed.clone();
    forged["announcement"]["tracks"][0]["lines"][2]["total"] = json!(19);
    let forged_path = file("forged.json", &forged.to_string());
    let (code, _, err) = run(&["announcement", "verify", &forged_path]);
    assert_eq!(code, 1);
    assert!(err.contains("the signature does not match"), "{err}");
    let text = std::fs::read_to_string(&path).expect("json");
    let flipped = text.replacen("\"code\": \"TL\"", "\"code\": \"TK\"", 1);
    assert_ne!(flipped, text);
    let (code, _, _) = run(&["announcement", "verify", &file("flipped.json", &flipped)]);
    assert_eq!(code, 1, "one byte changed");

    // Public: the list, the signed announcement (which verifies with the published key
    // as saved from the server), and a candidate's own standing.
    let get = |path: String| {
        let url = app.http(&path);
        async move {
            let resp = reqwest::get(url).await.expect("get");
            let status = resp.status().as_u16();
            (status, resp.text().await.expect("body"))
        }
    };
    let (status, body) = get("/api/v1/selections/UJI-1/announcements".into()).await;
    assert_eq!(status, 200, "{body}");
    let listing: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(listing["announcements"][0]["no"], json!("UJI-1-001"));
    assert_eq!(listing["announcements"][0]["superseded_by"], Value::Null);
    let (status, body) = get("/api/v1/announcements/UJI-1-001".into()).await;
    assert_eq!(status, 200, "{body}");
    let served: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(served, signed, "the server serves what the command wrote");
    let (_, keys) = get("/api/v1/keys".into()).await;
    let keys: Value = serde_json::from_str(&keys).expect("json");
    let key = keys["keys"][0]["public_key_hex"].as_str().expect("key").to_owned();
    let elsewhere = tempfile::tempdir().expect("tmp");
    let (code, out, err) =
        ujian(elsewhere.path(), None, &["announcement", "verify", &file("served.json", &body), "--key", &key]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok: announcement UJI-1-001"), "{out}");
    assert_eq!(get("/api/v1/announcements/UJI-1-999".into()).await.0, 404);

    let (status, body) = get("/api/v1/selections/UJI-1/standing?participant=P-0001&born=1999-01-02".into()).await;
    assert_eq!(status, 200, "{body}");
    let standing: Value = serde_json::from_str(&body).expect("json");
    assert_eq!((standing["name"].as_str(), standing["formation"].as_str()), (Some("Ani"), Some("F-A")));
    let entry = &standing["announcements"][0];
    assert_eq!(entry["no"], json!("UJI-1-001"));
    assert_eq!(entry["line"]["code"], json!("P/L"));
    assert_eq!(entry["line"]["rank"], json!(1));
    assert_eq!(entry["line"]["scores"], json!({ "K": 10, "W": 8 }));
    assert_eq!((entry["quota"].clone(), entry["openings"].clone()), (json!(2), json!(1)));
    assert_eq!(entry["thresholds"], json!({ "K": 5, "W": 5 }));
    assert_eq!(entry["applicants"], json!(4));
    let wrong_date = get("/api/v1/selections/UJI-1/standing?participant=P-0001&born=1999-01-03".into()).await;
    let unknown = get("/api/v1/selections/UJI-1/standing?participant=P-9999&born=1999-01-02".into()).await;
    assert_eq!(wrong_date.0, 404);
    assert_eq!(wrong_date, unknown, "a wrong birth date learns nothing an unknown number does not");

    // The same stage again without a reason: refused, nothing stored.
    let (code, _, err) = run(&["selection", "announce", "UJI-1", "--stage", "skd", "--out", out_arg]);
    assert_eq!(code, 1);
    assert!(err.contains("already announces stage skd"), "{err}");
    assert_eq!(app.store().announcements_of("UJI-1").await.expect("list").len(), 1);

    // P-0003 applied to F-B: the list is imported again and the correction names it.
    let list = file("pelamar.csv", &applicants("F-B"));
    let (code, out, err) = run(&["selection", "import", &selection, "--id", "UJI-1", "--applicants", &list]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("replaced selection UJI-1"), "{out}");
    let (code, out, err) =
        run(&["selection", "announce", "UJI-1", "--stage", "skd", "--reason", "salah formasi", "--out", out_arg]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("supersedes UJI-1-001: 1 lines changed"), "{out}");
    let second: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("UJI-1-002.json")).expect("json")).expect("parse");
    let b = &second["announcement"];
    assert_eq!((b["supersedes"].as_str(), b["reason"].as_str()), (Some("UJI-1-001"), Some("salah formasi")));
    assert_eq!(b["changes"][0]["participant_no"], json!("P-0003"));
    assert_eq!(b["changes"][0]["before"]["formation"], json!("F-A"));
    assert_eq!(b["changes"][0]["after"]["formation"], json!("F-B"));
    let (code, out, err) = run(&["announcement", "verify", out_dir.join("UJI-1-002.json").to_str().expect("utf8")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("supersedes UJI-1-001: 1 lines changed; reason: salah formasi"), "{out}");
    // The list says which is in force; the standing shows the correction's line.
    let (_, body) = get("/api/v1/selections/UJI-1/announcements".into()).await;
    let listing: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(listing["announcements"][0]["superseded_by"], json!("UJI-1-002"));
    let (status, body) = get("/api/v1/selections/UJI-1/standing?participant=P-0003&born=1997-03-04".into()).await;
    assert_eq!(status, 200, "{body}");
    let standing: Value = serde_json::from_str(&body).expect("json");
    let entries = standing["announcements"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "only the announcement in force: {body}");
    assert_eq!((entries[0]["no"].as_str(), standing["formation"].as_str()), (Some("UJI-1-002"), Some("F-B")));
    // Lookups are rate-limited per address (the server's clock is held still here).
    let mut limited = false;
    for _ in 0..20 {
        let (status, _) = get("/api/v1/selections/UJI-1/standing?participant=P-0003&born=2000-01-01".into()).await;
        if status == 429 {
            limited = true;
            break;
        }
        assert_eq!(status, 404);
    }
    assert!(limited, "twenty lookups in an instant were all answered");
    // Both stay stored as they were; every step is in the audit log.
    let stored = app.store().announcements_of("UJI-1").await.expect("list");
    assert_eq!(stored.iter().map(|r| r.no.as_str()).collect::<Vec<_>>(), ["UJI-1-001", "UJI-1-002"]);
    let log = app.store().audit_log().await.expect("log");
    let actions: Vec<(&str, &str)> = log
        .iter()
        .filter(|r| r.action.starts_with("selection.") || r.action.starts_with("announcement."))
        .map(|r| (r.action.as_str(), r.subject.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("selection.imported", "UJI-1"),
            ("announcement.published", "UJI-1-001"),
            ("selection.imported", "UJI-1"),
            ("announcement.published", "UJI-1-002"),
        ]
    );
    server::audit::verify(&log).expect("the chain holds");

    // Interview scores: every mistake with its line and nothing stored; then stored, each
    // with an audit entry naming the assessor; never replaced.
    let bad = file(
        "wawancara-salah.csv",
        "nomor_peserta,penilai,motivasi,komunikasi\n\
         P-0001,Rina,20,30\n\
         P-0003,Rina,10,10\n\
         P-0009,Hadi,1,1\n\
         P-0002,,5,5\n\
         P-0001,Rina,x,5\n",
    );
    let (code, out, err) = run(&["selection", "scores", "import", "UJI-1", "--component", "wawancara", &bad]);
    assert_eq!(code, 1, "{out}");
    for says in [
        format!("{bad}:2: komunikasi: 30 is outside 0..=25 (Komunikasi)"),
        format!("{bad}:3: nomor_peserta: P-0003 did not go on from the SKD (UJI-1-002): not P/L"),
        format!("{bad}:4: nomor_peserta: \"P-0009\" is not an applicant of UJI-1"),
        format!("{bad}:5: penilai: the assessor's name is empty"),
        format!("{bad}:6: penilai: Rina scores P-0001 twice (also line 2)"),
        format!("{bad}:6: motivasi: \"x\" is not a whole number (0..=25)"),
    ] {
        assert!(err.contains(&says), "missing {says:?} in\n{err}");
    }
    assert!(app.store().assessor_scores("UJI-1", "wawancara").await.expect("scores").is_empty());
    assert_eq!(app.store().audit_log().await.expect("log").len(), log.len(), "nothing audited");

    let good = file(
        "wawancara.csv",
        "nomor_peserta;penilai;motivasi;komunikasi\nP-0001;Rina;20;18\nP-0001;Hadi;15;10\nP-0002;Rina;22;21\n",
    );
    let (code, out, err) = run(&["selection", "scores", "import", "UJI-1", "--component", "wawancara", &good]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("stored 3 scores of wawancara for selection UJI-1"), "{out}");
    let scores = app.store().assessor_scores("UJI-1", "wawancara").await.expect("scores");
    let got: Vec<(&str, &str, &[i64])> =
        scores.iter().map(|s| (s.participant_no.as_str(), s.assessor.as_str(), s.criteria.as_slice())).collect();
    assert_eq!(got, [("P-0001", "Hadi", &[15, 10][..]), ("P-0001", "Rina", &[20, 18]), ("P-0002", "Rina", &[22, 21])]);
    let log = app.store().audit_log().await.expect("log");
    let scored: Vec<(&str, String)> =
        log.iter().filter(|r| r.action == "skb.scored").map(|r| (r.subject.as_str(), r.detail.to_string())).collect();
    assert_eq!(scored.len(), 3);
    assert_eq!(scored[0].0, "UJI-1/wawancara/P-0001");
    assert!(scored[0].1.contains("Rina") && scored[0].1.contains("[20,18]"), "{}", scored[0].1);
    let (code, _, err) = run(&["selection", "scores", "import", "UJI-1", "--component", "wawancara", &good]);
    assert_eq!(code, 1);
    assert!(err.contains("penilai: Rina already scored P-0001 on wawancara; a score is never replaced"), "{err}");
    assert_eq!(app.store().assessor_scores("UJI-1", "wawancara").await.expect("scores").len(), 3);
}

/// The database file's bytes once the last command closed it.
fn database_bytes(data: &std::path::Path) -> Vec<u8> {
    let wal = std::fs::metadata(data.join("ujian.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the last command left writes in its WAL");
    std::fs::read(data.join("ujian.db")).expect("read the database")
}

#[test]
fn a_refused_selection_import_lists_every_mistake_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("utf8").to_owned()
    };
    let selection = file("selection.toml", SELECTION);
    let good = file("good.csv", &applicants("F-A"));
    let (code, _, err) =
        ujian(&data, None, &["selection", "import", &selection, "--id", "UJI-1", "--applicants", &good]);
    assert_eq!(code, 0, "{err}");
    let before = database_bytes(&data);

    let bad = file(
        "bad.csv",
        "nomor_peserta,nama,formasi,jalur,nilai_pendidikan,tanggal_lahir\n\
         P-0001,Ani,F-C,umum,3.50,1999-01-02\n\
         P-0002,Budi,F-A,umum,3.40,1998-02-30\n",
    );
    let (code, out, err) =
        ujian(&data, None, &["selection", "import", &selection, "--id", "UJI-1", "--applicants", &bad]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains(&format!("{bad}:2: formasi: unknown formation \"F-C\"")), "{err}");
    assert!(err.contains(&format!("{bad}:3: tanggal_lahir")), "{err}");
    assert!(err.contains("2 problems found"), "{err}");
    assert!(database_bytes(&data) == before, "the refused import changed the database");

    let (code, _, err) =
        ujian(&data, None, &["selection", "import", &selection, "--id", "UJI 1", "--applicants", &good]);
    assert_eq!(code, 1);
    assert!(err.contains("--id holds letters"), "{err}");
    assert!(database_bytes(&data) == before, "a bad id changed the database");
}
