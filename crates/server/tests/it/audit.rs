//! The audit log against an insider with database access.

use crate::helpers::{Setup, TestApp, databases};

#[tokio::test]
async fn the_database_refuses_to_update_or_delete_audit_entries() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let _c = app.candidate(1).await;
        let before = app.store().audit_log().await.expect("log");
        assert!(!before.is_empty());
        let pool = app.store().pool();
        for sql in [
            "UPDATE audit_log SET detail = '{}' WHERE seq = 1",
            "DELETE FROM audit_log WHERE seq = 1",
            "DELETE FROM audit_log",
        ] {
            let err = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await.expect_err(sql);
            assert!(err.to_string().contains("audit_log is append-only"), "{db:?} {sql}: {err}");
        }
        assert_eq!(app.store().audit_log().await.expect("log"), before, "{db:?}: nothing changed");
    }
}
