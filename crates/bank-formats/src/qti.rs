//! IMS QTI 3.0 and 2.1: a content package (a zip with `imsmanifest.xml`, its items and
//! images, usually an assessment test) or a single item file.
//!
//! Both versions are read by one reader: QTI 3 names elements in kebab case with a `qti-`
//! prefix (`qti-choice-interaction`, `max-choices`), QTI 2.1 in camel case
//! (`choiceInteraction`, `maxChoices`); every lookup names both. An item is read when its
//! body holds exactly one `choiceInteraction` with one choice allowed: a `mapping` of
//! points makes it weighted, otherwise the `correctResponse` is its key. The sections of
//! the assessment test become topics.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;

use crate::xml::{El, Node};
use crate::{Answer, BankMeta, Parsed, Question, Skipped, problem};

const ITEM: &[&str] = &["assessmentItem", "qti-assessment-item"];
const BODY: &[&str] = &["itemBody", "qti-item-body"];
const RESPONSE: &[&str] = &["responseDeclaration", "qti-response-declaration"];
const CORRECT: &[&str] = &["correctResponse", "qti-correct-response"];
const VALUE: &[&str] = &["value", "qti-value"];
const MAPPING: &[&str] = &["mapping", "qti-mapping"];
const MAP_ENTRY: &[&str] = &["mapEntry", "qti-map-entry"];
const PROCESSING: &[&str] = &["responseProcessing", "qti-response-processing"];
const CHOICE_INTERACTION: &[&str] = &["choiceInteraction", "qti-choice-interaction"];
const CHOICE: &[&str] = &["simpleChoice", "qti-simple-choice"];
const PROMPT: &[&str] = &["prompt", "qti-prompt"];
const FEEDBACK: &[&str] = &["modalFeedback", "qti-modal-feedback"];
const TEST: &[&str] = &["assessmentTest", "qti-assessment-test"];
const TEST_PART: &[&str] = &["testPart", "qti-test-part"];
const SECTION: &[&str] = &["assessmentSection", "qti-assessment-section"];
const ITEM_REF: &[&str] = &["assessmentItemRef", "qti-assessment-item-ref"];

/// The attribute `name` in either spelling (`maxChoices`, `max-choices`).
fn attr<'a>(el: &'a El, camel: &str) -> Option<&'a str> {
    el.attr(camel).or_else(|| el.attr(&kebab(camel)))
}

/// `textEntryInteraction` → `text-entry-interaction`; QTI 3 names lose their `qti-`.
fn kebab(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("qti-") {
        return rest.to_owned();
    }
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_interaction(el: &El) -> bool {
    el.name.ends_with("Interaction") || (el.name.starts_with("qti-") && el.name.ends_with("-interaction"))
}

/// Where an item sits in the assessment test.
#[derive(Debug, Clone, Default)]
struct Placement {
    topic: Option<String>,
    section: Option<String>,
    difficulty: Option<u8>,
}

/// Reads one item file on its own. Its images cannot be found without the package, so an
/// item that shows one is reported.
pub fn parse_item_file(file: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let root = match crate::xml::parse(text) {
        Ok(root) => root,
        Err((line, e)) => {
            out.problems.push(problem(file, line, None, format!("not well-formed XML: {e}")));
            return out;
        }
    };
    let Some(item) = root.child(ITEM) else {
        out.problems.push(problem(file, 1, None, "not a QTI item: no assessmentItem or qti-assessment-item element"));
        return out;
    };
    let before = out.problems.len();
    read_item(file, None, item, &Placement::default(), &Files::default(), &mut out);
    if out.problems.len() > before {
        out.skipped.push(Skipped { part: None, line: item.line, reason: crate::build::INVALID.to_owned() });
    }
    out
}

/// The package's files by their path inside the zip.
#[derive(Default)]
struct Files {
    by_path: BTreeMap<String, Vec<u8>>,
    /// Image paths already given an asset name, and the names taken.
    assets: BTreeMap<String, String>,
    taken: BTreeSet<String>,
}

/// A package may hold at most this much once unpacked: a bank of thousands of items with
/// images is far below, a zip bomb far above.
const MAX_UNPACKED: u64 = 1 << 30;

/// Reads a QTI content package.
pub fn parse_package(file: &str, bytes: &[u8]) -> Parsed {
    let mut out = Parsed::default();
    let mut files = Files::default();
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            out.problems.push(problem(file, 1, None, format!("not a readable zip package: {e}")));
            return out;
        }
    };
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                out.problems.push(problem(file, 1, None, format!("zip entry {i} cannot be read: {e}")));
                return out;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let name = match entry.name() {
            Ok(n) => n.replace('\\', "/"),
            Err(e) => {
                out.problems.push(problem(file, 1, None, format!("zip entry {i} has an unreadable name: {e}")));
                return out;
            }
        };
        let mut data = Vec::new();
        let room = MAX_UNPACKED.saturating_sub(total) + 1;
        if let Err(e) = (&mut entry).take(room).read_to_end(&mut data) {
            out.problems.push(problem(file, 1, None, format!("{name} cannot be unpacked: {e}")));
            return out;
        }
        total += data.len() as u64;
        if total > MAX_UNPACKED {
            out.problems.push(problem(file, 1, None, "the package unpacks to more than 1 GiB"));
            return out;
        }
        files.by_path.insert(name, data);
    }
    let manifest_path = match files
        .by_path
        .keys()
        .filter(|p| p.rsplit('/').next() == Some("imsmanifest.xml"))
        .min_by_key(|p| p.len())
    {
        Some(p) => p.clone(),
        None => {
            out.problems.push(problem(
                file,
                1,
                None,
                "no imsmanifest.xml in the package (is it a QTI content package?)",
            ));
            return out;
        }
    };
    let base = dir_of(&manifest_path);
    let shown = |path: &str| format!("{file}/{path}");
    let Some(manifest_doc) = xml_file(&shown(&manifest_path), files.by_path.get(&manifest_path), &mut out) else {
        return out;
    };
    let Some(manifest) = manifest_doc.child(&["manifest"]) else {
        out.problems.push(problem(&shown(&manifest_path), 1, None, "imsmanifest.xml has no manifest element"));
        return out;
    };
    let manifest_file = shown(&manifest_path);
    out.bank = bank_meta(manifest);

    // Items in the order of the assessment tests, then any other item in manifest order.
    let mut order: Vec<(String, usize, Placement)> = Vec::new();
    let resources: Vec<&El> = manifest.descendants().into_iter().filter(|e| e.name == "resource").collect();
    let ujian = out.bank.is_some();
    for res in &resources {
        let kind = res.attr("type").unwrap_or("");
        if !kind.contains("imsqti_test") {
            continue;
        }
        let Some(href) = res.attr("href") else { continue };
        let path = join(&base, href);
        let Some(test_root) = xml_file(&shown(&path), files.by_path.get(&path), &mut out) else {
            if !files.by_path.contains_key(&path) {
                out.problems.push(problem(
                    &manifest_file,
                    res.line,
                    None,
                    format!("test file {href:?} is missing from the package"),
                ));
            }
            continue;
        };
        let Some(test) = test_root.child(TEST) else { continue };
        let ujian = ujian || test.attr("tool-name").or(test.attr("toolName")) == Some("ujian");
        for part in test.all(TEST_PART) {
            walk_sections(&dir_of(&path), part, &mut Vec::new(), ujian, &mut order);
        }
    }
    let mut seen: BTreeSet<String> = order.iter().map(|(p, _, _)| p.clone()).collect();
    for res in &resources {
        if !res.attr("type").unwrap_or("").contains("imsqti_item") {
            continue;
        }
        let Some(href) = res.attr("href") else {
            out.problems.push(problem(&manifest_file, res.line, None, "an item resource without href"));
            continue;
        };
        let path = join(&base, href);
        if seen.insert(path.clone()) {
            order.push((path, res.line, Placement::default()));
        }
    }
    if order.is_empty() {
        out.problems.push(problem(&manifest_file, manifest.line, None, "the manifest lists no QTI item"));
    }
    for (path, ref_line, placement) in order {
        let item_file = shown(&path);
        let Some(bytes) = files.by_path.get(&path) else {
            out.problems.push(problem(
                &manifest_file,
                ref_line,
                None,
                format!("item file {path:?} is missing from the package"),
            ));
            continue;
        };
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t).to_owned(),
            Err(_) => {
                out.problems.push(problem(&item_file, 1, None, "not UTF-8 text"));
                continue;
            }
        };
        let root = match crate::xml::parse(&text) {
            Ok(r) => r,
            Err((line, e)) => {
                out.problems.push(problem(&item_file, line, None, format!("not well-formed XML: {e}")));
                out.skipped.push(Skipped {
                    part: Some(item_file.clone()),
                    line,
                    reason: crate::build::INVALID.to_owned(),
                });
                continue;
            }
        };
        let Some(item) = root.child(ITEM) else {
            out.problems.push(problem(&item_file, 1, None, "not a QTI item: no assessmentItem element"));
            continue;
        };
        let before = out.problems.len();
        read_item(&item_file, Some(&dir_of(&path)), item, &placement, &files, &mut out);
        // Image names are decided after reading, so that a rejected item takes none.
        if out.problems.len() > before {
            out.skipped.push(Skipped {
                part: Some(item_file.clone()),
                line: item.line,
                reason: crate::build::INVALID.to_owned(),
            });
        }
    }
    name_assets(&mut files, &mut out);
    out
}

/// Parses one XML file of the package, reporting where it breaks.
fn xml_file(shown: &str, bytes: Option<&Vec<u8>>, out: &mut Parsed) -> Option<El> {
    let bytes = bytes?;
    let Ok(text) = std::str::from_utf8(bytes) else {
        out.problems.push(problem(shown, 1, None, "not UTF-8 text"));
        return None;
    };
    match crate::xml::parse(text.strip_prefix('\u{feff}').unwrap_or(text)) {
        Ok(root) => Some(root),
        Err((line, e)) => {
            out.problems.push(problem(shown, line, None, format!("not well-formed XML: {e}")));
            None
        }
    }
}

/// The bank's name, version and title from the manifest's LOM metadata, present only in
/// ujian's own exports (the identifier's catalog is `ujian`).
fn bank_meta(manifest: &El) -> Option<BankMeta> {
    let lom = manifest.child(&["metadata"])?.child(&["lom"])?;
    let general = lom.child(&["general"])?;
    let id =
        general.all(&["identifier"]).find(|i| i.child(&["catalog"]).is_some_and(|c| c.text().trim() == "ujian"))?;
    let name = id.child(&["entry"])?.text().trim().to_owned();
    let string = |el: Option<&El>| el.and_then(|e| e.child(&["string"])).map(|s| s.text()).unwrap_or_default();
    let title = string(general.child(&["title"]));
    let version = string(lom.child(&["lifeCycle"]).and_then(|l| l.child(&["version"])));
    Some(BankMeta { name, version: if version.is_empty() { "1".to_owned() } else { version }, title })
}

/// Collects the item references under `el`, with the titles of the sections around them.
/// In ujian's own tests the outer section is the ujian section and the inner one the
/// topic; elsewhere the innermost section is the topic.
fn walk_sections(
    dir: &str,
    el: &El,
    titles: &mut Vec<String>,
    ujian: bool,
    order: &mut Vec<(String, usize, Placement)>,
) {
    for child in el.elements() {
        if SECTION.contains(&child.name.as_str()) {
            let title = child.attr("title").filter(|t| !t.trim().is_empty()).or(child.attr("identifier")).unwrap_or("");
            titles.push(title.trim().to_owned());
            walk_sections(dir, child, titles, ujian, order);
            titles.pop();
        } else if ITEM_REF.contains(&child.name.as_str()) {
            let Some(href) = child.attr("href") else { continue };
            let difficulty = child
                .attr("category")
                .unwrap_or("")
                .split_whitespace()
                .find_map(|c| c.strip_prefix("difficulty-").and_then(|d| d.parse::<u8>().ok()))
                .filter(|d| (1..=5).contains(d));
            let placement = Placement {
                topic: titles.last().cloned(),
                section: if ujian && titles.len() >= 2 { titles.first().cloned() } else { None },
                difficulty,
            };
            order.push((join(dir, href), child.line, placement));
        }
    }
}

fn dir_of(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => path[..=i].to_owned(),
        None => String::new(),
    }
}

/// `href` relative to `dir`, with `.` and `..` resolved (a path leaving the package
/// resolves to nothing found).
fn join(dir: &str, href: &str) -> String {
    let href = href.split(['?', '#']).next().unwrap_or("");
    let full = if href.starts_with('/') { href.trim_start_matches('/').to_owned() } else { format!("{dir}{href}") };
    let mut parts: Vec<&str> = Vec::new();
    for p in full.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return format!("../{href}");
                }
            }
            p => parts.push(p),
        }
    }
    percent_decode(&parts.join("/"))
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

/// The text of `el`'s content and the images it shows. Content marked
/// `xml:space="preserve"` (ujian's exports) is taken exactly, line breaks from `<br/>`;
/// other content goes through the same HTML reduction as Moodle's.
fn content(el: &El) -> (String, Vec<(usize, String)>) {
    if el.attr("xml:space") == Some("preserve") {
        let mut text = String::new();
        let mut images = Vec::new();
        exact(el, &mut text, &mut images);
        return (text, images);
    }
    let mut html = String::new();
    let mut images = Vec::new();
    to_html(el, &mut html, &mut images);
    (crate::moodle::html_to_text(&html).0, images)
}

fn exact(el: &El, text: &mut String, images: &mut Vec<(usize, String)>) {
    for n in &el.children {
        match n {
            Node::Text(t) => text.push_str(t),
            Node::El(e) if e.name == "br" => text.push('\n'),
            Node::El(e) => {
                if let Some(src) = image_src(e) {
                    images.push((e.line, src.to_owned()));
                }
                exact(e, text, images);
            }
        }
    }
}

fn image_src(e: &El) -> Option<&str> {
    match e.name.as_str() {
        "img" => e.attr("src"),
        "object" if e.attr("type").is_none_or(|t| t.starts_with("image/")) => e.attr("data"),
        _ => None,
    }
}

/// `el`'s children as HTML for [`crate::moodle::html_to_text`]; a prompt becomes a
/// paragraph, interactions and feedback inside the body are left out.
fn to_html(el: &El, out: &mut String, images: &mut Vec<(usize, String)>) {
    for n in &el.children {
        match n {
            Node::Text(t) => out.push_str(&crate::xml::escape(t)),
            Node::El(e) => {
                if let Some(src) = image_src(e) {
                    images.push((e.line, src.to_owned()));
                    continue;
                }
                if is_interaction(e) || e.name.contains("eedback") || e.name.contains("rubric") {
                    continue;
                }
                let name = if PROMPT.contains(&e.name.as_str()) { "p" } else { e.name.as_str() };
                out.push('<');
                out.push_str(name);
                out.push('>');
                to_html(e, out, images);
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
        }
    }
}

/// Reads one item element into a question (or a skip, or problems).
fn read_item(file: &str, dir: Option<&str>, item: &El, placement: &Placement, files: &Files, out: &mut Parsed) {
    let identifier = item.attr("identifier").unwrap_or("").trim().to_owned();
    let title_attr = item.attr("title").map(str::trim).unwrap_or("");
    // ujian's exports keep the item id in the title (an id may start with a digit, which
    // a QTI identifier may not); elsewhere the identifier is the stable name.
    let title = if out.bank.is_some() && !title_attr.is_empty() { title_attr.to_owned() } else { identifier.clone() };
    let title = Some(title).filter(|t| !t.is_empty());
    let t = title.as_deref();
    let skip = |out: &mut Parsed, reason: String| {
        out.skipped.push(Skipped { part: dir.map(|_| file.to_owned()), line: item.line, reason });
    };
    let Some(body) = item.child(BODY) else {
        out.problems.push(problem(file, item.line, t, "the item has no itemBody"));
        return;
    };
    let interactions: Vec<&El> = body.descendants().into_iter().filter(|e| is_interaction(e)).collect();
    let choice = match interactions.as_slice() {
        [] => return skip(out, "no interaction".to_owned()),
        [one] if CHOICE_INTERACTION.contains(&one.name.as_str()) => *one,
        [one] => return skip(out, kebab(&one.name)),
        _ => return skip(out, "several interactions".to_owned()),
    };
    let max = attr(choice, "maxChoices").unwrap_or("1").trim();
    if max != "1" {
        return skip(out, format!("multiple response (max-choices {max})"));
    }

    // The stem: ujian's exports keep it in a preserved div; otherwise the whole body with
    // the interaction's prompt in its place.
    let preserved = body.elements().find(|e| e.name == "div" && e.attr("xml:space") == Some("preserve"));
    let (mut stem, mut images) = match preserved {
        Some(div) => content(div),
        None => content(body),
    };
    if preserved.is_some() {
        // Images outside the preserved text (ujian writes the stem's image after it).
        for e in body.elements().filter(|e| e.name != "div" && !is_interaction(e)) {
            let (_, more) = content(e);
            images.extend(more);
            if let Some(src) = image_src(e) {
                images.push((e.line, src.to_owned()));
            }
        }
    } else if let Some(prompt) = choice.child(PROMPT) {
        let (p, more) = content(prompt);
        if !p.is_empty() {
            if !stem.is_empty() {
                stem.push_str("\n\n");
            }
            stem.push_str(&p);
        }
        images.extend(more);
    }
    let image = one_image(file, t, dir, item.line, &images, files, out);

    let response_id = attr(choice, "responseIdentifier").unwrap_or("RESPONSE");
    let declaration = item.all(RESPONSE).find(|r| r.attr("identifier") == Some(response_id));
    if let Some(d) = declaration
        && attr(d, "cardinality").is_some_and(|c| c != "single")
    {
        return skip(out, format!("multiple response (cardinality {})", attr(d, "cardinality").unwrap_or("")));
    }
    let template = item.child(PROCESSING).and_then(|p| p.attr("template")).unwrap_or("");
    let mapping = declaration.and_then(|d| d.child(MAPPING)).filter(|_| !template.contains("match_correct"));
    let correct: Vec<(usize, String)> = declaration
        .and_then(|d| d.child(CORRECT))
        .map(|c| c.all(VALUE).map(|v| (v.line, v.text().trim().to_owned())).collect())
        .unwrap_or_default();

    let choices: Vec<&El> = choice.all(CHOICE).collect();
    let ids: Vec<&str> = choices.iter().map(|c| c.attr("identifier").unwrap_or("")).collect();
    let key_problems = out.problems.len();
    let mut points: BTreeMap<&str, f64> = BTreeMap::new();
    let mut default_points = 0.0;
    if let Some(m) = mapping {
        if let Some(d) = attr(m, "defaultValue") {
            match d.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => default_points = v,
                _ => out.problems.push(problem(file, m.line, t, format!("default value {d:?} is not a number"))),
            }
        }
        for entry in m.all(MAP_ENTRY) {
            let key = attr(entry, "mapKey").unwrap_or("");
            let raw = attr(entry, "mappedValue").unwrap_or("");
            match raw.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    if !ids.contains(&key) {
                        out.problems.push(problem(
                            file,
                            entry.line,
                            t,
                            format!("mapped choice {key:?} is not one of the choices"),
                        ));
                    }
                    points.insert(key, v);
                }
                _ => out.problems.push(problem(file, entry.line, t, format!("mapped value {raw:?} is not a number"))),
            }
        }
    } else {
        for (line, v) in &correct {
            if !ids.contains(&v.as_str()) {
                out.problems.push(problem(file, *line, t, format!("correct response {v:?} is not one of the choices")));
            }
        }
    }
    let mut answers = Vec::new();
    let mut pin = attr(choice, "shuffle").is_none_or(|s| s.trim() != "true");
    for (c, id) in choices.iter().zip(&ids) {
        // ujian pins all of an item's options or none: one fixed choice (often "all of
        // the above") keeps the whole order as written.
        if attr(c, "fixed").is_some_and(|f| f.trim() == "true") {
            pin = true;
        }
        let (text, imgs) = content(c);
        let image = one_image(file, t, dir, c.line, &imgs, files, out);
        let (percent, keyed, weighted) = match mapping {
            Some(_) => (points.get(id).copied().unwrap_or(default_points), false, true),
            None => {
                let keyed = correct.iter().any(|(_, v)| v == id);
                (if keyed { 100.0 } else { 0.0 }, keyed, false)
            }
        };
        answers.push(Answer { line: c.line, text, image, percent, keyed, weighted });
    }
    if out.problems.len() > key_problems {
        // A key that cannot be read leaves the key unknown: say only that, not also
        // "no key" or "no answer earns any points".
        return;
    }
    let feedback: Vec<String> = item
        .all(FEEDBACK)
        .map(|f| content(f).0.trim_matches('\n').to_owned())
        .filter(|f| !f.trim().is_empty())
        .collect();
    // A question with an image problem still goes to build, which reports its other
    // problems (no key, an option without text); the reader's skip entry keeps it out.
    out.questions.push(Question {
        line: item.line,
        title,
        category: placement.topic.clone(),
        stem,
        image,
        answers,
        explanation: (!feedback.is_empty()).then(|| feedback.join("\n\n")),
        pin_options: pin,
        section: placement.section.clone(),
        difficulty: placement.difficulty,
        part: dir.map(|_| file.to_owned()),
    });
}

/// The one image of a stem or choice, looked up in the package; more than one, or one
/// not in the package, is a problem.
fn one_image(
    file: &str,
    title: Option<&str>,
    dir: Option<&str>,
    line: usize,
    images: &[(usize, String)],
    files: &Files,
    out: &mut Parsed,
) -> Option<String> {
    if images.len() > 1 {
        out.problems.push(problem(
            file,
            images[1].0,
            title,
            format!("{} images in one text; a ujian stem or option shows one", images.len()),
        ));
        return None;
    }
    let (at, src) = images.first()?;
    let at = (*at).max(line);
    let Some(dir) = dir else {
        out.problems.push(problem(
            file,
            at,
            title,
            format!("image {src:?}: a single item file carries no images; import the whole package"),
        ));
        return None;
    };
    let path = join(dir, src);
    if !files.by_path.contains_key(&path) {
        out.problems.push(problem(file, at, title, format!("image {src:?} is missing from the package")));
        return None;
    }
    let lower = path.to_ascii_lowercase();
    if ![".svg", ".png", ".jpg", ".jpeg", ".webp"].iter().any(|e| lower.ends_with(e)) {
        out.problems.push(problem(file, at, title, format!("image {src:?} is not an svg, png, jpg or webp file")));
        return None;
    }
    // A placeholder naming the package path; [`name_assets`] gives the final names once
    // every item is read.
    Some(format!("\u{0}{path}"))
}

/// Gives every image used a plain asset name: its file name, made unique (with `-2`,
/// `-3`...) when two different files share it. Run after all items, in item order, so
/// the names do not depend on anything but the package.
fn name_assets(files: &mut Files, out: &mut Parsed) {
    let name_of = |path: &str, files: &mut Files, out: &mut Parsed| -> String {
        if let Some(n) = files.assets.get(path) {
            return n.clone();
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        let plain: String = base
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '-' })
            .collect();
        let plain = plain.trim_start_matches('.').to_owned();
        let (stem, ext) = match plain.rfind('.') {
            Some(i) => (plain[..i].to_owned(), plain[i..].to_owned()),
            None => (plain.clone(), String::new()),
        };
        let mut name = plain.clone();
        let mut n = 2;
        while files.taken.contains(&name) {
            name = format!("{stem}-{n}{ext}");
            n += 1;
        }
        files.taken.insert(name.clone());
        files.assets.insert(path.to_owned(), name.clone());
        if let Some(bytes) = files.by_path.get(path) {
            out.assets.insert(name.clone(), bytes.clone());
        }
        name
    };
    let mut questions = std::mem::take(&mut out.questions);
    for q in &mut questions {
        let slots = std::iter::once(&mut q.image).chain(q.answers.iter_mut().map(|a| &mut a.image));
        for slot in slots {
            if let Some(path) = slot.as_deref().and_then(|s| s.strip_prefix('\u{0}')) {
                let path = path.to_owned();
                *slot = Some(name_of(&path, files, out));
            }
        }
    }
    out.questions = questions;
}
