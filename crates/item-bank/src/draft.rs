//! An item as written, before validation: the shape both the TOML reader and the CSV
//! importer produce, so both are held to exactly the same rules.

use std::collections::BTreeSet;

use crate::check::Check;
use crate::diag::Sink;
use crate::model::{Item, ItemId, ItemOption, Key, Label, LintAllow, Points, SectionCode, Topic};
use crate::walk::{At, Got, is_code, is_slug};

pub(crate) struct Draft {
    /// The line the item starts on.
    pub(crate) line: usize,
    pub(crate) id: Got<String>,
    pub(crate) section: Got<String>,
    pub(crate) topic: Got<String>,
    pub(crate) kind: Got<String>,
    pub(crate) difficulty: Got<i64>,
    pub(crate) stem: Got<String>,
    pub(crate) image: Got<String>,
    pub(crate) answer: Got<String>,
    pub(crate) pin_options: Got<bool>,
    pub(crate) options: Got<Vec<DraftOption>>,
    pub(crate) explanation: Got<String>,
    pub(crate) lint_allow: Got<Vec<DraftAllow>>,
}

/// One `lint_allow` entry as written.
pub(crate) struct DraftAllow {
    pub(crate) line: usize,
    pub(crate) check: Got<String>,
    pub(crate) reason: Got<String>,
}

pub(crate) struct DraftOption {
    pub(crate) line: usize,
    pub(crate) label: Got<String>,
    pub(crate) text: Got<String>,
    pub(crate) image: Got<String>,
    pub(crate) points: Got<i64>,
}

/// Weights above this are almost certainly typos (a missing decimal point, an extra zero).
const MAX_WEIGHT: i64 = 100;

/// An image name must be a plain file name inside `assets/`: no folders, no way out of it.
pub(crate) fn check_image_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !plain {
        return Err(format!("{name:?} must be a plain file name in assets/ (letters, digits, '.', '-', '_')"));
    }
    let lower = name.to_ascii_lowercase();
    if ![".svg", ".png", ".jpg", ".jpeg", ".webp"].iter().any(|ext| lower.ends_with(ext)) {
        return Err(format!("{name:?} is not an image (svg, png, jpg, jpeg or webp)"));
    }
    Ok(())
}

impl Draft {
    /// Validates the draft, reporting every problem to `sink`. `default_section` is the
    /// item file's `section`. Image existence is checked later by the bank, which knows
    /// its assets.
    pub(crate) fn validate(self, default_section: Option<&At<String>>, sink: &mut Sink) -> Option<Item> {
        let line = self.line;
        let id = self.id.required(sink, line, "id");
        sink.set_item(id.as_ref().map(|id| id.value.clone()));
        let mut ok = true;

        if let Some(id) = &id
            && !is_code(&id.value)
        {
            sink.error(Some(id.line), Some("id"), format!("{:?} may only hold letters, digits, '-' and '_'", id.value));
            ok = false;
        }
        let section = match self.section {
            Got::Ok(s) => Some(s),
            Got::Bad => None,
            Got::Missing => match default_section {
                Some(s) => Some(s.clone()),
                None => {
                    sink.error(Some(line), Some("section"), "missing (set it on the item or at the top of the file)");
                    None
                }
            },
        };
        if let Some(s) = &section
            && !is_code(&s.value)
        {
            sink.error(
                Some(s.line),
                Some("section"),
                format!("{:?} may only hold letters, digits, '-' and '_'", s.value),
            );
            ok = false;
        }
        let topic = self.topic.required(sink, line, "topic");
        if let Some(t) = &topic
            && !is_slug(&t.value)
        {
            sink.error(
                Some(t.line),
                Some("topic"),
                format!("{:?} must be lower case letters, digits and '-'", t.value),
            );
            ok = false;
        }
        let weighted = match self.kind {
            Got::Missing => Some(false),
            Got::Bad => None,
            Got::Ok(k) => match k.value.as_str() {
                "single" => Some(false),
                "weighted" => Some(true),
                other => {
                    sink.error(Some(k.line), Some("kind"), format!("{other:?} is not a kind (single or weighted)"));
                    None
                }
            },
        };
        let difficulty = match self.difficulty {
            Got::Ok(d) if (1..=5).contains(&d.value) => Some(d.value as u8),
            Got::Ok(d) => {
                sink.error(Some(d.line), Some("difficulty"), format!("{} is outside 1..5", d.value));
                ok = false;
                None
            }
            Got::Bad => {
                ok = false;
                None
            }
            Got::Missing => None,
        };
        let stem = self.stem.required(sink, line, "stem");
        if let Some(s) = &stem
            && s.value.trim().is_empty()
        {
            sink.error(Some(s.line), Some("stem"), "is empty");
            ok = false;
        }
        let image = match self.image {
            Got::Ok(i) => match check_image_name(&i.value) {
                Ok(()) => Some(i.value),
                Err(e) => {
                    sink.error(Some(i.line), Some("image"), e);
                    ok = false;
                    None
                }
            },
            Got::Bad => {
                ok = false;
                None
            }
            Got::Missing => None,
        };
        let pin_options = match self.pin_options {
            Got::Ok(p) => p.value,
            Got::Bad => {
                ok = false;
                false
            }
            Got::Missing => false,
        };

        let explanation = match self.explanation {
            Got::Ok(e) => Some(e.value).filter(|e| !e.trim().is_empty()),
            Got::Bad => {
                ok = false;
                None
            }
            Got::Missing => None,
        };

        let options = self.options.required(sink, line, "options");
        let mut built = Vec::new();
        let mut weights = Vec::new();
        if let Some(options) = &options {
            if !(2..=Label::MAX_OPTIONS).contains(&options.value.len()) {
                sink.error(
                    Some(options.line),
                    Some("options"),
                    format!("has {} options; an item needs 2 to {}", options.value.len(), Label::MAX_OPTIONS),
                );
                ok = false;
            }
            let mut seen = BTreeSet::new();
            for (i, opt) in options.value.iter().enumerate() {
                let expected = Label::from_index(i);
                let label = match &opt.label {
                    Got::Ok(l) => match Label::parse(&l.value) {
                        Some(label) if Some(label) == expected && seen.insert(label) => Some(label),
                        Some(label) if !seen.insert(label) => {
                            sink.error(Some(l.line), Some("label"), format!("option {label} is repeated"));
                            None
                        }
                        _ => {
                            let want = expected.map_or_else(|| "none (too many options)".to_owned(), |e| e.to_string());
                            sink.error(
                                Some(l.line),
                                Some("label"),
                                format!("{:?} out of order: expected {want}", l.value),
                            );
                            None
                        }
                    },
                    Got::Bad => None,
                    Got::Missing => {
                        sink.error(Some(opt.line), Some("label"), format!("option {} has no label", i + 1));
                        None
                    }
                };
                let Some(label) = label else {
                    ok = false;
                    continue;
                };
                let text = opt.text.clone().ok().map(|t| t.value).unwrap_or_default();
                let image = match &opt.image {
                    Got::Ok(i) => match check_image_name(&i.value) {
                        Ok(()) => Some(i.value.clone()),
                        Err(e) => {
                            sink.error(Some(i.line), Some("image"), format!("option {label}: {e}"));
                            ok = false;
                            None
                        }
                    },
                    Got::Bad => {
                        ok = false;
                        None
                    }
                    Got::Missing => None,
                };
                if text.trim().is_empty() && image.is_none() && !matches!(opt.image, Got::Bad) {
                    sink.error(Some(opt.line), Some("text"), format!("option {label} has no text"));
                    ok = false;
                }
                match (&opt.points, weighted) {
                    (Got::Ok(p), Some(true)) if (0..=MAX_WEIGHT).contains(&p.value) => weights.push(Points(p.value)),
                    (Got::Ok(p), Some(true)) => {
                        sink.error(
                            Some(p.line),
                            Some("points"),
                            format!("option {label}: {} is outside 0..{MAX_WEIGHT}", p.value),
                        );
                        ok = false;
                    }
                    (Got::Missing, Some(true)) => {
                        sink.error(
                            Some(opt.line),
                            Some("points"),
                            format!("option {label} has no points (every option of a weighted item needs them)"),
                        );
                        ok = false;
                    }
                    (Got::Ok(p), Some(false)) => {
                        sink.error(
                            Some(p.line),
                            Some("points"),
                            format!("option {label}: a single item has no option points (use kind = \"weighted\")"),
                        );
                        ok = false;
                    }
                    (Got::Bad, _) => ok = false,
                    _ => {}
                }
                built.push(ItemOption { label, text, image });
            }
        }

        let key = match weighted {
            Some(false) => match self.answer {
                Got::Ok(a) => match Label::parse(&a.value) {
                    Some(label) if label.index() < built.len() || options.is_none() => Some(Key::Single(label)),
                    _ => {
                        let labels = built.iter().map(|o| o.label.to_string()).collect::<Vec<_>>().join(", ");
                        sink.error(
                            Some(a.line),
                            Some("answer"),
                            format!("{:?} is not one of the options ({labels})", a.value),
                        );
                        None
                    }
                },
                Got::Bad => None,
                Got::Missing => {
                    sink.error(Some(line), Some("answer"), "missing (a single item needs its keyed option)");
                    None
                }
            },
            Some(true) => {
                if let Got::Ok(a) = &self.answer {
                    sink.error(Some(a.line), Some("answer"), "a weighted item has no answer; its options carry points");
                    ok = false;
                }
                Some(Key::Weighted(weights))
            }
            None => None,
        };

        let mut lint_allow: Vec<LintAllow> = Vec::new();
        match self.lint_allow {
            Got::Ok(entries) => {
                for entry in entries.value {
                    let check = match entry.check.required(sink, entry.line, "lint_allow.check") {
                        Some(c) => {
                            match Check::parse(&c.value) {
                                Some(check) if check.silenceable() => Some(check),
                                Some(check) => {
                                    sink.error(
                                    Some(c.line),
                                    Some("lint_allow.check"),
                                    format!("{check} is a property of the bank or exam and cannot be silenced by one item"),
                                );
                                    None
                                }
                                None => {
                                    let known: Vec<&str> =
                                        Check::ALL.iter().filter(|c| c.silenceable()).map(|c| c.name()).collect();
                                    sink.error(
                                        Some(c.line),
                                        Some("lint_allow.check"),
                                        format!("{:?} is not a lint check (one of: {})", c.value, known.join(", ")),
                                    );
                                    None
                                }
                            }
                        }
                        None => None,
                    };
                    let reason = match entry.reason {
                        Got::Ok(r) if r.value.trim().is_empty() => {
                            sink.error(
                                Some(r.line),
                                Some("lint_allow.reason"),
                                "is empty: say why the flaw is intended",
                            );
                            None
                        }
                        Got::Ok(r) => Some(r.value),
                        Got::Bad => None,
                        Got::Missing => {
                            sink.error(
                                Some(entry.line),
                                Some("lint_allow.reason"),
                                "missing: silencing a check needs the reason it is intended",
                            );
                            None
                        }
                    };
                    match (check, reason) {
                        (Some(check), Some(_)) if lint_allow.iter().any(|a| a.check == check) => {
                            sink.error(Some(entry.line), Some("lint_allow.check"), format!("{check} is listed twice"));
                            ok = false;
                        }
                        (Some(check), Some(reason)) => lint_allow.push(LintAllow { check, reason, line: entry.line }),
                        _ => ok = false,
                    }
                }
            }
            Got::Bad => ok = false,
            Got::Missing => {}
        }

        sink.set_item(None);
        let (id, section, topic, stem, key, _) = (id?, section?, topic?, stem?, key?, options?);
        ok.then(|| Item {
            id: ItemId::new(id.value),
            section: SectionCode::new(section.value),
            topic: Topic::new(topic.value),
            difficulty,
            stem: stem.value,
            image,
            options: built,
            key,
            pin_options,
            explanation,
            lint_allow,
            file: sink.file().to_owned(),
            line,
        })
    }
}
