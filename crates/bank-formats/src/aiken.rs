//! The Aiken format: a stem, options `A.` or `A)` one a line, then `ANSWER: X`; questions
//! are separated by blank lines.

use crate::{Answer, Parsed, Question, problem};

pub fn parse(file: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut block: Vec<(usize, &str)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            crate::read_checked(&block, |out| read_block(file, &block, out), &mut out);
            block.clear();
        } else {
            block.push((i + 1, line.trim_end()));
        }
    }
    crate::read_checked(&block, |out| read_block(file, &block, out), &mut out);
    out
}

/// `A.`/`A)` followed by a space or the end of the line: the option's letter and text.
fn option_line(line: &str) -> Option<(char, &str)> {
    let mut chars = line.chars();
    let letter = chars.next().filter(char::is_ascii_uppercase)?;
    let rest = chars.as_str();
    let rest = rest.strip_prefix('.').or_else(|| rest.strip_prefix(')'))?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then(|| (letter, rest.trim()))
}

fn read_block(file: &str, block: &[(usize, &str)], out: &mut Parsed) {
    let Some(&(start, _)) = block.first() else { return };
    let mut stem = Vec::new();
    let mut answers: Vec<(char, Answer)> = Vec::new();
    let mut key: Option<(usize, String)> = None;
    let mut ok = true;
    let mut err = |line: usize, m: String| {
        out.problems.push(problem(file, line, None, m));
        ok = false;
    };
    for &(line, text) in block {
        let trimmed = text.trim_start();
        if let Some(rest) = trimmed.strip_prefix("ANSWER:") {
            if key.is_some() {
                err(line, "a second ANSWER line (a question has one key)".to_owned());
            }
            key = Some((line, rest.trim().to_owned()));
        } else if key.is_some() {
            err(line, format!("text after the ANSWER line: {trimmed:?} (separate questions with a blank line)"));
        } else if let Some((letter, text)) = option_line(trimmed) {
            let expected = (b'A' + answers.len() as u8) as char;
            if letter != expected {
                err(line, format!("option {letter} out of order: expected {expected}"));
            }
            answers.push((
                letter,
                Answer { line, text: text.to_owned(), image: None, percent: 0.0, keyed: false, weighted: false },
            ));
        } else if answers.is_empty() {
            stem.push(text.trim());
        } else {
            err(line, format!("{trimmed:?} is neither an option (A. or A)) nor an ANSWER line"));
        }
    }
    if answers.is_empty() {
        err(start, "no options: a question needs options A. B. ... and an ANSWER line".to_owned());
    }
    match &key {
        None => err(block[block.len() - 1].0, "no ANSWER line: the question has no key".to_owned()),
        Some((line, letter)) => match answers.iter().position(|(l, _)| l.to_string() == *letter) {
            Some(i) => {
                answers[i].1.keyed = true;
                answers[i].1.percent = 100.0;
            }
            None if answers.is_empty() => {}
            None => {
                let labels: Vec<String> = answers.iter().map(|(l, _)| l.to_string()).collect();
                err(*line, format!("ANSWER {letter:?} is not one of the options ({})", labels.join(", ")));
            }
        },
    }
    if ok {
        out.questions.push(Question {
            line: start,
            title: None,
            category: None,
            stem: stem.join("\n"),
            image: None,
            answers: answers.into_iter().map(|(_, a)| a).collect(),
            explanation: None,
            pin_options: false,
            section: None,
            difficulty: None,
            part: None,
        });
    }
}
