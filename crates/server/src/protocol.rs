//! The candidate WebSocket protocol's wire types (docs/protocol.md). Only this module
//! knows JSON shapes; engine types are converted by hand, so an engine refactor cannot
//! change the wire by accident.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Client → server. Parsed in two steps (first `type`, then fields) so errors can say which.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    Get {
        index: i64,
    },
    Answer {
        seq: i64,
        index: i64,
        /// Required, may be null (clear). A `Value` so a missing field is an error rather
        /// than a silent clear.
        choice: serde_json::Value,
        #[serde(default)]
        client_ts: Option<serde_json::Value>,
    },
    Flag {
        seq: i64,
        index: i64,
        flagged: bool,
        #[serde(default)]
        client_ts: Option<serde_json::Value>,
    },
    Finish {
        seq: i64,
        #[serde(default)]
        client_ts: Option<serde_json::Value>,
    },
    Event {
        seq: i64,
        kind: String,
        #[serde(default)]
        client_ts: Option<serde_json::Value>,
    },
    Ping,
}

pub const CLIENT_TYPES: &[&str] = &["get", "answer", "flag", "finish", "event", "ping"];

/// Parses a text frame, naming what is wrong on failure.
///
/// A well-formed message is read in one pass into its fields ([`parse_fields`]); anything
/// else takes the two-step reading ([`parse_client_checked`]) that names what is wrong. The
/// two agree on every message the first accepts (a property test holds them to it).
pub fn parse_client(text: &str) -> Result<ClientMsg, String> {
    match parse_fields(text) {
        Some(msg) => Ok(msg),
        None => parse_client_checked(text),
    }
}

/// The two-step reading: JSON, then an object with a known `type`, then that type's fields.
fn parse_client_checked(text: &str) -> Result<ClientMsg, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Some(obj) = value.as_object() else { return Err("a message is a JSON object".into()) };
    let Some(ty) = obj.get("type").and_then(|t| t.as_str()).map(str::to_owned) else {
        return Err("a message needs a string \"type\"".into());
    };
    if !CLIENT_TYPES.contains(&ty.as_str()) {
        return Err(format!("unknown type {ty:?} (expected one of: {})", CLIENT_TYPES.join(", ")));
    }
    serde_json::from_value(value).map_err(|e| format!("{ty}: {e}"))
}

/// Every field any client message has, read straight from the text: an answer is the
/// message of the exam's hot path, and building a `serde_json::Value` first and then the
/// enum from it (serde buffers an internally tagged enum's fields) cost more than the rest
/// of reading it. `None` when anything is off; the checked reading then says what.
fn parse_fields(text: &str) -> Option<ClientMsg> {
    #[derive(Deserialize)]
    struct Fields<'a> {
        #[serde(rename = "type", borrow)]
        ty: std::borrow::Cow<'a, str>,
        seq: Option<i64>,
        index: Option<i64>,
        /// Present-and-null (clear the answer) differs from missing (an error).
        #[serde(default, deserialize_with = "present")]
        choice: Option<serde_json::Value>,
        flagged: Option<bool>,
        kind: Option<String>,
        client_ts: Option<serde_json::Value>,
    }
    fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
        serde_json::Value::deserialize(d).map(Some)
    }
    // A derived struct also reads a JSON array in field order, and skipping an unknown
    // field's string does not check its `\u` escapes (a lone surrogate), where the checked
    // reading refuses both: leave those to it.
    if !text.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{') || text.contains("\\u") {
        return None;
    }
    let f: Fields<'_> = serde_json::from_str(text).ok()?;
    Some(match &*f.ty {
        "get" => ClientMsg::Get { index: f.index? },
        "answer" => ClientMsg::Answer { seq: f.seq?, index: f.index?, choice: f.choice?, client_ts: f.client_ts },
        "flag" => ClientMsg::Flag { seq: f.seq?, index: f.index?, flagged: f.flagged?, client_ts: f.client_ts },
        "finish" => ClientMsg::Finish { seq: f.seq?, client_ts: f.client_ts },
        "event" => ClientMsg::Event { seq: f.seq?, kind: f.kind?, client_ts: f.client_ts },
        "ping" => ClientMsg::Ping,
        _ => return None,
    })
}

/// What a candidate's page may report about itself in an `event` message. The list is
/// closed: the seat monitor shows these as the candidate's own report, and a page cannot
/// make up a kind the server itself reports (`finished`, `taken_over`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEvent {
    FocusLost,
    FocusGained,
    FullscreenExit,
    FullscreenEnter,
    PageHidden,
    PageVisible,
    Copy,
    Paste,
    Print,
}

impl ClientEvent {
    pub const ALL: [ClientEvent; 9] = [
        ClientEvent::FocusLost,
        ClientEvent::FocusGained,
        ClientEvent::FullscreenExit,
        ClientEvent::FullscreenEnter,
        ClientEvent::PageHidden,
        ClientEvent::PageVisible,
        ClientEvent::Copy,
        ClientEvent::Paste,
        ClientEvent::Print,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientEvent::FocusLost => "focus_lost",
            ClientEvent::FocusGained => "focus_gained",
            ClientEvent::FullscreenExit => "fullscreen_exit",
            ClientEvent::FullscreenEnter => "fullscreen_enter",
            ClientEvent::PageHidden => "page_hidden",
            ClientEvent::PageVisible => "page_visible",
            ClientEvent::Copy => "copy",
            ClientEvent::Paste => "paste",
            ClientEvent::Print => "print",
        }
    }

    /// The kind named by `kind`, or the error that lists the kinds there are.
    pub fn parse(kind: &str) -> Result<ClientEvent, String> {
        ClientEvent::ALL.into_iter().find(|k| k.as_str() == kind).ok_or_else(|| {
            let known: Vec<&str> = ClientEvent::ALL.iter().map(|k| k.as_str()).collect();
            let shown: String = kind.chars().take(32).collect();
            format!("event: unknown kind {shown:?} (expected one of: {})", known.join(", "))
        })
    }
}

/// The client's own timestamp, kept as text (bounded), never trusted.
pub fn client_ts_text(v: &Option<serde_json::Value>) -> Option<String> {
    let text = match v.as_ref()? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => return None,
        other => other.to_string(),
    };
    Some(text.chars().take(64).collect())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionInfo {
    pub code: String,
    pub name: String,
    pub count: u32,
    /// Index of the section's first question in the paper.
    pub start: u32,
}

/// A question as the candidate sees it: shown labels, never the key or points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionView {
    pub index: u32,
    pub section: String,
    pub stem: String,
    pub image: Option<String>,
    pub options: Vec<OptionView>,
    pub choice: Option<String>,
    pub flagged: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionView {
    pub label: String,
    pub text: String,
    pub image: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionResult {
    pub code: String,
    pub points: i64,
    pub threshold: i64,
    pub passed: bool,
}

/// A finished session's published result; also stored as the session's `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultView {
    pub reason: String,
    pub scores: BTreeMap<String, i64>,
    /// The same scores in exam order, with thresholds.
    pub sections: Vec<SectionResult>,
    pub total: i64,
    pub passed: bool,
    /// How many questions were answered.
    #[serde(default)]
    pub answered: u32,
    /// A short code a person can read out (e.g. `K7QD-2MXA-P9TR`).
    pub receipt: String,
    /// The signed receipt (`UJ1.…`), for a QR code and `ujian receipt verify`.
    #[serde(default)]
    pub receipt_full: String,
}

/// Server → client.
// Messages are built and serialised at once, never stored in bulk, so the size of the
// largest variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    Welcome {
        session: String,
        exam: String,
        title: String,
        participant_no: String,
        name: String,
        sections: Vec<SectionInfo>,
        total: u32,
        status: String,
        remaining_ms: u64,
        last_seq: i64,
        answers: BTreeMap<String, String>,
        flags: Vec<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<ResultView>,
        /// On the connect that starts the session, its first question, as a `question`
        /// message would carry it: the room's start is one round trip shorter.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        question: Option<QuestionView>,
    },
    Question(QuestionView),
    Ack {
        seq: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        index: Option<i64>,
        server_ts: String,
        remaining_ms: u64,
    },
    Error {
        code: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<i64>,
    },
    Pong,
    Paused,
    Resumed {
        remaining_ms: u64,
    },
    Extended {
        remaining_ms: u64,
    },
    Finished(ResultView),
    TakenOver,
}

/// The `seq` of a client message, read without acting on it: a refusal made before the
/// message is handled (rate limiting) still names the message it refuses. `None` for a
/// message without one (`get`, `ping`) or text that is not a message.
pub fn seq_of(text: &str) -> Option<i64> {
    #[derive(Deserialize)]
    struct Seq {
        seq: Option<i64>,
    }
    serde_json::from_str::<Seq>(text).ok()?.seq
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_say_what_is_wrong() {
        let check = |text: &str, expected: &str| {
            let err = parse_client(text).expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        };
        check("{", "not JSON");
        check("[1]", "JSON object");
        check("{\"index\": 1}", "needs a string \"type\"");
        check("{\"type\": \"hack\"}", "unknown type \"hack\"");
        check("{\"type\": \"answer\", \"seq\": 1, \"index\": 0}", "missing field `choice`");
        check("{\"type\": \"get\", \"index\": \"x\"}", "get:");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Whatever a client sends, decoding answers with a message or an error, never a panic.
        #[test]
        fn decoding_never_panics(text in "\\PC{0,200}") {
            let _ = parse_client(&text);
        }

        /// The one-pass reading accepts nothing the checked one refuses, and reads what it
        /// accepts the same way: every type, each field missing, null, mistyped or repeated.
        #[test]
        fn the_one_pass_reading_agrees_with_the_checked_one(
            ty in field("\"get\"|\"answer\"|\"flag\"|\"finish\"|\"event\"|\"ping\"|\"hack\""),
            seq in field("-?[0-9]{1,4}"),
            index in field("-?[0-9]{1,3}"),
            choice in field("null|\"[A-E]\"|\"a\\\\u0041\""),
            flagged in field("true|false"),
            kind in field("\"focus_lost\"|\"\\\\u0041\""),
            client_ts in field("null|[0-9]{13}|\"2026-12-01T08:00:00Z\""),
            repeat in proptest::option::weighted(0.1, "-?[0-9]{1,3}|null"),
            other in proptest::option::weighted(0.2, "\"(x|\\\\ud800|\\\\u00e9)\""),
            as_array in proptest::bool::weighted(0.1),
        ) {
            let named = [("type", ty), ("seq", seq), ("index", index), ("choice", choice), ("flagged", flagged),
                ("kind", kind), ("client_ts", client_ts), ("seq", repeat), ("other", other)];
            let text = if as_array {
                // The first seven values in the order of `Fields`: a derived struct reads
                // such an array as if it were the object.
                let values: Vec<&str> = named[..7].iter().map(|(_, v)| v.as_deref().unwrap_or("null")).collect();
                format!("[{}]", values.join(","))
            } else {
                let body: Vec<String> =
                    named.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("\"{k}\":{v}"))).collect();
                format!("{{{}}}", body.join(","))
            };
            if let Some(fast) = parse_fields(&text) {
                proptest::prop_assert_eq!(Ok(fast), parse_client_checked(&text), "{}", text);
            }
        }

        #[test]
        fn decoding_json_shaped_noise_never_panics(
            ty in "(get|answer|flag|finish|event|ping|x)",
            seq in proptest::prelude::any::<i64>(),
            index in proptest::prelude::any::<i64>(),
            choice in "\\PC{0,3}",
        ) {
            let text = format!("{{\"type\":\"{ty}\",\"seq\":{seq},\"index\":{index},\"choice\":{choice:?},\"flagged\":1}}");
            let _ = parse_client(&text);
        }
    }

    /// A field's JSON value: mostly one of `valid`, sometimes of another type, sometimes
    /// absent (`None`). Most generated messages are then well-formed, so the agreement is
    /// tested on what the one-pass reading accepts, not only on what it passes on.
    fn field(valid: &'static str) -> impl proptest::strategy::Strategy<Value = Option<String>> {
        use proptest::prelude::*;
        let noise = "null|true|-?[0-9]{1,3}|[0-9]{19,20}|1\\.5|\"x\"|\\[\\]|\\{\\}";
        proptest::option::weighted(
            0.8,
            prop_oneof![4 => proptest::string::string_regex(valid).expect("regex"),
            1 => proptest::string::string_regex(noise).expect("regex")],
        )
    }

    #[test]
    fn the_protocols_messages_take_the_one_pass_reading() {
        for text in [
            r#"{"type":"get","index":3}"#,
            r#"{"type":"answer","seq":2,"index":1,"choice":"B","client_ts":1764576000000}"#,
            r#"{"type":"answer","seq":3,"index":1,"choice":null}"#,
            r#"{"type":"flag","seq":4,"index":1,"flagged":true,"client_ts":"2026-12-01T08:00:00Z"}"#,
            r#"{"type":"finish","seq":5}"#,
            r#"{"type":"event","seq":6,"kind":"focus_lost","client_ts":null}"#,
            r#"{"type":"ping"}"#,
        ] {
            let fast = parse_fields(text).unwrap_or_else(|| panic!("slow path for {text}"));
            assert_eq!(Ok(fast), parse_client_checked(text), "{text}");
        }
        // A missing choice is an error, not a clear.
        assert_eq!(parse_fields(r#"{"type":"answer","seq":2,"index":1}"#), None);
        // What the checked reading refuses, the one pass passes on to it.
        assert_eq!(parse_fields(r#"["get",null,3,null,null,null,null]"#), None);
        assert!(parse_client(r#"["get",null,3,null,null,null,null]"#).is_err());
        assert_eq!(parse_fields(r#"{"type":"ping","x":"\ud800"}"#), None);
        assert!(parse_client(r#"{"type":"ping","x":"\ud800"}"#).is_err());
    }

    #[test]
    fn messages_parse() {
        assert_eq!(parse_client("{\"type\":\"get\",\"index\":3}"), Ok(ClientMsg::Get { index: 3 }));
        assert_eq!(parse_client("{\"type\":\"ping\"}"), Ok(ClientMsg::Ping));
        let a =
            parse_client("{\"type\":\"answer\",\"seq\":2,\"index\":1,\"choice\":null,\"client_ts\":17}").expect("ok");
        assert!(matches!(a, ClientMsg::Answer { seq: 2, index: 1, choice: serde_json::Value::Null, .. }));
    }

    #[test]
    fn finished_serialises_flat_with_its_type() {
        let r = ResultView {
            reason: "submitted".into(),
            scores: BTreeMap::from([("TWK".into(), 5)]),
            sections: vec![],
            total: 5,
            passed: false,
            answered: 1,
            receipt: "abc".into(),
            receipt_full: "UJ1.x.y.z".into(),
        };
        let v = serde_json::to_value(ServerMsg::Finished(r)).expect("json");
        assert_eq!(v["type"], "finished");
        assert_eq!(v["total"], 5);
        assert_eq!(v["scores"]["TWK"], 5);
    }
}
