//! Candidate PINs and staff passwords. Neither is ever stored in clear.
//!
//! **Staff passwords** are chosen by people and guard the console for days: argon2id PHC
//! strings (OWASP parameters, ~20 ms and 19 MiB a check).
//!
//! **Candidate PINs** are six random digits, valid for one sitting, and checked by the
//! thousand in the minute an exam opens. No password hash makes a six-digit PIN safe
//! against an offline search (10⁶ guesses × 20 ms is under six core-hours), and at exam
//! start argon2 is what every candidate waits for: 10,000 logins take minutes on a
//! two-core server. So a PIN is stored as HMAC-SHA256 under a server key that is not in
//! the database (`DATA_DIR/keys/pin-hmac.key`, mode 0600): a leaked database alone gives
//! nothing to search against, and a check costs a microsecond. Online guessing is stopped
//! by the lockout (10 failures per participant) and the sitting token shown only in the
//! room. The MAC covers the participant number, so equal PINs do not give equal hashes
//! and a hash cannot be copied to another candidate. Argon2id PIN hashes written by
//! earlier versions still verify (on the blocking pool).

use std::path::Path;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::RngExt as _;
use ring::hmac;

const PIN_KEY_FILE: &str = "pin-hmac.key";
const PIN_PREFIX: &str = "hmac-sha256$";

/// Hashes a secret with argon2id and a fresh random salt (OWASP-recommended parameters).
pub fn hash_secret(secret: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash secret: {e}"))
}

/// True when `secret` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify_secret(secret: &str, phc: &str) -> bool {
    Argon2::default().verify_password(secret.as_bytes(), phc).is_ok()
}

/// A six-digit PIN, from the operating system's CSPRNG.
pub fn generate_pin() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// The server key candidate PINs are stored under. Cheap to clone.
#[derive(Clone)]
pub struct PinKey(hmac::Key);

/// What a stored PIN hash says about a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinCheck {
    Match,
    NoMatch,
    /// An argon2id hash from an earlier version: check it with [`verify_secret`], which is
    /// slow and belongs on the blocking pool.
    Argon2,
}

impl PinKey {
    /// Loads the key from `DATA_DIR/keys`, making one on first use (by the server or by
    /// the import that hashes the first PINs).
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<PinKey> {
        let (bytes, made) = crate::keys::load_or_create(data_dir, PIN_KEY_FILE, || {
            let mut key = [0u8; 32];
            rand::rng().fill(&mut key[..]);
            Ok(key.to_vec())
        })?;
        if bytes.len() < 32 {
            anyhow::bail!(
                "{}: a PIN key must be 32 bytes, found {}",
                data_dir.join("keys").join(PIN_KEY_FILE).display(),
                bytes.len()
            );
        }
        if made {
            tracing::info!(dir = %data_dir.join("keys").display(), "made a new PIN key");
        }
        Ok(PinKey(hmac::Key::new(hmac::HMAC_SHA256, &bytes)))
    }

    /// The stored form of `pin` for `participant_no`.
    pub fn hash_pin(&self, participant_no: &str, pin: &str) -> String {
        let tag = hmac::sign(&self.0, &message(participant_no, pin));
        format!("{PIN_PREFIX}{}", hex::encode(tag.as_ref()))
    }

    /// Checks `pin` against what is stored for `participant_no` (in constant time).
    pub fn check_pin(&self, participant_no: &str, pin: &str, stored: &str) -> PinCheck {
        if let Some(tag) = stored.strip_prefix(PIN_PREFIX) {
            let ok =
                hex::decode(tag).is_ok_and(|tag| hmac::verify(&self.0, &message(participant_no, pin), &tag).is_ok());
            if ok { PinCheck::Match } else { PinCheck::NoMatch }
        } else if stored.starts_with("$argon2") {
            PinCheck::Argon2
        } else {
            PinCheck::NoMatch
        }
    }
}

/// What the MAC covers: a domain tag, the participant and the PIN, unambiguously joined.
fn message(participant_no: &str, pin: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(16 + participant_no.len() + pin.len());
    m.extend_from_slice(b"ujian-pin-v1\0");
    m.extend_from_slice(participant_no.as_bytes());
    m.push(0);
    m.extend_from_slice(pin.as_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_secret_verifies_and_a_wrong_one_does_not() {
        let h = hash_secret("123456").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_secret("123456", &h));
        assert!(!verify_secret("123457", &h));
        assert!(!verify_secret("123456", "not a hash"));
    }

    #[test]
    fn generated_pins_are_six_digits() {
        for _ in 0..100 {
            let pin = generate_pin();
            assert_eq!(pin.len(), 6);
            assert!(pin.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn a_pin_matches_only_its_own_participant_under_its_own_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = PinKey::load_or_create(dir.path()).expect("key");
        let h = key.hash_pin("P-1", "123456");
        assert!(h.starts_with("hmac-sha256$"), "{h}");
        assert!(!h.contains("123456"));
        assert_eq!(key.check_pin("P-1", "123456", &h), PinCheck::Match);
        assert_eq!(key.check_pin("P-1", "123457", &h), PinCheck::NoMatch);
        // The same PIN for another candidate is another hash; a hash cannot be moved.
        assert_ne!(key.hash_pin("P-2", "123456"), h);
        assert_eq!(key.check_pin("P-2", "123456", &h), PinCheck::NoMatch);
        // Garbage never matches; an argon2 hash is handed to the slow path.
        assert_eq!(key.check_pin("P-1", "123456", "hmac-sha256$zz"), PinCheck::NoMatch);
        assert_eq!(key.check_pin("P-1", "123456", ""), PinCheck::NoMatch);
        assert_eq!(key.check_pin("P-1", "123456", "$argon2id$v=19$..."), PinCheck::Argon2);
        // The key is kept: loading again gives the same key; another data dir another key.
        let again = PinKey::load_or_create(dir.path()).expect("key again");
        assert_eq!(again.check_pin("P-1", "123456", &h), PinCheck::Match);
        let other = tempfile::tempdir().expect("tempdir");
        let other = PinKey::load_or_create(other.path()).expect("other key");
        assert_eq!(other.check_pin("P-1", "123456", &h), PinCheck::NoMatch);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode =
                std::fs::metadata(dir.path().join("keys").join(PIN_KEY_FILE)).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
