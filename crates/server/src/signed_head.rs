//! The audit chain's head signed with the receipts' Ed25519 key: published every minute
//! and at each sitting close, so a head someone kept is a fixed point a chain rewritten
//! from genesis no longer passes through (`ujian audit verify --head`).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::audit::{Audit, ChainHead};
use crate::clock::Clock;
use crate::receipt::{Signer, VerifyError};

/// What a signed head's signature covers, one field a line after the format's name.
pub const HEAD_FORMAT: &str = "ujian-audit-head-v1";

/// The chain's head signed with the server's Ed25519 key (the receipts' key): published at
/// `/api/v1/audit/head` and in the board's footer, for anyone to keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHead {
    /// Always [`HEAD_FORMAT`].
    pub format: String,
    pub seq: i64,
    pub hash: String,
    /// When it was signed (RFC 3339 UTC): a head signed recently shows the server was
    /// signing then, whether or not the chain had grown.
    pub signed_at: String,
    /// The first 8 hex digits of the public key's SHA-256 (as receipts name it).
    pub key_id: String,
    /// Ed25519 over [`SignedHead::message`], base64url without padding.
    pub signature: String,
}

impl SignedHead {
    pub fn sign(head: &ChainHead, signed_at: &str, signer: &Signer) -> SignedHead {
        let sig = signer.sign_raw(Self::message(head.seq, &head.hash, signed_at).as_bytes());
        SignedHead {
            format: HEAD_FORMAT.to_owned(),
            seq: head.seq,
            hash: head.hash.clone(),
            signed_at: signed_at.to_owned(),
            key_id: signer.key_id.clone(),
            signature: B64.encode(sig),
        }
    }

    /// `ujian-audit-head-v1\n{seq}\n{hash}\n{signed_at}`.
    pub fn message(seq: i64, hash: &str, signed_at: &str) -> String {
        format!("{HEAD_FORMAT}\n{seq}\n{hash}\n{signed_at}")
    }

    /// Checks the signature against a public key (hex); returns the head it vouches for.
    pub fn verify(&self, public_hex: &str) -> Result<ChainHead, VerifyError> {
        if self.format != HEAD_FORMAT {
            return Err(VerifyError::Malformed);
        }
        let sig = B64.decode(&self.signature).map_err(|_| VerifyError::Malformed)?;
        let message = Self::message(self.seq, &self.hash, &self.signed_at);
        crate::receipt::check_signature(public_hex, &self.key_id, message.as_bytes(), &sig)?;
        Ok(ChainHead { seq: self.seq, hash: self.hash.clone() })
    }
}

/// How often the head is signed again at least.
pub const HEAD_INTERVAL_MS: i64 = 60_000;

/// Signs the stored chain's head and keeps the latest signature for whoever asks.
pub struct HeadPublisher {
    audit: Arc<Audit>,
    signer: Arc<Signer>,
    clock: Arc<dyn Clock>,
    latest: watch::Sender<SignedHead>,
}

impl HeadPublisher {
    /// Signs the head at once, so a head is published from the start.
    pub fn new(audit: Arc<Audit>, signer: Arc<Signer>, clock: Arc<dyn Clock>) -> HeadPublisher {
        let first = SignedHead::sign(&audit.committed_head(), &store::ts(clock.utc()), &signer);
        HeadPublisher { audit, signer, clock, latest: watch::Sender::new(first) }
    }

    /// Signs the head as stored now (at a sitting's close, and every minute).
    pub fn sign_now(&self) -> SignedHead {
        let head = SignedHead::sign(&self.audit.committed_head(), &store::ts(self.clock.utc()), &self.signer);
        self.latest.send_replace(head.clone());
        head
    }

    pub fn latest(&self) -> SignedHead {
        self.latest.borrow().clone()
    }

    /// Signs again whenever a minute has passed on the server's clock since the last
    /// signature (checked each second, so a moved test clock is followed within one).
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = crate::shutdown::stopped(&mut shutdown) => break,
            }
            let last = chrono::DateTime::parse_from_rfc3339(&self.latest.borrow().signed_at).ok();
            let due = last.is_none_or(|t| (self.clock.utc() - t.to_utc()).num_milliseconds() >= HEAD_INTERVAL_MS);
            if due {
                self.sign_now();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_head_verifies_and_any_change_is_caught() {
        let dir = tempfile::tempdir().expect("tmp");
        let signer = Signer::load_or_create(dir.path()).expect("key");
        let head = ChainHead { seq: 9, hash: "cd".repeat(32) };
        let signed = SignedHead::sign(&head, "2026-11-24T01:00:00.000Z", &signer);
        assert_eq!(signed.verify(&signer.public_hex), Ok(head));
        let json = serde_json::to_string(&signed).expect("json");
        let back: SignedHead = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, signed);
        for forged in [
            SignedHead { seq: 8, ..signed.clone() },
            SignedHead { hash: "ce".repeat(32), ..signed.clone() },
            SignedHead { signed_at: "2026-11-24T02:00:00.000Z".into(), ..signed.clone() },
        ] {
            assert_eq!(forged.verify(&signer.public_hex), Err(VerifyError::BadSignature));
        }
        let other = Signer::load_or_create(tempfile::tempdir().expect("tmp").path()).expect("key");
        assert!(matches!(signed.verify(&other.public_hex), Err(VerifyError::UnknownKey(_))));
    }
}
