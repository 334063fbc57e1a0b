//! The candidate WebSocket: upgrade → one task that `select!`s over the socket, pushes
//! from the server (pause, time up, takeover) and shutdown.

use std::ops::ControlFlow;

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use tokio::sync::mpsc;

use super::AppState;
use super::login;
use crate::auth;
use crate::error::{ApiError, Code, WireError};
use crate::live::{Action, Push, SessionRef};
use crate::protocol::{ClientEvent, ClientMsg, ServerMsg, client_ts_text, parse_client};

/// Frames above this are refused with `too_large`; the protocol's largest message is tiny.
pub(crate) const MAX_TEXT: usize = 4 * 1024;
/// The socket is read in chunks of this much. A candidate's messages are under 200 bytes;
/// a larger frame takes more reads (its whole length is reserved from its header). Each
/// connection holds a buffer of this size, zeroed before every read: tungstenite's default
/// of 128 KiB, or even 4 KiB, is most of what an idle connection would hold.
const READ_CHUNK: usize = 1024;
/// Hard limit at the WebSocket layer: above it the connection is closed.
pub(crate) const MAX_FRAME: usize = 64 * 1024;
/// Messages a connection may send in a burst, and how fast the allowance refills. A real
/// candidate sends a few a second at most; a flood from one PC must not slow the others.
const BURST: f64 = 120.0;
const REFILL_PER_SEC: f64 = 20.0;
/// A connection that keeps flooding after this many refusals is closed.
const MAX_REFUSED: u32 = 1_000;

/// A token bucket on the server's clock (so tests can hold time still).
struct Limiter {
    tokens: f64,
    last: u64,
    refused: u32,
}

impl Limiter {
    fn new(now: u64) -> Limiter {
        Limiter { tokens: BURST, last: now, refused: 0 }
    }

    fn allow(&mut self, now: u64) -> bool {
        let elapsed = now.saturating_sub(self.last) as f64 / 1000.0;
        self.last = now;
        self.tokens = (self.tokens + elapsed * REFILL_PER_SEC).min(BURST);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused = 0;
            true
        } else {
            self.refused += 1;
            false
        }
    }
}

pub(crate) async fn candidate_ws(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let login = match login::candidate(&state, &headers).await {
        Ok(login) => Ok(login),
        // A login that was ended or expired is told why over the socket: a browser sees
        // nothing of a refused upgrade but that it closed.
        Err(e) if matches!(e.code, Code::SittingClosed | Code::SeatLocked | Code::TokenExpired) => {
            Err(WireError::new(e.code, e.message))
        }
        Err(e) => return Err(e),
    };
    // Small buffers: tungstenite's defaults (128 KiB a connection) would cost gigabytes at
    // exam-day connection counts.
    Ok(ws
        .read_buffer_size(READ_CHUNK)
        .write_buffer_size(0)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |mut socket| async move {
            match login {
                Ok(login) => run(socket, state, login).await,
                Err(e) => refuse(&mut socket, e).await,
            }
        }))
}

/// Sends why the connection is refused, then closes it.
async fn refuse(socket: &mut WebSocket, e: WireError) {
    let _ = send(socket, &error_msg(e, None)).await;
    let _ = socket.send(Message::Close(None)).await;
}

async fn send(socket: &mut WebSocket, msg: &ServerMsg) -> Result<(), axum::Error> {
    let text = serde_json::to_string(msg).unwrap_or_else(|_| "{\"type\":\"error\",\"code\":\"internal\"}".into());
    socket.send(Message::Text(Utf8Bytes::from(text))).await
}

/// An error as the frame that tells the candidate; where a WebSocket error leaves the
/// server, so where it is logged.
fn error_msg(e: WireError, seq: Option<i64>) -> ServerMsg {
    e.log();
    ServerMsg::Error { code: e.code.as_str().to_owned(), message: e.message, seq }
}

async fn run(mut socket: WebSocket, state: AppState, login: auth::CandidateLogin) {
    let (tx, mut pushes) = mpsc::channel::<Push>(32);
    let registry = state.registry.clone();
    let session = login.session;
    let (conn_id, welcome, started) = match registry.connect(&session, &login.token_hash, tx.clone()).await {
        Ok(v) => v,
        Err(e) => {
            refuse(&mut socket, e).await;
            return;
        }
    };
    if started {
        // The store ended the session's other logins with the start; so does the cache.
        state.auth.forget_other_tokens(&session, &login.token_hash);
    }
    if send(&mut socket, &welcome).await.is_err() {
        registry.disconnect(&session, conn_id).await;
        return;
    }
    let mut shutdown = state.shutdown.clone();
    // Made once: a fresh one each turn of the loop would join and leave the shutdown
    // signal's waiter list (a lock every connection shares) with every message.
    let stopped = crate::shutdown::stopped(&mut shutdown);
    tokio::pin!(stopped);
    let mut limiter = Limiter::new(registry.clock().tick());
    let mut seat = SessionRef::new(session.clone(), conn_id, tx);
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { break };
                if matches!(frame, Message::Text(_) | Message::Binary(_)) && !limiter.allow(registry.clock().tick()) {
                    if limiter.refused > MAX_REFUSED {
                        tracing::warn!(session = %session, "closing a flooding connection");
                        break;
                    }
                    let e = WireError::new(Code::RateLimited, "too many messages; slow down");
                    // Named by its seq, so the page knows which change to send again.
                    let seq = match &frame {
                        Message::Text(text) => crate::protocol::seq_of(text.as_str()),
                        _ => None,
                    };
                    if send(&mut socket, &error_msg(e, seq)).await.is_err() {
                        break;
                    }
                    continue;
                }
                let replies = match frame {
                    // Boxed: the answer path's future is large, and inline it would sit in
                    // every idle connection's task between messages.
                    Message::Text(text) => Box::pin(handle_text(&state, &mut seat, text.as_str())).await,
                    Message::Binary(_) => vec![error_msg(WireError::bad_message("binary frames are not part of the protocol"), None)],
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                let mut failed = false;
                for r in &replies {
                    if send(&mut socket, r).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                if failed {
                    break;
                }
            }
            push = pushes.recv() => {
                match push {
                    Some(Push::Msg(m)) => {
                        if send(&mut socket, &m).await.is_err() {
                            break;
                        }
                    }
                    Some(Push::TakenOver) => {
                        let _ = send(&mut socket, &ServerMsg::TakenOver).await;
                        let _ = socket.send(Message::Close(None)).await;
                        break;
                    }
                    Some(Push::Evicted) => {
                        if let Err(e) = registry.reattach(&mut seat).await {
                            // The stored truth cannot be read now: the page reconnects and
                            // its welcome carries it.
                            e.log_dropped("cannot reattach after an eviction", &session);
                            let _ = socket.send(Message::Close(None)).await;
                            break;
                        }
                    }
                    None => break,
                }
            }
            () = &mut stopped => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
        }
    }
    registry.disconnect(&session, conn_id).await;
}

/// One text frame → the replies to send. Never fails: every problem is an `error` reply.
async fn handle_text(state: &AppState, seat: &mut SessionRef, text: &str) -> Vec<ServerMsg> {
    if text.len() > MAX_TEXT {
        return vec![error_msg(WireError::new(Code::TooLarge, format!("a message is at most {MAX_TEXT} bytes")), None)];
    }
    let msg = match parse_client(text) {
        Ok(m) => m,
        Err(e) => {
            let seq = serde_json::from_str::<serde_json::Value>(text).ok().and_then(|v| v.get("seq")?.as_i64());
            return vec![error_msg(WireError::bad_message(e), seq)];
        }
    };
    match handle(state, seat, msg).await {
        ControlFlow::Continue(replies) => replies,
        ControlFlow::Break(reply) => vec![reply],
    }
}

async fn handle(state: &AppState, seat: &mut SessionRef, msg: ClientMsg) -> ControlFlow<ServerMsg, Vec<ServerMsg>> {
    let registry = &state.registry;
    let (seq, action, client_ts) = match msg {
        ClientMsg::Ping => return ControlFlow::Continue(vec![ServerMsg::Pong]),
        ClientMsg::Get { index } => {
            return match registry.question(seat, index).await {
                Ok(q) => ControlFlow::Continue(vec![q]),
                Err(e) => ControlFlow::Break(error_msg(e, None)),
            };
        }
        ClientMsg::Answer { seq, index, choice, client_ts } => {
            let choice = match choice {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s),
                other => {
                    return ControlFlow::Break(error_msg(
                        WireError::new(
                            Code::BadChoice,
                            format!("choice must be a label such as \"A\" or null, not {other}"),
                        ),
                        Some(seq),
                    ));
                }
            };
            (seq, Action::Answer { index, choice }, client_ts)
        }
        ClientMsg::Flag { seq, index, flagged, client_ts } => (seq, Action::Flag { index, flagged }, client_ts),
        ClientMsg::Finish { seq, client_ts } => (seq, Action::Finish, client_ts),
        ClientMsg::Event { seq, kind, client_ts } => match ClientEvent::parse(&kind) {
            Ok(kind) => (seq, Action::Event { kind }, client_ts),
            Err(e) => return ControlFlow::Break(error_msg(WireError::bad_message(e), Some(seq))),
        },
    };
    match registry.submit(seat, seq, action, client_ts_text(&client_ts)).await {
        Ok(replies) => ControlFlow::Continue(replies),
        Err(e) => {
            if e.code == Code::TimeExpired {
                // The deadline passed between sweeps: finish now so the candidate gets the result.
                if let Err(e) = registry.expire(seat.id()).await {
                    e.log();
                }
            }
            ControlFlow::Break(error_msg(e, Some(seq)))
        }
    }
}
