use store::{NewCandidate, NewSupervisor};

use crate::{now, stores};

fn candidate(no: &str, name: &str) -> NewCandidate {
    NewCandidate {
        participant_no: no.into(),
        name: name.into(),
        birth_date: Some("1999-01-02".into()),
        pin_hash: format!("hash-of-{no}"),
        accommodation: None,
    }
}

#[tokio::test]
async fn candidates_are_inserted_then_updated_by_participant_number() {
    for db in stores().await {
        let batch = vec![candidate("P-0001", "Ani"), candidate("P-0002", "Budi")];
        db.store.put_candidates(&batch, now()).await.expect("put");
        assert_eq!(db.store.candidate_count().await.expect("count"), 2, "{}", db.label);
        let mut again = candidate("P-0001", "Ani Lestari");
        again.pin_hash = "new-hash".into();
        db.store.put_candidates(&[again], now()).await.expect("update");
        assert_eq!(db.store.candidate_count().await.expect("count"), 2, "{}", db.label);
        assert_eq!(
            db.store.candidate_pin_hash("P-0001").await.expect("pin").as_deref(),
            Some("new-hash"),
            "{}",
            db.label
        );
        assert_eq!(db.store.candidate_pin_hash("P-9999").await.expect("pin"), None, "{}", db.label);
    }
}

#[tokio::test]
async fn supervisors_are_stored() {
    for db in stores().await {
        let s = NewSupervisor {
            username: "pengawas1".into(),
            name: "Pengawas".into(),
            password_hash: "h".into(),
            role: "supervisor".into(),
        };
        db.store.put_supervisor(&s, now()).await.expect("put");
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM supervisors").fetch_one(db.store.pool()).await.expect("count");
        assert_eq!(n, 1, "{}", db.label);
    }
}

#[tokio::test]
async fn a_selection_is_replaced_with_its_applicants_and_announcements_only_added() {
    use store::{AnnouncementRow, ApplicantRow, SelectionRow};
    for db in stores().await {
        let selection = SelectionRow {
            id: "SWL".into(),
            name: "Seleksi".into(),
            source: "name = 1".into(),
            stored_at: String::new(),
        };
        let applicant = |no: &str, education: Option<i64>| ApplicantRow {
            participant_no: no.into(),
            name: format!("Pelamar {no}"),
            formation: "PK".into(),
            track: "umum".into(),
            education,
            birth_date: "1999-01-02".into(),
        };
        let first = [applicant("A-2", Some(375)), applicant("A-1", None)];
        assert!(!db.store.put_selection(&selection, &first, now()).await.expect("put"), "{}", db.label);
        let stored = db.store.selection_applicants("SWL").await.expect("applicants");
        assert_eq!(stored, vec![first[1].clone(), first[0].clone()], "{}", db.label);
        assert!(db.store.put_selection(&selection, &[applicant("A-3", Some(8725))], now()).await.expect("again"));
        let stored = db.store.selection_applicants("SWL").await.expect("applicants");
        assert_eq!(stored, vec![applicant("A-3", Some(8725))], "{}", db.label);
        assert_eq!(db.store.selection_applicant("SWL", "A-1").await.expect("one"), None, "{}", db.label);
        assert_eq!(db.store.get_selection("SWL").await.expect("get").map(|s| s.source).as_deref(), Some("name = 1"));

        let a = AnnouncementRow {
            no: "SWL-001".into(),
            selection_id: "SWL".into(),
            seq: 1,
            stage: "skd".into(),
            supersedes: None,
            payload: "{}".into(),
            signature: "sig".into(),
            key_id: "k".into(),
            created_at: "2026-12-04T00:00:00Z".into(),
        };
        db.store.put_announcement(&a).await.expect("announce");
        let b = AnnouncementRow { no: "SWL-002".into(), seq: 2, supersedes: Some("SWL-001".into()), ..a.clone() };
        db.store.put_announcement(&b).await.expect("correction");
        // The same number again is refused: an announcement is never overwritten.
        assert!(
            db.store.put_announcement(&AnnouncementRow { payload: "{\"x\":1}".into(), ..a.clone() }).await.is_err()
        );
        assert_eq!(db.store.announcements_of("SWL").await.expect("list"), vec![a.clone(), b], "{}", db.label);
        assert_eq!(db.store.get_announcement("SWL-001").await.expect("get"), Some(a), "{}", db.label);
    }
}

#[tokio::test]
async fn assessor_scores_are_added_all_or_none_and_never_replaced() {
    use store::{AssessorScoreRow, SelectionRow};
    for db in stores().await {
        let selection = SelectionRow {
            id: "SWL".into(),
            name: "Seleksi".into(),
            source: "name = 1".into(),
            stored_at: String::new(),
        };
        db.store.put_selection(&selection, &[], now()).await.expect("put");
        let score = |no: &str, by: &str, criteria: Vec<i64>| AssessorScoreRow {
            component: "wawancara".into(),
            participant_no: no.into(),
            assessor: by.into(),
            criteria,
        };
        let first = vec![score("A-1", "Rina", vec![20, 18]), score("A-1", "Hadi", vec![15, 10])];
        db.store.put_assessor_scores("SWL", &first, now()).await.expect("scores");
        // Rina again in a batch with a new score: refused, and the new one is not kept.
        let again = [score("A-2", "Rina", vec![1, 2]), score("A-1", "Rina", vec![0, 0])];
        assert!(db.store.put_assessor_scores("SWL", &again, now()).await.is_err(), "{}", db.label);
        let stored = db.store.assessor_scores("SWL", "wawancara").await.expect("read");
        assert_eq!(stored, vec![first[1].clone(), first[0].clone()], "{}", db.label);
        assert!(db.store.assessor_scores("SWL", "praktik").await.expect("read").is_empty());
    }
}

#[tokio::test]
async fn announcements_and_assessor_scores_cannot_be_changed_or_removed() {
    use store::{AnnouncementRow, AssessorScoreRow, SelectionRow};
    for db in stores().await {
        let selection = SelectionRow {
            id: "SWL".into(),
            name: "Seleksi".into(),
            source: "name = 1".into(),
            stored_at: String::new(),
        };
        db.store.put_selection(&selection, &[], now()).await.expect("put");
        let a = AnnouncementRow {
            no: "SWL-001".into(),
            selection_id: "SWL".into(),
            seq: 1,
            stage: "skd".into(),
            supersedes: None,
            payload: "{}".into(),
            signature: "sig".into(),
            key_id: "k".into(),
            created_at: "2026-12-04T00:00:00Z".into(),
        };
        db.store.put_announcement(&a).await.expect("announce");
        let score = AssessorScoreRow {
            component: "wawancara".into(),
            participant_no: "A-1".into(),
            assessor: "Rina".into(),
            criteria: vec![20, 18],
        };
        db.store.put_assessor_scores("SWL", std::slice::from_ref(&score), now()).await.expect("score");
        for sql in [
            "UPDATE announcements SET payload = '{\"forged\":1}'",
            "DELETE FROM announcements",
            "UPDATE assessor_scores SET criteria = '25,25'",
            "DELETE FROM assessor_scores",
        ] {
            let err = sqlx::query(sql).execute(db.store.pool()).await.expect_err(sql);
            assert!(err.to_string().contains("is append-only"), "{}: {sql}: {err}", db.label);
        }
        assert_eq!(db.store.get_announcement("SWL-001").await.expect("get"), Some(a), "{}", db.label);
        assert_eq!(db.store.assessor_scores("SWL", "wawancara").await.expect("read"), vec![score], "{}", db.label);
    }
}
