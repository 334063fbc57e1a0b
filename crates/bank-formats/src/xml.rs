//! A small XML tree that keeps mixed content in order (QTI item bodies interleave text and
//! markup), with the line of every element for messages.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

/// An element or a run of text.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    El(El),
    Text(String),
}

/// An element with its local name (namespace prefixes dropped) and start line.
#[derive(Debug, Clone, Default)]
pub(crate) struct El {
    pub(crate) name: String,
    pub(crate) line: usize,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
}

impl El {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    pub(crate) fn elements(&self) -> impl Iterator<Item = &El> {
        self.children.iter().filter_map(|n| match n {
            Node::El(e) => Some(e),
            Node::Text(_) => None,
        })
    }
    /// Child elements named `name` (QTI 2.1 camelCase or QTI 3 kebab-case: both given).
    pub(crate) fn all<'a>(&'a self, names: &'a [&'a str]) -> impl Iterator<Item = &'a El> {
        self.elements().filter(move |e| names.contains(&e.name.as_str()))
    }
    pub(crate) fn child(&self, names: &[&str]) -> Option<&El> {
        self.elements().find(|e| names.contains(&e.name.as_str()))
    }
    /// Every descendant element, depth first.
    pub(crate) fn descendants(&self) -> Vec<&El> {
        let mut out = Vec::new();
        let mut stack: Vec<&El> = self.elements().collect();
        stack.reverse();
        while let Some(e) = stack.pop() {
            out.push(e);
            let mut kids: Vec<&El> = e.elements().collect();
            kids.reverse();
            stack.extend(kids);
        }
        out
    }
    /// All text inside, markup dropped.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::El(e) => out.push_str(&e.text()),
            }
        }
        out
    }
}

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Line numbers for byte offsets, computed once per document.
pub(crate) struct Lines(Vec<usize>);

impl Lines {
    pub(crate) fn new(text: &str) -> Lines {
        Lines(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect())
    }
    pub(crate) fn at(&self, offset: usize) -> usize {
        self.0.partition_point(|&nl| nl < offset) + 1
    }
}

/// Parses a document; on malformed XML, the line and what is wrong.
pub(crate) fn parse(text: &str) -> Result<El, (usize, String)> {
    let lines = Lines::new(text);
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<El> = vec![El::default()];
    let open = |e: &BytesStart<'_>, at: usize| El {
        name: e.local_name().as_ref().to_owned(),
        line: lines.at(at),
        attrs: e
            .attributes()
            .flatten()
            .map(|a| {
                let value = a.normalized_value(XmlVersion::Implicit1_0).map(|v| v.into_owned()).unwrap_or_default();
                // `xml:space` keeps its prefix: it is the one attribute read by its full name.
                let key = if a.key.as_ref() == "xml:space" {
                    "xml:space".to_owned()
                } else {
                    a.key.local_name().as_ref().to_owned()
                };
                (key, value)
            })
            .collect(),
        children: Vec::new(),
    };
    let push_text = |stack: &mut Vec<El>, s: &str| {
        if let Some(el) = stack.last_mut() {
            match el.children.last_mut() {
                Some(Node::Text(t)) => t.push_str(s),
                _ => el.children.push(Node::Text(s.to_owned())),
            }
        }
    };
    loop {
        let at = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| (lines.at(reader.error_position() as usize), e.to_string()))?;
        let start = at + text.get(at..).and_then(|t| t.find('<')).unwrap_or(0);
        match event {
            Event::Start(e) => stack.push(open(&e, start)),
            Event::Empty(e) => {
                let el = open(&e, start);
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(Node::El(el));
                }
            }
            Event::End(_) => {
                if stack.len() > 1
                    && let Some(el) = stack.pop()
                    && let Some(parent) = stack.last_mut()
                {
                    parent.children.push(Node::El(el));
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content()),
            Event::CData(t) => push_text(&mut stack, &t),
            Event::GeneralRef(r) => {
                let name = r.to_string();
                match entity(&name) {
                    Some(c) => push_text(&mut stack, c.encode_utf8(&mut [0; 4])),
                    None => return Err((lines.at(at), format!("unknown entity &{name};"))),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err((lines.at(text.len()), "the XML ends inside an element".to_owned()));
    }
    stack.pop().ok_or((1, "empty document".to_owned()))
}

/// The character an XML entity or character reference names (`amp`, `#233`, `#xE9`),
/// with `nbsp`, which Moodle's HTML-in-XML uses.
pub(crate) fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}
