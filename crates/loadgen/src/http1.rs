//! A minimal HTTP/1.1 client for the candidates' logins: one request on a connection of
//! its own, as each test-center PC's browser sends it. A client library's pool, retry
//! layer and per-connection task cost the load generator more than the request itself,
//! and at a synchronized start the load generator shares the cores with the server it
//! measures.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A reply larger than this is refused: the login's reply is a few hundred bytes.
const MAX_REPLY: usize = 64 * 1024;

/// A response: its status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends `POST path` with a JSON body over `stream` (`Connection: close`) and reads the
/// whole response.
pub async fn post_json(mut stream: TcpStream, authority: &str, path: &str, body: &[u8]) -> std::io::Result<Reply> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await?;
    let mut buf = Vec::with_capacity(1024);
    loop {
        if let Some(reply) = parse(&buf)? {
            return Ok(reply);
        }
        if buf.len() >= MAX_REPLY {
            return Err(invalid("reply too large"));
        }
        buf.reserve(4096);
        if stream.read_buf(&mut buf).await? == 0 {
            // The server closed: what came must be the whole reply.
            return parse_at_eof(&buf);
        }
    }
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

/// The status and headers' end, once the head has arrived.
fn head(buf: &[u8]) -> std::io::Result<Option<(u16, usize, Option<usize>)>> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { return Ok(None) };
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| invalid("head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no HTTP status line"))?;
    let headers: Vec<(&str, &str)> = lines.filter_map(|l| l.split_once(':')).collect();
    let header = |wanted: &str| headers.iter().find(|(name, _)| name.trim().eq_ignore_ascii_case(wanted));
    if header("transfer-encoding").is_some() {
        // The login's reply has a length; a chunked one would be read wrong, so refuse it.
        return Err(invalid("chunked replies are not read"));
    }
    let length = header("content-length")
        .map(|(_, v)| v.trim().parse::<usize>().map_err(|_| invalid("bad content-length")))
        .transpose()?;
    Ok(Some((status, end + 4, length)))
}

/// A complete reply, if `buf` holds one (by its `Content-Length`).
fn parse(buf: &[u8]) -> std::io::Result<Option<Reply>> {
    let Some((status, start, Some(length))) = head(buf)? else { return Ok(None) };
    if buf.len() < start + length {
        return Ok(None);
    }
    Ok(Some(Reply { status, body: buf[start..start + length].to_vec() }))
}

/// The reply when the server has closed the connection: without a `Content-Length` the
/// body runs to the end.
fn parse_at_eof(buf: &[u8]) -> std::io::Result<Reply> {
    match head(buf)? {
        None => Err(invalid("connection closed before the reply")),
        Some((_, _, Some(_))) => Err(invalid("connection closed inside the body")),
        Some((status, start, None)) => Ok(Reply { status, body: buf[start..].to_vec() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_complete_only_with_its_whole_body() {
        let full = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut]).expect("no error"), None, "cut at {cut}");
        }
        assert_eq!(parse(full).expect("parse"), Some(Reply { status: 200, body: b"{\"a\":1}".to_vec() }));
    }

    #[test]
    fn without_a_length_the_body_runs_to_the_close() {
        let reply = parse_at_eof(b"HTTP/1.1 429 Too Many Requests\r\n\r\nwait").expect("parse");
        assert_eq!(reply, Reply { status: 429, body: b"wait".to_vec() });
        assert!(parse_at_eof(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").is_err());
        assert!(parse_at_eof(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse(b"garbage\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").is_err());
    }
}
