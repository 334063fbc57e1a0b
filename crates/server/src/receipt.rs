//! Signed result receipts: an Ed25519 signature over a candidate's result, the bank's
//! content hash, their paper and the hash of their answer log. Anyone holding the public
//! key (`/api/v1/keys`) can check one with `ujian receipt verify`.
//!
//! The key is made on first start in `DATA_DIR/keys/`, readable by its owner only. To
//! rotate: stop the server, move the key file aside (keep it: receipts signed with it stay
//! checkable against its public key), start again. Several servers on one PostgreSQL
//! database share one key file.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair as _};
use serde::{Deserialize, Serialize};

use crate::audit::ChainHead;
use crate::protocol::{ResultView, SectionResult};

const KEY_FILE: &str = "receipt-ed25519.pk8";
const PREFIX: &str = "UJ1";

/// What a receipt vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPayload {
    pub session: String,
    pub participant_no: String,
    pub exam: String,
    pub bank_sha256: String,
    /// SHA-256 of the paper: item ids and option orders, in paper order.
    pub paper_sha256: String,
    /// SHA-256 of the answer log up to the finish, in seq order.
    pub answers_sha256: String,
    pub scores: BTreeMap<String, i64>,
    pub total: i64,
    pub passed: bool,
    pub reason: String,
    pub finished_at: String,
    /// The audit chain's head when the session finished: the last entry stored before its
    /// own `session.finished` entry (which holds this receipt, so cannot be named in it).
    /// A chain rewritten at or before that entry no longer holds this head. Receipts made
    /// before this field existed have none and still verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<ChainHead>,
}

/// The signing key and its public half.
pub struct Signer {
    key: Ed25519KeyPair,
    pub key_id: String,
    pub public_hex: String,
}

impl Signer {
    /// Loads the key from `dir/keys`, making one on first start.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Signer> {
        let (pkcs8, made) = crate::keys::load_or_create(data_dir, KEY_FILE, || {
            let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                .map_err(|_| anyhow::anyhow!("key generation failed"))?;
            Ok(doc.as_ref().to_vec())
        })?;
        let path = data_dir.join("keys").join(KEY_FILE);
        if made {
            tracing::info!(path = %path.display(), "made a new receipt signing key");
        }
        let key = Ed25519KeyPair::from_pkcs8(&pkcs8)
            .map_err(|e| anyhow::anyhow!("{}: not an Ed25519 key: {e}", path.display()))?;
        let public = key.public_key().as_ref().to_vec();
        Ok(Signer { key_id: key_id(&public), public_hex: hex::encode(&public), key })
    }

    /// The receipt string (QR-friendly: `UJ1.<payload>.<signature>.<key id>`) and its short code.
    pub fn sign(&self, payload: &ReceiptPayload) -> (String, String) {
        let json = serde_json::to_vec(payload).unwrap_or_default();
        let sig = self.key.sign(&json);
        let full = format!("{PREFIX}.{}.{}.{}", B64.encode(&json), B64.encode(sig.as_ref()), self.key_id);
        (full, short_code(sig.as_ref()))
    }

    /// An Ed25519 signature over `message`, for the audit chain's signed heads. A receipt
    /// signs a JSON object (it starts with `{`); a head's message starts with its format
    /// name, so neither can pass for the other.
    pub fn sign_raw(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).as_ref().to_vec()
    }
}

/// A finished session as its receipt sees it: who, what paper, which answers, what score.
pub struct Finish<'a> {
    pub session: &'a str,
    pub participant_no: &'a str,
    pub exam: &'a str,
    pub bank_sha256: &'a str,
    /// From [`paper_sha256`].
    pub paper_sha256: String,
    /// The answer log's digest up to the finish.
    pub answers_sha256: &'a str,
    pub score: &'a scoring::Score,
    /// How many questions were answered.
    pub answered: u32,
    pub reason: session_engine::FinishReason,
    pub finished_at: String,
    /// The audit chain's last stored entry: see [`ReceiptPayload::audit_head`].
    pub audit_head: ChainHead,
}

impl Finish<'_> {
    /// The published result with its signed receipt.
    pub fn result(self, signer: &Signer) -> ResultView {
        let sections: Vec<SectionResult> = self
            .score
            .sections
            .iter()
            .map(|s| SectionResult {
                code: s.code.to_string(),
                points: s.points.0,
                threshold: s.threshold.0,
                passed: s.passed,
            })
            .collect();
        let scores: BTreeMap<String, i64> = sections.iter().map(|s| (s.code.clone(), s.points)).collect();
        let payload = ReceiptPayload {
            session: self.session.to_owned(),
            participant_no: self.participant_no.to_owned(),
            exam: self.exam.to_owned(),
            bank_sha256: self.bank_sha256.to_owned(),
            paper_sha256: self.paper_sha256,
            answers_sha256: self.answers_sha256.to_owned(),
            scores: scores.clone(),
            total: self.score.total.0,
            passed: self.score.passed,
            reason: self.reason.as_str().to_owned(),
            finished_at: self.finished_at,
            audit_head: Some(self.audit_head),
        };
        let (receipt_full, receipt) = signer.sign(&payload);
        ResultView {
            answered: self.answered,
            reason: self.reason.as_str().to_owned(),
            scores,
            sections,
            total: self.score.total.0,
            passed: self.score.passed,
            receipt,
            receipt_full,
        }
    }
}

/// SHA-256 of a paper: item ids and option orders in paper order.
pub fn paper_sha256<'a>(entries: impl IntoIterator<Item = &'a session_engine::PaperEntry>) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for entry in entries {
        ctx.update(format!("{}:{}\n", entry.item, entry.order_string()).as_bytes());
    }
    hex::encode(ctx.finish())
}

/// Checks an Ed25519 `sig` over `message` by the key `key_id`, given the public key (hex).
pub fn check_signature(public_hex: &str, key_id: &str, message: &[u8], sig: &[u8]) -> Result<(), VerifyError> {
    let public = hex::decode(public_hex).map_err(|_| VerifyError::Malformed)?;
    if self::key_id(&public) != key_id {
        return Err(VerifyError::UnknownKey(key_id.to_owned()));
    }
    signature::UnparsedPublicKey::new(&signature::ED25519, &public)
        .verify(message, sig)
        .map_err(|_| VerifyError::BadSignature)
}

/// The first 8 hex digits of the public key's SHA-256.
fn key_id(public: &[u8]) -> String {
    hex::encode(&ring::digest::digest(&ring::digest::SHA256, public).as_ref()[..4])
}

/// The characters of a short code: no 0/O, 1/I to misread.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A short code as a person may type it (any case, with or without dashes and spaces)
/// in its printed form `XXXX-XXXX-XXXX`; `None` if it is not one.
pub fn parse_short_code(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().filter(|c| !matches!(c, '-' | ' ')).map(|c| c.to_ascii_uppercase()).collect();
    if chars.len() != 12 || !chars.iter().all(|c| c.is_ascii() && ALPHABET.contains(&(*c as u8))) {
        return None;
    }
    Some(chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-"))
}

/// The full receipt (`UJ1.…`) of the finished session whose short code is `code` (as
/// [`parse_short_code`] prints it), from the stored results.
pub async fn find(store: &store::Store, code: &str) -> store::Result<Option<String>> {
    let results = store.results_by_receipt_code(code).await?;
    Ok(results
        .iter()
        .filter_map(|r| serde_json::from_str::<ResultView>(r).ok())
        .find(|r| r.receipt == code && !r.receipt_full.is_empty())
        .map(|r| r.receipt_full))
}

/// Fills in the receipt code column of sessions that finished before it existed, from
/// their stored results; returns how many. Runs once at startup: afterwards every result
/// is written with its code.
pub async fn backfill_codes(store: &store::Store) -> store::Result<usize> {
    let codes: Vec<(String, String)> = store
        .results_without_receipt_code()
        .await?
        .into_iter()
        .map(|(id, result)| {
            let code = serde_json::from_str::<ResultView>(&result).map(|r| r.receipt).unwrap_or_default();
            (id, code)
        })
        .collect();
    if !codes.is_empty() {
        store.set_receipt_codes(&codes).await?;
    }
    Ok(codes.len())
}

/// A receipt as a QR code, an SVG image: what the result screen and the printed slip
/// show, for a phone to scan and `ujian receipt verify` to check.
pub fn qr_svg(receipt: &str) -> Option<String> {
    // Low error correction keeps the code small enough to scan off a screen; a receipt
    // that does not scan is still printed beside it as text.
    let code = qrcode::QrCode::with_error_correction_level(receipt.as_bytes(), qrcode::EcLevel::L).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(256, 256)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
    )
}

/// A code a person can read out: 12 characters from the signature's hash, in groups of 4.
pub fn short_code(sig: &[u8]) -> String {
    let h = ring::digest::digest(&ring::digest::SHA256, sig);
    let chars: Vec<char> =
        h.as_ref().iter().take(12).map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("not a ujian receipt (expected UJ1.<payload>.<signature>.<key id>)")]
    Malformed,
    #[error("signed by key {0}, which is not the key given")]
    UnknownKey(String),
    #[error("the signature does not match: the receipt was altered or not made by this server")]
    BadSignature,
}

/// Checks a receipt against a public key (raw 32 bytes, hex); returns what it vouches for
/// and its short code.
pub fn verify(receipt: &str, public_hex: &str) -> Result<(ReceiptPayload, String), VerifyError> {
    let parts: Vec<&str> = receipt.trim().split('.').collect();
    let [prefix, payload, sig, kid] = parts[..] else { return Err(VerifyError::Malformed) };
    if prefix != PREFIX {
        return Err(VerifyError::Malformed);
    }
    let public = hex::decode(public_hex).map_err(|_| VerifyError::Malformed)?;
    if key_id(&public) != kid {
        return Err(VerifyError::UnknownKey(kid.to_owned()));
    }
    let json = B64.decode(payload).map_err(|_| VerifyError::Malformed)?;
    let sig = B64.decode(sig).map_err(|_| VerifyError::Malformed)?;
    signature::UnparsedPublicKey::new(&signature::ED25519, &public)
        .verify(&json, &sig)
        .map_err(|_| VerifyError::BadSignature)?;
    let payload: ReceiptPayload = serde_json::from_slice(&json).map_err(|_| VerifyError::Malformed)?;
    Ok((payload, short_code(&sig)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> ReceiptPayload {
        ReceiptPayload {
            session: "S.P-1".into(),
            participant_no: "P-1".into(),
            exam: "SKD".into(),
            bank_sha256: "ab".into(),
            paper_sha256: "cd".into(),
            answers_sha256: "ef".into(),
            scores: BTreeMap::from([("TWK".into(), 65)]),
            total: 65,
            passed: true,
            reason: "submitted".into(),
            finished_at: "2026-11-23T08:00:00.000Z".into(),
            audit_head: Some(ChainHead { seq: 7, hash: "ab".repeat(32) }),
        }
    }

    #[test]
    fn a_receipt_verifies_and_any_change_is_caught() {
        let dir = tempfile::tempdir().expect("tmp");
        let signer = Signer::load_or_create(dir.path()).expect("key");
        let (full, code) = signer.sign(&payload());
        let (back, back_code) = verify(&full, &signer.public_hex).expect("valid");
        assert_eq!(back, payload());
        assert_eq!(back_code, code);
        assert_eq!(code.len(), 14);

        // Change the total in the payload: the signature no longer matches.
        let parts: Vec<&str> = full.split('.').collect();
        let mut forged = payload();
        forged.total = 150;
        let forged_payload = B64.encode(serde_json::to_vec(&forged).expect("json"));
        let tampered = format!("{}.{}.{}.{}", parts[0], forged_payload, parts[2], parts[3]);
        assert_eq!(verify(&tampered, &signer.public_hex).map(|_| ()), Err(VerifyError::BadSignature));
        assert_eq!(verify("hello", &signer.public_hex).map(|_| ()), Err(VerifyError::Malformed));

        // The key is reused on the next start, and kept private.
        let again = Signer::load_or_create(dir.path()).expect("key");
        assert_eq!(again.public_hex, signer.public_hex);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("keys").join(KEY_FILE)).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = Signer::load_or_create(tempfile::tempdir().expect("tmp").path()).expect("key");
        assert!(matches!(verify(&full, &other.public_hex), Err(VerifyError::UnknownKey(_))));
    }

    #[test]
    fn a_short_code_is_read_as_typed_and_nothing_else_is() {
        let dir = tempfile::tempdir().expect("tmp");
        let (_, code) = Signer::load_or_create(dir.path()).expect("key").sign(&payload());
        assert_eq!(parse_short_code(&code).as_deref(), Some(code.as_str()));
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(parse_short_code(&typed).as_deref(), Some(code.as_str()));
        for bad in
            ["", "UJ1.abc", "ABCD-EFGH-JKL", "ABCD-EFGH-JKLMN", "ABCD-EFGH-JK0M", "ABCD-EFGH-JK%M", "ABCD_EFGH_JKLM"]
        {
            assert_eq!(parse_short_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_receipt_becomes_a_qr_code_image() {
        let svg = qr_svg(&format!("UJ1.{}.sig.key", "x".repeat(700))).expect("fits a QR code");
        assert!(svg.contains("<svg") && svg.contains("#000000"), "{}", &svg[..100]);
    }

    #[test]
    fn a_receipt_from_before_audit_heads_still_verifies() {
        let dir = tempfile::tempdir().expect("tmp");
        let signer = Signer::load_or_create(dir.path()).expect("key");
        let old = ReceiptPayload { audit_head: None, ..payload() };
        let (full, _) = signer.sign(&old);
        let json = B64.decode(full.split('.').nth(1).expect("payload")).expect("b64");
        assert!(!String::from_utf8_lossy(&json).contains("audit_head"), "the old payload, byte for byte");
        assert_eq!(verify(&full, &signer.public_hex).map(|(p, _)| p), Ok(old));
    }
}
