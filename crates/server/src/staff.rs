//! Staff (admin and supervisor) login and [`Staff`], whom every console route acts for:
//! [`Staff::of_token`] checks the login and gives the role; [`Staff::may_see`] checks scope.
//!
//! CSRF: the cookie is `SameSite=Strict`, and every state-changing route takes a JSON
//! body, which a cross-site form cannot send without a CORS preflight ujian never grants.
//!
//! Wrong passwords are counted per (account, client address), so a guesser elsewhere
//! locks out only itself, and per account from addresses it has not logged in from
//! lately (see [`crate::throttle`]); an admin unlocks an account with [`unlock`].

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::actions::LogAction;
use crate::auth::{self, Auth};
use crate::error::{ApiError, Code};
use crate::live::Registry;
use crate::throttle::Subject;

/// A staff login lasts one exam day.
pub const TOKEN_HOURS: i64 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The exam committee: every sitting.
    Admin,
    /// Only the sittings they are assigned to.
    Supervisor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
        }
    }
}

/// A stored role that is no [`Role`] (the account has no console role).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        match s {
            "admin" => Ok(Role::Admin),
            "supervisor" => Ok(Role::Supervisor),
            _ => Err(UnknownRole(s.to_owned())),
        }
    }
}

/// A logged-in staff member.
#[derive(Debug, Clone, Serialize)]
pub struct Staff {
    pub username: String,
    pub name: String,
    pub role: Role,
}

impl Staff {
    /// The staff member whose login `token` is, if it is in force.
    pub async fn of_token(registry: &Registry, token: Option<&str>) -> Result<Staff, ApiError> {
        let token = token.ok_or_else(ApiError::unauthorized)?;
        let now = store::ts(registry.clock().utc());
        let row = registry
            .store()
            .staff_for_token(&auth::token_hash(token), &now)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        let role = row.role.parse().map_err(|_| ApiError::new(Code::Forbidden, "this account has no console role"))?;
        Ok(Staff { username: row.username, name: row.name, role })
    }
}

impl Staff {
    /// 403 unless this staff member may see and act on `sitting`.
    pub async fn may_see(&self, store: &store::Store, sitting: &str) -> Result<(), ApiError> {
        if self.role == Role::Admin || store.supervises(&self.username, sitting).await? {
            Ok(())
        } else {
            Err(ApiError::new(Code::Forbidden, "you do not supervise this sitting"))
        }
    }

    pub fn admin_only(&self) -> Result<(), ApiError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::new(Code::Forbidden, "only the exam committee (admin) may do this"))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct StaffLogin {
    pub username: String,
    pub password: String,
}

/// A staff login that worked: its token, who, and in which role.
#[derive(Debug, Serialize)]
pub struct StaffLoggedIn {
    pub token: String,
    pub username: String,
    pub role: String,
}

/// A staff login: the password checked against the throttle's counts per address, per
/// account from this address, and per account from unfamiliar addresses.
pub async fn login(
    auth: &Auth,
    registry: &Registry,
    client: IpAddr,
    req: &StaffLogin,
) -> Result<StaffLoggedIn, ApiError> {
    let bad = || ApiError::new(Code::BadCredentials, "username or password is wrong");
    if !is_username(&req.username) {
        return Err(ApiError::new(Code::BadRequest, "a username holds letters, digits, '.', '-' and '_' (at most 64)"));
    }
    let now = registry.clock().tick();
    let throttle = &auth.throttle;
    // Unknown usernames are counted like known ones: being locked out tells nothing either.
    let from_address = throttle.reserve(Subject::address(client), now).map_err(locked_out)?;
    let from_here = throttle.reserve(Subject::staff_at(&req.username, client), now).map_err(locked_out)?;
    let from_anywhere = if throttle.familiar(&req.username, client, now) {
        None
    } else {
        Some(throttle.reserve(Subject::staff(&req.username), now).map_err(locked_out)?)
    };
    let row = registry.store().staff(&req.username).await?;
    let ok = match &row {
        Some(r) => auth.verify(&req.password, &r.password_hash).await?,
        None => auth.verify_nobody(&req.password).await?,
    };
    let Some(row) = row.filter(|_| ok) else {
        from_address.failed();
        from_here.failed();
        if let Some(attempt) = from_anywhere {
            attempt.failed();
        }
        return Err(bad());
    };
    from_here.cleared();
    // The count from everywhere and the address's are given back, not cleared: a login
    // that worked does not forget what others tried meanwhile.
    drop((from_address, from_anywhere));
    throttle.remember_familiar(&row.username, client, now);
    let token = auth::new_token();
    let utc = registry.clock().utc();
    let expires = utc + chrono::Duration::hours(TOKEN_HOURS);
    registry
        .store()
        .put_staff_token(&auth::token_hash(&token), &row.username, &store::ts(utc), &store::ts(expires))
        .await?;
    registry
        .record(
            &row.username,
            LogAction::StaffLogin,
            &row.username,
            serde_json::json!({ "role": row.role }),
            store::Batch::default(),
        )
        .await
        .map_err(|e| ApiError::internal("audit staff login", &e))?;
    Ok(StaffLoggedIn { token, username: row.username, role: row.role })
}

/// Ends the login on the server too, so a copied cookie or script token stops working.
pub async fn logout(registry: &Registry, token: Option<&str>) -> Result<(), ApiError> {
    if let Some(token) = token {
        registry.store().delete_staff_token(&auth::token_hash(token)).await?;
    }
    Ok(())
}

/// `POST /api/v1/staff/{username}/unlock`: an admin lets a staff account whose password
/// was refused too often log in again at once, from every address (audited, with the
/// reason). Unknown usernames are counted too, so any well-formed one can be unlocked.
/// Returns whether the account was locked. Only an admin may (checked here as well as by
/// the route, so no other caller can skip it).
pub async fn unlock(
    auth: &Auth,
    registry: &Registry,
    staff: &Staff,
    username: &str,
    reason: &str,
) -> Result<bool, ApiError> {
    staff.admin_only()?;
    if !is_username(username) {
        return Err(ApiError::new(Code::BadRequest, "not a username"));
    }
    let changed = auth.throttle.unlock_staff(username, registry.clock().tick());
    let detail = serde_json::json!({ "reason": reason, "was_locked": changed });
    registry
        .record(&staff.username, LogAction::StaffUnlock, username, detail, store::Batch::default())
        .await
        .map_err(|e| ApiError::internal("audit", &e))?;
    Ok(changed)
}

/// True for what a staff username may be (as `ujian staff add` checks it): letters,
/// digits, `.`, `-` and `_`, at most 64. Checked before a login touches anything.
pub fn is_username(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn locked_out(locked: crate::throttle::Locked) -> ApiError {
    let minutes = locked.retry_after_ms.div_ceil(60_000).max(1);
    ApiError::new(
        Code::TooManyAttempts,
        format!("too many failed logins; try again in {minutes} minutes or ask the exam committee (admin)"),
    )
}
