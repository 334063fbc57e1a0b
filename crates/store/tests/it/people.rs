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
