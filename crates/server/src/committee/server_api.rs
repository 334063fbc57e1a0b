//! The committee's commands that act on a running server (`ujian sitting open|pause|
//! resume|close|status`): they go through its HTTP API with a staff login, exactly as the
//! console does, so the server that holds the room's seats in memory makes the change,
//! audits it under the staff member's name and refuses what the console would refuse.
//! Writing the database behind its back would leave its seats, clocks and kept logins
//! believing the old status.

use anyhow::Context as _;
use clap::Args;
use serde_json::{Value, json};

/// Where the server is and who acts on it.
#[derive(Debug, Clone, Args)]
pub struct ServerLogin {
    /// The running server, e.g. http://127.0.0.1:8080 (default: http:// and the address in
    /// UJIAN_LISTEN, else http://127.0.0.1:8080).
    #[arg(long, env = "UJIAN_SERVER")]
    pub server: Option<String>,
    /// The staff account that acts (an admin, or a supervisor of the sitting). Its password
    /// comes from UJIAN_PASSWORD or, on a terminal, is asked for.
    #[arg(long, env = "UJIAN_USER")]
    pub user: String,
}

impl ServerLogin {
    fn base(&self) -> String {
        let base = match &self.server {
            Some(url) => url.clone(),
            None => {
                let listen = std::env::var("UJIAN_LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
                // A server listening on every address is reached on this machine's loopback.
                format!("http://{}", listen.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]"))
            }
        };
        base.trim_end_matches('/').to_owned()
    }
}

/// A staff login on a running server; ended when the command is done.
pub(super) struct Session {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Session {
    pub(super) async fn login(login: &ServerLogin) -> anyhow::Result<Session> {
        let base = login.base();
        let password = password(&login.user)?;
        let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build()?;
        let resp = client
            .post(format!("{base}/api/v1/staff/login"))
            .json(&json!({ "username": login.user, "password": password }))
            .send()
            .await
            .with_context(|| {
                format!(
                    "cannot reach the server at {base}: start it with `ujian serve`, or give its address with --server"
                )
            })?;
        let body = answer(resp).await.with_context(|| format!("log in as {} at {base}", login.user))?;
        let token = body["token"].as_str().context("the server's login answer has no token")?.to_owned();
        Ok(Session { client, base, token })
    }

    pub(super) async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let resp = self.client.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await?;
        answer(resp).await
    }

    pub(super) async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let resp = self.client.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(body).send().await?;
        answer(resp).await
    }

    /// Ends the login on the server, so its token is no use to anyone who finds it.
    pub(super) async fn logout(self) {
        let url = format!("{}/api/v1/staff/logout", self.base);
        if let Err(e) = self.client.post(url).bearer_auth(&self.token).send().await {
            eprintln!("warning: the staff login was not ended on the server: {e}");
        }
    }
}

/// The body of a successful answer, or the server's refusal in its own words.
async fn answer(resp: reqwest::Response) -> anyhow::Result<Value> {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let error = &body["error"];
    match (error["message"].as_str(), error["code"].as_str()) {
        (Some(message), Some(code)) => anyhow::bail!("the server refused: {message} ({code})"),
        _ => anyhow::bail!("the server answered {status}"),
    }
}

/// The staff password: UJIAN_PASSWORD, or asked for on the terminal without echo.
fn password(user: &str) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("UJIAN_PASSWORD") {
        return Ok(p);
    }
    use std::io::IsTerminal as _;
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("no password for {user}: set UJIAN_PASSWORD, or run this on a terminal to be asked");
    }
    // Echo goes off before the prompt shows: nothing typed after it is ever echoed.
    let line = without_echo(|| {
        eprint!("password for {user}: ");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })?;
    eprintln!();
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Runs `read` with the terminal's echo off, and puts it back however `read` ends.
fn without_echo<T>(read: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    #[cfg(target_os = "linux")]
    {
        use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        let before = tcgetattr(&stdin)?;
        let mut quiet = before.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        tcsetattr(&stdin, OptionalActions::Now, &quiet)?;
        let result = read();
        tcsetattr(&stdin, OptionalActions::Now, &before)?;
        result
    }
    #[cfg(not(target_os = "linux"))]
    read()
}
