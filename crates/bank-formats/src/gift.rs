//! Moodle's GIFT format: `::title:: stem {=key ~wrong ~%50%partial #feedback ####general}`,
//! `{T}`/`{F}`, `$CATEGORY:` lines and `//` comments; questions separated by blank lines.

use crate::{Answer, Parsed, Question, Skipped, problem};

/// One character of the text with the line it is on; `escaped` when written with a
/// backslash, so it is text and never GIFT syntax.
#[derive(Clone, Copy)]
struct Ch {
    c: char,
    line: usize,
    escaped: bool,
}

pub fn parse(file: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut category: Option<String> = None;
    let mut block: Vec<(usize, &str)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("//") {
            continue;
        }
        if trimmed.is_empty() {
            crate::read_checked(&block, |out| read_block(file, &block, &mut category, out), &mut out);
            block.clear();
        } else {
            block.push((i + 1, line));
        }
    }
    crate::read_checked(&block, |out| read_block(file, &block, &mut category, out), &mut out);
    out
}

fn chars(block: &[(usize, &str)]) -> Vec<Ch> {
    let mut out = Vec::new();
    for (n, &(line, text)) in block.iter().enumerate() {
        if n > 0 {
            out.push(Ch { c: '\n', line, escaped: false });
        }
        let mut it = text.chars().peekable();
        while let Some(c) = it.next() {
            match (c, it.peek().copied()) {
                ('\\', Some(e @ ('=' | '~' | '#' | '{' | '}' | ':' | '\\'))) => {
                    it.next();
                    out.push(Ch { c: e, line, escaped: true });
                }
                ('\\', Some('n')) => {
                    it.next();
                    out.push(Ch { c: '\n', line, escaped: true });
                }
                _ => out.push(Ch { c, line, escaped: false }),
            }
        }
    }
    out
}

fn is(ch: &Ch, c: char) -> bool {
    ch.c == c && !ch.escaped
}

fn text(chs: &[Ch]) -> String {
    chs.iter().map(|c| c.c).collect::<String>().trim().to_owned()
}

/// Position of the first unescaped `pattern` at or after `from`.
fn find(chs: &[Ch], from: usize, pattern: &str) -> Option<usize> {
    let p: Vec<char> = pattern.chars().collect();
    (from..chs.len()).find(|&i| i + p.len() <= chs.len() && p.iter().enumerate().all(|(k, c)| is(&chs[i + k], *c)))
}

fn read_block(file: &str, block: &[(usize, &str)], category: &mut Option<String>, out: &mut Parsed) {
    let mut block = block;
    let Some(&(_, first)) = block.first() else { return };
    if let Some(rest) = first.trim().strip_prefix("$CATEGORY:") {
        *category = Some(rest.trim().to_owned());
        block = &block[1..];
    }
    let Some(&(start, _)) = block.first() else { return };
    let chs = chars(block);
    let mut err = |line: usize, m: String| out.problems.push(problem(file, line, None, m));

    let mut body_from = 0;
    let mut title = None;
    let lead = chs.iter().position(|c| !c.c.is_whitespace()).unwrap_or(0);
    if find(&chs, lead, "::") == Some(lead) {
        match find(&chs, lead + 2, "::") {
            Some(end) => {
                title = Some(text(&chs[lead + 2..end]));
                body_from = end + 2;
            }
            None => {
                err(chs[lead].line, "the title's closing :: is missing".to_owned());
                return;
            }
        }
    }
    let Some(open) = find(&chs, body_from, "{") else {
        out.skipped.push(Skipped { part: None, line: start, reason: "description (no answers)".to_owned() });
        return;
    };
    let Some(close) = find(&chs, open + 1, "}") else {
        err(chs[open].line, "the answers' closing } is missing".to_owned());
        return;
    };
    if let Some(extra) = find(&chs, close + 1, "{") {
        err(chs[extra].line, "a second { in one question (separate questions with a blank line)".to_owned());
        return;
    }
    let before = text(&chs[body_from..open]);
    let after = text(&chs[close + 1..]);
    let mut stem = if after.is_empty() { before } else { format!("{before} _____ {after}") };
    for marker in ["[plain]", "[markdown]", "[moodle]"] {
        if let Some(rest) = stem.strip_prefix(marker) {
            stem = rest.trim().to_owned();
        }
    }
    if let Some(html) = stem.strip_prefix("[html]") {
        let (text, images) = crate::moodle::html_to_text(html);
        if !images.is_empty() {
            // A GIFT file has nowhere to carry the image's bytes.
            err(start, format!("{} image(s) in the HTML stem; GIFT cannot carry their files", images.len()));
            return;
        }
        stem = text;
    }

    let mut body = &chs[open + 1..close];
    let mut explanation = None;
    if let Some(general) = find(body, 0, "####") {
        explanation = Some(text(&body[general + 4..]));
        body = &body[..general];
    }
    let lead = body.iter().position(|c| !c.c.is_whitespace());
    let Some(lead) = lead else {
        out.skipped.push(Skipped { part: None, line: start, reason: "essay".to_owned() });
        return;
    };
    if is(&body[lead], '#') {
        out.skipped.push(Skipped { part: None, line: start, reason: "numerical".to_owned() });
        return;
    }
    if find(body, 0, "->").is_some() {
        out.skipped.push(Skipped { part: None, line: start, reason: "matching".to_owned() });
        return;
    }
    let head_end = find(body, 0, "#").unwrap_or(body.len());
    let head = text(&body[..head_end]).to_ascii_uppercase();
    if matches!(head.as_str(), "T" | "TRUE" | "F" | "FALSE") {
        let truth = head.starts_with('T');
        let line = body[lead].line;
        let answer = |text: &str, keyed: bool| Answer {
            line,
            text: text.to_owned(),
            image: None,
            percent: if keyed { 100.0 } else { 0.0 },
            keyed,
            weighted: false,
        };
        out.questions.push(Question {
            line: start,
            title,
            category: category.clone(),
            stem,
            image: None,
            answers: vec![answer("Benar", truth), answer("Salah", !truth)],
            explanation,
            pin_options: true,
            section: None,
            difficulty: None,
            part: None,
        });
        return;
    }

    let markers: Vec<usize> = (0..body.len()).filter(|&i| is(&body[i], '=') || is(&body[i], '~')).collect();
    if markers.is_empty() || !text(&body[..markers[0]]).is_empty() {
        err(body[lead].line, "answers must start with = (correct) or ~ (wrong)".to_owned());
        return;
    }
    if !markers.iter().any(|&i| body[i].c == '~') {
        out.skipped.push(Skipped { part: None, line: start, reason: "short answer".to_owned() });
        return;
    }
    let mut answers = Vec::new();
    let mut ok = true;
    for (k, &m) in markers.iter().enumerate() {
        let end = markers.get(k + 1).copied().unwrap_or(body.len());
        let mut part = &body[m + 1..end];
        let line = body[m].line;
        let mut percent = if body[m].c == '=' { 100.0 } else { 0.0 };
        let mut weighted = false;
        if part.first().is_some_and(|c| is(c, '%')) {
            match find(part, 1, "%") {
                Some(close) => {
                    let raw = text(&part[1..close]);
                    match raw.parse::<f64>() {
                        Ok(p) if p.is_finite() => {
                            percent = p;
                            weighted = true;
                        }
                        _ => {
                            err(line, format!("weight %{raw}% is not a number"));
                            ok = false;
                        }
                    }
                    part = &part[close + 1..];
                }
                None => {
                    err(line, "the weight's closing % is missing".to_owned());
                    ok = false;
                }
            }
        }
        // Per-answer feedback (after `#`) has no place in a ujian item and is dropped.
        let feedback = find(part, 0, "#").unwrap_or(part.len());
        answers.push(Answer {
            line,
            text: text(&part[..feedback]),
            image: None,
            percent,
            keyed: body[m].c == '=',
            weighted,
        });
    }
    if ok {
        out.questions.push(Question {
            line: start,
            title,
            category: category.clone(),
            stem,
            image: None,
            answers,
            explanation,
            pin_options: false,
            section: None,
            difficulty: None,
            part: None,
        });
    }
}
