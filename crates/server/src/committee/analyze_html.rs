//! The self-contained HTML pages of `ujian analyze`: plain tables and an inline SVG score
//! histogram per section, no script and nothing fetched, so the file can be mailed or
//! printed as it is.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use analytics::{Analysis, ItemScoring, Reliability};

use super::analyze_input::{Data, Integrity, candidate_flags, events_text, flag_text, pairs};
use super::analyze_svg as svg;

/// At most this many flagged candidates get a timeline on the page.
const TIMELINES: usize = 20;

/// What every page says first: a flag is a reason to look, never a verdict.
const NOTICE: &str = "<p class=\"notice\"><strong>Catatan:</strong> setiap tanda di laporan ini adalah bukti \
    untuk ditimbang oleh panitia bersama catatan pengawas, bukan putusan. Tidak ada tanda yang boleh mengubah \
    nilai atau mendiskualifikasi peserta dengan sendirinya.<br><strong>Note:</strong> every flag in this report \
    is evidence for the committee to weigh with what the supervisors saw, never a verdict. No flag should \
    change a score or disqualify a candidate by itself.</p>";

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn num(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite()).map(|v| format!("{v:.3}")).unwrap_or_else(|| "–".to_owned())
}

fn page(title: &str, data: &Data, body: &str) -> String {
    let provisional = if data.not_closed.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"notice\">Sementara / provisional: sitting {} not closed.</p>",
            esc(&data.not_closed.join(", "))
        )
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"id\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>\
         body{{font-family:sans-serif;margin:2em;max-width:80em}}table{{border-collapse:collapse;margin:1em 0}}\
         td,th{{border:1px solid #bbb;padding:.2em .5em;text-align:right}}td.l,th.l{{text-align:left}}\
         .notice{{background:#fff4d6;border:1px solid #e0b000;padding:.6em}}.flag{{color:#b00000}}\
         </style></head><body>\n<h1>{t}</h1>\n{NOTICE}\n{provisional}{body}</body></html>\n",
        t = esc(title)
    )
}

/// A bar chart of candidates per section score.
fn histogram(hist: &BTreeMap<i64, usize>) -> String {
    let (Some((&lo, _)), Some((&hi, _))) = (hist.first_key_value(), hist.last_key_value()) else {
        return String::new();
    };
    let bins = usize::try_from(hi - lo + 1).unwrap_or(1).max(1);
    let most = hist.values().copied().max().unwrap_or(1).max(1);
    let (w, h) = (600.0, 160.0);
    let bar = w / bins as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" role=\"img\" \
         aria-label=\"score histogram\">",
        h + 20.0
    );
    for (&score, &n) in hist {
        let x = (score - lo) as f64 * bar;
        let bh = n as f64 / most as f64 * h;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#4a7ab5\">\
             <title>{score}: {n}</title></rect>",
            h - bh,
            (bar - 1.0).max(1.0)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"{}\" font-size=\"12\">{lo}</text><text x=\"{w}\" y=\"{}\" font-size=\"12\" \
         text-anchor=\"end\">{hi}</text></svg>",
        h + 15.0,
        h + 15.0
    );
    svg
}

/// The item analysis page.
pub(super) fn items(data: &Data, analysis: &Analysis, sitting: Option<&str>) -> String {
    let scope = sitting.map_or_else(|| format!("exam {}", data.exam), |s| format!("exam {}, sitting {s}", data.exam));
    let mut b = format!("<p>Analisis butir / item analysis: {}, {} candidates.</p>\n", esc(&scope), data.sheets.len());
    b.push_str("<h2>Sections</h2>\n");
    for s in &analysis.sections {
        let rel = match s.reliability {
            Some(Reliability::Kr20(v)) => format!("KR-20 {v:.3}"),
            Some(Reliability::Alpha(v)) => format!("Cronbach's α {v:.3}"),
            None => "reliability –".to_owned(),
        };
        let _ = write!(
            b,
            "<h3>{}</h3><p>{} candidates, {:.1} items per paper, mean {:.2}, SD {:.2}, {rel}, SEM {}</p>\n{}\n",
            esc(s.section.as_str()),
            s.candidates,
            s.items_per_paper,
            s.mean,
            s.sd,
            num(s.sem),
            histogram(&s.histogram)
        );
    }
    let _ = write!(
        b,
        "<h2>Tingkat kesukaran dan daya beda / difficulty and discrimination</h2>\n<p>Single-keyed items; red: \
         an item with a flag. Items below the D = 0.2 line tell candidates apart weakly.</p>\n{}\n",
        svg::difficulty_scatter(data, &analysis.items)
    );
    b.push_str(
        "<h2>Items</h2>\n<p>Option bars: for each option its share overall, in the upper 27% and in the lower \
         27% (darker to lighter); green the key or a top weight.</p>\n<table><tr><th class=\"l\">item</th><th class=\"l\">section</th><th>drawn</th>\
         <th>answered</th><th>omitted</th><th>difficulty / mean points</th><th>discrimination D</th>\
         <th>item–rest r</th><th>median time (s)</th><th class=\"l\">options</th>\
         <th class=\"l\">options: overall / upper / lower</th>\
         <th class=\"l\">flags</th></tr>\n",
    );
    for r in &analysis.items {
        let item = &data.items[r.item];
        let (level, d) = match &r.scoring {
            ItemScoring::Single { p, discrimination } => (num(Some(*p)), num(*discrimination)),
            ItemScoring::Weighted { mean_points, .. } => (num(Some(*mean_points)), "–".to_owned()),
        };
        let options: Vec<String> =
            r.options.iter().map(|o| format!("{} {:.2}/{:.2}/{:.2}", o.label, o.overall, o.upper, o.lower)).collect();
        let flags: Vec<String> = r.flags.iter().map(flag_text).collect();
        let _ = writeln!(
            b,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{level}</td>\
             <td>{d}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td>\
             <td class=\"l flag\">{}</td></tr>",
            esc(item.id().as_str()),
            esc(item.section().as_str()),
            r.drawn,
            r.answered,
            r.omitted,
            num(r.item_rest),
            num(r.time.map(|t| t.median_ms / 1000.0)),
            svg::option_bars(r, item),
            esc(&options.join("; ")),
            esc(&flags.join(" "))
        );
    }
    b.push_str("</table>\n");
    page(&format!("ujian analyze items: {scope}"), data, &b)
}

/// The integrity page of one sitting.
pub(super) fn integrity(data: &Data, found: &Integrity, sitting: &str) -> String {
    let who = |i: usize| esc(&data.sheets[i].candidate);
    let mut b = format!(
        "<p>Sitting {}, exam {}: {} candidates, {} pairs compared, a pair is flagged below p = {:.3e} \
         (Bonferroni over the pairs).</p>\n",
        esc(sitting),
        esc(&data.exam),
        found.room.len(),
        found.similarity.pairs,
        found.similarity.threshold
    );
    b.push_str(
        "<h2>Kemiripan jawaban / answer similarity</h2>\n<p>Flagged pairs first, then the most similar pairs \
         not flagged. <em>source</em> is the direction in which the match is least probable; it does not say \
         who copied.</p>\n<table><tr><th class=\"l\">flagged</th><th class=\"l\">a</th><th class=\"l\">b</th>\
         <th class=\"l\">source</th><th>shared</th><th>compared</th><th>identical (expected)</th>\
         <th>identical wrong (expected)</th><th>p-value</th></tr>\n",
    );
    for (flagged, p) in pairs(found) {
        let _ = writeln!(
            b,
            "<tr><td class=\"l{}\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td>\
             <td>{}</td><td>{}</td><td>{} ({:.1})</td><td>{} ({:.1})</td><td>{:.2e}</td></tr>",
            if flagged { " flag" } else { "" },
            if flagged { "yes" } else { "no" },
            who(p.a),
            who(p.b),
            who(p.source),
            p.shared,
            p.compared,
            p.identical,
            p.expected_identical,
            p.identical_wrong,
            p.expected_identical_wrong,
            p.p_value
        );
    }
    b.push_str("</table>\n");
    let matrix = svg::similarity_matrix(data, found);
    if !matrix.is_empty() {
        let scope = if found.similarity.matrix.is_empty() {
            "the candidates of the pairs listed above (the room is too large to draw whole)"
        } else {
            "every pair of the room"
        };
        let _ = write!(
            b,
            "<h3>Matriks kemiripan / similarity matrix</h3>\n<p>{scope}: the darker a cell, the less probable \
             the pair's agreement under independence; red: flagged.</p>\n{matrix}\n"
        );
    }
    b.push_str("<h2>Serempak / seats in lockstep</h2>\n");
    if found.lockstep.is_empty() {
        b.push_str("<p>None.</p>\n");
    } else {
        b.push_str(
            "<table><tr><th class=\"l\">a</th><th class=\"l\">b</th><th>together</th><th>longest run</th></tr>\n",
        );
        for l in &found.lockstep {
            let _ = writeln!(
                b,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td></tr>",
                who(l.a),
                who(l.b),
                l.together,
                l.longest_run
            );
        }
        b.push_str("</table>\n");
    }
    b.push_str(
        "<h2>Per peserta / per candidate</h2>\n<table><tr><th class=\"l\">participant</th><th class=\"l\">name</th>\
         <th>fast right answers</th><th>idle then burst</th><th>wrong→right (expected)</th><th>cycling</th>\
         <th>focus losses</th><th>logins again</th><th>PC moves</th><th>reconnects</th><th>takeovers</th>\
         <th class=\"l\">client events</th><th class=\"l\">flags</th></tr>\n",
    );
    for (c, fast, idle, cycling) in &found.per_candidate {
        let changes = found
            .wrong_to_right
            .iter()
            .find(|x| x.candidate == *c)
            .map_or_else(|| "–".to_owned(), |x| format!("{} ({:.1})", x.wrong_to_right, x.expected));
        let [focus, _, relogins, moves, reconnects, takeovers] =
            found.session_counts.get(c).copied().unwrap_or_default();
        let _ = writeln!(
            b,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{changes}</td><td>{}</td>\
             <td>{focus}</td><td>{relogins}</td><td>{moves}</td><td>{reconnects}</td><td>{takeovers}</td>\
             <td class=\"l\">{}</td><td class=\"l flag\">{}</td></tr>",
            who(*c),
            esc(&data.who[*c].0),
            fast.len(),
            idle.len(),
            cycling.len(),
            esc(&events_text(found, *c)),
            esc(&candidate_flags(found, *c).join(" "))
        );
    }
    b.push_str("</table>\n");
    let flagged: Vec<usize> =
        found.per_candidate.iter().map(|(c, ..)| *c).filter(|&c| !candidate_flags(found, c).is_empty()).collect();
    if !flagged.is_empty() {
        b.push_str(
            "<h2>Linimasa / answer timelines of flagged candidates</h2>\n<p>Each answer line: minutes since the \
             start across, question down; green right, red wrong, grey cleared, an orange ring a fast right \
             answer.</p>\n",
        );
        for &c in flagged.iter().take(TIMELINES) {
            let _ = write!(
                b,
                "<h3>{} ({})</h3>\n{}\n",
                esc(&data.sheets[c].candidate),
                esc(&candidate_flags(found, c).join(" ")),
                svg::timeline(data, found, c)
            );
        }
        if flagged.len() > TIMELINES {
            let _ = writeln!(b, "<p>… and {} more flagged candidates (integrity.csv).</p>", flagged.len() - TIMELINES);
        }
    }
    page(&format!("ujian analyze integrity: sitting {sitting}"), data, &b)
}
