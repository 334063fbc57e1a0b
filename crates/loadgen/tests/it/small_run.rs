//! A small run end to end: 20 candidates × 10 answers with reconnects, 5 board viewers,
//! against `server::startup::App` on port 0; then the stored answer log is checked.

use std::time::Duration;

use loadgen::candidate::Behaviour;
use loadgen::check::{finished_sessions, verify_store};
use loadgen::prepare::{PrepareSpec, prepare};
use loadgen::run::{RunOptions, Target, drive};
use server::config::Config;
use server::startup::App;
use store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_run_loses_no_acknowledged_answer_and_finishes_every_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = store::sqlite_url_in(dir.path());
    let prepared = prepare(&PrepareSpec {
        data_dir: dir.path().to_owned(),
        database_url: url.clone(),
        exam: "question-banks/exams/skd.toml".into(),
        candidates: 20,
        prefix: "IT-".into(),
        pin: "135790".into(),
        sitting: "IT-1".into(),
    })
    .await
    .expect("prepare");
    assert_eq!(prepared.questions, 110);

    let config = Config::new(dir.path().to_owned(), Some(url.clone()), "127.0.0.1:0".parse().expect("addr"));
    let app = App::build(&config).await.expect("build app");
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));

    let target = Target {
        authority: addr.to_string(),
        sitting_token: prepared.token.clone(),
        sitting: Some(prepared.sitting.clone()),
        participants: prepared.participants.clone(),
        pin: "135790".into(),
    };
    let opts = RunOptions {
        behaviour: Behaviour {
            answers: Some(10),
            think_ms: 5.0,
            change_rate: 0.2,
            flag_rate: 0.2,
            reconnect_rate: 0.1,
            get_questions: true,
            reply_timeout: Duration::from_secs(10),
        },
        synchronized_start: true,
        login_before_start: false,
        ramp: Duration::ZERO,
        viewers: 5,
        measured_viewers: 5,
        seed: 7,
        timeout: Duration::from_secs(60),
        crashes: Vec::new(),
        progress: false,
        database: "sqlite".into(),
    };
    let outcome = drive(&opts, &target, None).await.expect("run");
    let _ = stop.send(());
    server.await.expect("server task").expect("serve");

    let r = &outcome.report;
    if std::env::var_os("TEST_LOG").is_some() {
        eprintln!("{}", r.table());
    }
    assert_eq!(r.finished, 20, "{}", r.table());
    assert_eq!(r.gave_up, 0, "{}", r.table());
    assert!(r.answers_acked >= 200, "{}", r.table());
    assert_eq!(r.login_to_first_question.count, 20);
    // A finish whose `finished` came on its own connection (not in a later welcome) is timed.
    assert!((1..=20).contains(&r.finish_to_score.count), "{}", r.table());
    assert!(r.reconnects > 0, "the run exercised reconnects: {}", r.table());
    assert_eq!(r.time.grew, 0, "{}", r.table());
    let board = r.board.as_ref().expect("board report");
    assert_eq!(board.never_connected, 0);
    assert!(board.latency.count > 0, "viewers saw answers move the board: {}", r.table());

    let store = Store::open(&url).await.expect("open store");
    let check = verify_store(&store, &outcome.acks).await.expect("check");
    assert!(check.ok(), "{check:?}");
    assert_eq!(check.sessions, 20);
    assert_eq!(check.acks_checked as u64, r.messages_acked);
    let finished = finished_sessions(&store, &outcome.sessions, &outcome.finished_sessions).await.expect("sessions");
    assert_eq!((finished.stored, finished.finished), (20, 20));
    assert!(finished.contradicted.is_empty(), "{finished:?}");
    store.close().await;
}
