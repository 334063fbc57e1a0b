//! Moodle XML: `<quiz>` of `<question type="...">`; `multichoice` and `truefalse` are read,
//! categories become topics, HTML question text is reduced to plain text, embedded
//! `@@PLUGINFILE@@` images become assets, general feedback the explanation.

use base64::Engine as _;
use quick_xml::XmlVersion;
use quick_xml::events::Event;

use crate::{Answer, Parsed, Question, Skipped, problem};

/// A parsed element with the line its start tag is on.
#[derive(Debug, Default)]
struct El {
    name: String,
    line: usize,
    attrs: Vec<(String, String)>,
    children: Vec<El>,
    text: String,
}

impl El {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// The text of `<name><text>...</text></name>`, Moodle's usual wrapping.
    fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).and_then(|c| c.child("text")).map(|t| t.text.as_str())
    }
}

/// Reads the whole document into a tree; an XML error is reported at its line.
fn tree(file: &str, text: &str, out: &mut Parsed) -> Option<El> {
    // Offsets to lines through an index: counting newlines from the start for every
    // element made a 10,000-question file quadratic.
    let lines = crate::xml::Lines::new(text);
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<El> = vec![El::default()];
    loop {
        let at = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let line = lines.at(reader.error_position() as usize);
                out.problems.push(problem(file, line, None, format!("not well-formed XML: {e}")));
                return None;
            }
        };
        let open = |e: &quick_xml::events::BytesStart<'_>| El {
            name: e.local_name().as_ref().to_owned(),
            line: lines.at(at + text[at..].find('<').unwrap_or(0)),
            attrs: e
                .attributes()
                .flatten()
                .map(|a| {
                    let value = a.normalized_value(XmlVersion::Implicit1_0).map(|v| v.into_owned()).unwrap_or_default();
                    (a.key.local_name().as_ref().to_owned(), value)
                })
                .collect(),
            ..El::default()
        };
        match event {
            Event::Start(e) => stack.push(open(&e)),
            Event::Empty(e) => {
                let el = open(&e);
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(el);
                }
            }
            Event::End(_) => {
                if stack.len() > 1
                    && let Some(el) = stack.pop()
                    && let Some(parent) = stack.last_mut()
                {
                    parent.children.push(el);
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let name = r.to_string();
                match crate::xml::entity(&name) {
                    Some(c) => {
                        if let Some(el) = stack.last_mut() {
                            el.text.push(c);
                        }
                    }
                    None => {
                        let line = lines.at(at);
                        out.problems.push(problem(file, line, None, format!("unknown entity &{name};")));
                        return None;
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        out.problems.push(problem(file, lines.at(text.len()), None, "the XML ends inside an element"));
        return None;
    }
    stack.pop()
}

pub fn parse(file: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let Some(doc) = tree(file, text, &mut out) else { return out };
    let Some(quiz) = doc.child("quiz") else {
        out.problems.push(problem(file, 1, None, "not a Moodle XML export: no <quiz> element"));
        return out;
    };
    out.bank = quiz
        .all("question")
        .filter(|q| q.attr("type") == Some("category"))
        .find_map(|q| q.text_of("info").and_then(bank_meta));
    let mut category: Option<String> = None;
    for q in quiz.all("question") {
        let before = out.problems.len();
        match q.attr("type").unwrap_or("") {
            "category" => category = q.text_of("category").map(|c| c.trim().to_owned()),
            "multichoice" => read_choice(file, q, &category, false, &mut out),
            "truefalse" => read_choice(file, q, &category, true, &mut out),
            other => {
                let reason = if other.is_empty() { "question without a type".to_owned() } else { other.to_owned() };
                out.skipped.push(Skipped { part: None, line: q.line, reason });
            }
        }
        if out.problems.len() > before {
            out.skipped.push(Skipped { part: None, line: q.line, reason: crate::build::INVALID.to_owned() });
        }
    }
    out
}

/// ujian's own exports name their bank in the category's description: lines
/// `ujian-bank: NAME`, `ujian-version: V`, `ujian-title: T`.
fn bank_meta(info: &str) -> Option<crate::BankMeta> {
    let field = |key: &str| info.lines().find_map(|l| l.trim().strip_prefix(key)).map(|v| v.trim().to_owned());
    Some(crate::BankMeta {
        name: field("ujian-bank:")?,
        version: field("ujian-version:").unwrap_or_else(|| "1".to_owned()),
        title: field("ujian-title:").unwrap_or_default(),
    })
}

/// The question's tags (`<tags><tag><text>`); ujian's exports keep the item's section,
/// difficulty and kind in tags starting with `ujian-`.
fn tags(q: &El) -> Vec<String> {
    q.child("tags")
        .map(|t| t.all("tag").filter_map(|t| t.child("text")).map(|t| t.text.trim().to_owned()).collect())
        .unwrap_or_default()
}

fn read_choice(file: &str, q: &El, category: &Option<String>, truefalse: bool, out: &mut Parsed) {
    let tags = tags(q);
    let tag = |key: &str| tags.iter().find_map(|t| t.strip_prefix(key)).map(str::to_owned);
    let title = q.text_of("name").map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if !truefalse && q.child("single").is_some_and(|s| matches!(s.text.trim(), "false" | "0")) {
        out.skipped.push(Skipped { part: None, line: q.line, reason: "multichoice with several answers".to_owned() });
        return;
    }
    let (stem, image) = rich(file, q, "questiontext", title.as_deref(), out);
    let explanation = q.child("generalfeedback").map(|g| rich(file, g, "", title.as_deref(), out).0);
    let mut answers = Vec::new();
    let before = out.problems.len();
    let fractions: Vec<(usize, f64)> = q
        .all("answer")
        .map(|a| {
            let raw = a.attr("fraction").unwrap_or("0");
            let f = raw.trim().parse::<f64>().ok().filter(|f| f.is_finite());
            if f.is_none() {
                out.problems.push(problem(file, a.line, title.as_deref(), format!("fraction {raw:?} is not a number")));
            }
            (a.line, f.unwrap_or(0.0))
        })
        .collect();
    if out.problems.len() > before {
        // A fraction that is not a number leaves the key unknown: say only that.
        return;
    }
    // Graded fractions (strictly between 0 and 100) make a weighted item; otherwise the
    // 100% answer is the key and penalties (negative fractions) are left to the exam's rule.
    let graded = fractions.iter().any(|(_, f)| *f > 0.0 && *f < 100.0) || tags.iter().any(|t| t == "ujian-weighted");
    for (a, (line, fraction)) in q.all("answer").zip(fractions) {
        let (mut text, image) = rich(file, a, "", title.as_deref(), out);
        if truefalse {
            text = match text.trim().to_ascii_lowercase().as_str() {
                "true" | "benar" => "Benar".to_owned(),
                "false" | "salah" => "Salah".to_owned(),
                _ => text,
            };
        }
        answers.push(Answer {
            line,
            text,
            image,
            percent: fraction,
            keyed: !graded && fraction >= 100.0,
            weighted: graded,
        });
    }
    out.questions.push(Question {
        line: q.line,
        title,
        category: category.clone(),
        stem,
        image,
        answers,
        explanation,
        // Moodle's "shuffle the choices" off means the order is part of the question.
        pin_options: truefalse || q.child("shuffleanswers").is_some_and(|s| matches!(s.text.trim(), "0" | "false")),
        section: tag("ujian-section:"),
        difficulty: tag("ujian-difficulty:").and_then(|d| d.parse().ok()),
        part: None,
    });
}

/// The text of `el`'s `<name><text>` (or of `el`'s own `<text>` when `name` is empty),
/// reduced to plain text, with its one image (an `@@PLUGINFILE@@` reference) as an asset.
fn rich(file: &str, el: &El, name: &str, title: Option<&str>, out: &mut Parsed) -> (String, Option<String>) {
    let holder = if name.is_empty() { Some(el) } else { el.child(name) };
    let Some(holder) = holder else { return (String::new(), None) };
    let raw = holder.child("text").map(|t| t.text.as_str()).unwrap_or("");
    let html = !matches!(holder.attr("format"), Some("plain_text" | "markdown" | "moodle_auto_format"));
    // ujian's own exports are read exactly (see `Parsed::bank`).
    let verbatim = out.bank.is_some();
    let (text, images) = match (html, verbatim) {
        (true, false) => html_to_text(raw),
        (true, true) => html_exact(raw),
        (false, false) => (raw.trim().to_owned(), Vec::new()),
        (false, true) => (raw.to_owned(), Vec::new()),
    };
    let mut image = None;
    for (k, src) in images.iter().enumerate() {
        if k > 0 {
            out.problems.push(problem(
                file,
                holder.line,
                title,
                format!("{} images in one text; a ujian stem or option shows one", images.len()),
            ));
            break;
        }
        let Some(wanted) = src.strip_prefix("@@PLUGINFILE@@/") else {
            out.problems.push(problem(
                file,
                holder.line,
                title,
                format!("image {src:?} is not in the file (only @@PLUGINFILE@@ images are imported)"),
            ));
            continue;
        };
        let wanted = percent_decode(wanted);
        let Some(f) = holder.all("file").find(|f| f.attr("name") == Some(wanted.as_str())) else {
            out.problems.push(problem(file, holder.line, title, format!("image {wanted:?} is missing from the file")));
            continue;
        };
        let data: String = f.text.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = match base64::engine::general_purpose::STANDARD.decode(data) {
            Ok(b) => b,
            Err(e) => {
                out.problems.push(problem(file, f.line, title, format!("image {wanted:?} is not valid base64: {e}")));
                continue;
            }
        };
        let plain: String = wanted
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '-' })
            .collect();
        let lower = plain.to_ascii_lowercase();
        if ![".svg", ".png", ".jpg", ".jpeg", ".webp"].iter().any(|e| lower.ends_with(e)) {
            out.problems.push(problem(
                file,
                f.line,
                title,
                format!("image {wanted:?} is not an svg, png, jpg or webp file"),
            ));
            continue;
        }
        // Moodle names files per question, so two questions may both hold a different
        // `image.png`: a later one takes the line of its file element into its name.
        let plain = plain.trim_start_matches('.').to_owned();
        let asset = match out.assets.get(&plain) {
            Some(taken) if *taken != bytes => format!("l{}-{plain}", f.line),
            _ => plain,
        };
        out.assets.insert(asset.clone(), bytes);
        image = Some(asset);
    }
    (text, image)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// HTML to the plain text a ujian stem holds (the candidate page shows text, never markup):
/// paragraphs and line breaks kept as line breaks, list items as `- `, table cells joined
/// with ` | `, superscript as `^` and subscript as `_`; emphasis is dropped, scripts and
/// styles removed with their content, and the `src` of every image returned.
///
/// Hand-written rather than an HTML sanitizer crate: the output is plain text, so nothing
/// needs to be kept safe as markup, and html5ever would be the largest dependency of ujian.
pub(crate) fn html_to_text(html: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut images = Vec::new();
    let mut rest = html;
    let mut first_cell = true;
    while !rest.is_empty() {
        if let Some(tag_body) = rest.strip_prefix('<') {
            let end = tag_body.find('>').unwrap_or(tag_body.len());
            let tag = &tag_body[..end];
            rest = tag_body.get(end + 1..).unwrap_or("");
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            match (name.as_str(), closing) {
                ("script" | "style", false) => {
                    let close = format!("</{name}");
                    let lower = rest.to_ascii_lowercase();
                    let skip = lower.find(&close).unwrap_or(rest.len());
                    rest = &rest[skip..];
                }
                ("br", _) => out.push('\n'),
                ("p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "table", _) => {
                    out.push_str("\n\n")
                }
                ("li", false) => out.push_str("\n- "),
                ("tr", false) => {
                    out.push('\n');
                    first_cell = true;
                }
                ("td" | "th", false) => {
                    if !first_cell {
                        out.push_str(" | ");
                    }
                    first_cell = false;
                }
                ("sup", false) => out.push('^'),
                ("sub", false) => out.push('_'),
                ("img", false) => {
                    if let Some(src) = attribute(tag, "src") {
                        images.push(src);
                    }
                }
                _ => {}
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let chunk = &rest[..end];
            rest = &rest[end..];
            let mut chars = chunk.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                let c = if c == '&'
                    && let Some(semi) = chunk[i..].find(';').filter(|s| *s <= 10)
                    && let Some(decoded) = crate::xml::entity(&chunk[i + 1..i + semi])
                {
                    while chars.peek().is_some_and(|(j, _)| *j <= i + semi) {
                        chars.next();
                    }
                    decoded
                } else {
                    c
                };
                if c.is_whitespace() && c != '\u{a0}' {
                    if !out.ends_with([' ', '\n']) && !out.is_empty() {
                        out.push(' ');
                    }
                } else {
                    out.push(if c == '\u{a0}' { ' ' } else { c });
                }
            }
        }
    }
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    let mut text = String::new();
    let mut blank = 0;
    for line in lines {
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        text.push_str(line);
    }
    (text, images)
}

/// HTML to text exactly as written: only `<br>` becomes a line break, other tags are
/// dropped, entities decoded, and no space is collapsed or trimmed. For ujian's own
/// exports, whose HTML is their text escaped with line breaks as `<br>`.
pub(crate) fn html_exact(html: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut images = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(tag_body) = rest.strip_prefix('<') {
            let end = tag_body.find('>').unwrap_or(tag_body.len());
            let tag = &tag_body[..end];
            rest = tag_body.get(end + 1..).unwrap_or("");
            let name: String =
                tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
            match name.as_str() {
                "br" => out.push('\n'),
                "img" => images.extend(attribute(tag, "src")),
                _ => {}
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let chunk = &rest[..end];
            rest = &rest[end..];
            let mut i = 0;
            while i < chunk.len() {
                let c = chunk[i..].chars().next().unwrap_or(' ');
                if c == '&'
                    && let Some(semi) = chunk[i..].find(';').filter(|s| *s <= 10)
                    && let Some(decoded) = crate::xml::entity(&chunk[i + 1..i + semi])
                {
                    out.push(decoded);
                    i += semi + 1;
                } else {
                    out.push(c);
                    i += c.len_utf8();
                }
            }
        }
    }
    (out, images)
}

/// The value of `name="..."` (or single-quoted) in a tag's text.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let at = lower.find(&format!("{name}="))?;
    let rest = &tag[at + name.len() + 1..];
    let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let value = &rest[1..];
    let end = value.find(quote)?;
    Some(value[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::html_to_text;

    #[track_caller]
    fn check(html: &str, text: &str) {
        assert_eq!(html_to_text(html).0, text);
    }

    #[test]
    fn html_becomes_plain_text_with_its_structure() {
        check("<p>Satu <b>dua</b></p><p>tiga</p>", "Satu dua\n\ntiga");
        check("a<br>b", "a\nb");
        check("<ul><li>x</li><li>y</li></ul>", "- x\n- y");
        check("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>", "a | b\nc | d");
        check("x<sup>2</sup> + H<sub>2</sub>O", "x^2 + H_2O");
        check("<p onclick=\"steal()\">ok<script>alert(1)</script></p>", "ok");
        check("&lt;b&gt; &amp; &#65;&#x42;&nbsp;!", "<b> & AB !");
    }

    #[test]
    fn image_sources_are_returned() {
        let (_, images) = html_to_text("<p>lihat <img src=\"@@PLUGINFILE@@/gambar%201.png\" alt=\"g\"></p>");
        assert_eq!(images, ["@@PLUGINFILE@@/gambar%201.png"]);
    }
}
