//! Candidate PINs and staff passwords, stored only as argon2id PHC strings.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::RngExt as _;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_pin_verifies_and_a_wrong_one_does_not() {
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
}
