//! The inline SVG charts of `ujian analyze`'s HTML pages: drawn as text here, no script and
//! no library, so a report stays one file that opens anywhere. Every mark carries a
//! `<title>` with its figures, which a browser shows on hover.

use std::fmt::Write as _;

use analytics::{ItemInfo, ItemReport, ItemScoring};
use item_bank::Label;

use super::html::esc;
use super::input::{Data, Integrity, pairs};

const SVG: &str = "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"";
const BLUE: &str = "#4a7ab5";
const RED: &str = "#c0392b";
const GREEN: &str = "#2e8b57";
const GREY: &str = "#999";

/// Single-keyed items' difficulty (proportion correct) against discrimination D, with the
/// D = 0.2 line below which an item tells candidates apart weakly; flagged items in red.
pub(super) fn difficulty_scatter(data: &Data, items: &[ItemReport]) -> String {
    let (w, h, pad) = (480.0, 320.0, 40.0);
    let x = |p: f64| pad + p * (w - 2.0 * pad);
    // D runs from −1 to 1.
    let y = |d: f64| h - pad - (d + 1.0) / 2.0 * (h - 2.0 * pad);
    let mut svg = format!(
        "<svg {SVG} width=\"{w}\" height=\"{h}\" aria-label=\"difficulty against discrimination\">\
         <rect x=\"{pad}\" y=\"{pad}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#bbb\"/>",
        w - 2.0 * pad,
        h - 2.0 * pad
    );
    for (d, label) in [(0.0, "D 0"), (0.2, "D 0.2")] {
        let _ = write!(
            svg,
            "<line x1=\"{pad}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#ccc\" stroke-dasharray=\"4 3\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{label}</text>",
            w - pad,
            w - pad - 2.0,
            y(d) - 2.0,
            yy = y(d)
        );
    }
    for r in items {
        let ItemScoring::Single { p, discrimination: Some(d) } = r.scoring else { continue };
        let colour = if r.flags.is_empty() { BLUE } else { RED };
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{colour}\" fill-opacity=\"0.75\">\
             <title>{}: p {p:.3}, D {d:.3}</title></circle>",
            x(p),
            y(d.clamp(-1.0, 1.0)),
            esc(data.items[r.item].id().as_str())
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">difficulty p (proportion correct)</text>\
         <text x=\"{pad}\" y=\"{}\" font-size=\"10\">0</text><text x=\"{}\" y=\"{}\" font-size=\"10\" \
         text-anchor=\"end\">1</text><text x=\"12\" y=\"{}\" font-size=\"12\" transform=\"rotate(-90 12 {})\" \
         text-anchor=\"middle\">discrimination D</text></svg>",
        w / 2.0,
        h - 8.0,
        h - pad + 12.0,
        w - pad,
        h - pad + 12.0,
        h / 2.0,
        h / 2.0
    );
    svg
}

/// One item's options: for each, three bars (overall, upper 27%, lower 27%); the key (or a
/// top weight) is drawn in green, the others in blue.
pub(super) fn option_bars(report: &ItemReport, item: &ItemInfo) -> String {
    let (bar, gap, h) = (5.0, 4.0, 36.0);
    let w = report.options.len() as f64 * (3.0 * bar + gap);
    let mut svg = format!("<svg {SVG} width=\"{w}\" height=\"{}\" aria-label=\"option shares\">", h + 11.0);
    for (k, o) in report.options.iter().enumerate() {
        let x0 = k as f64 * (3.0 * bar + gap);
        let colour = if item.is_right(o.label) { GREEN } else { BLUE };
        for (j, (share, opacity, group)) in
            [(o.overall, 1.0, "overall"), (o.upper, 0.7, "upper"), (o.lower, 0.4, "lower")].into_iter().enumerate()
        {
            let bh = share.clamp(0.0, 1.0) * h;
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar}\" height=\"{bh:.1}\" fill=\"{colour}\" \
                 fill-opacity=\"{opacity}\"><title>{} {group}: {share:.2}</title></rect>",
                x0 + j as f64 * bar,
                h - bh,
                o.label
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{}</text>",
            x0 + 1.5 * bar,
            h + 10.0,
            o.label
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The room's similarity matrix: each cell a pair, darker the less probable its agreement,
/// red when flagged. A room of up to `analytics::similarity::MATRIX_ROOM` is drawn whole;
/// a larger one only among the candidates of the pairs the report lists.
pub(super) fn similarity_matrix(data: &Data, found: &Integrity) -> String {
    let s = &found.similarity;
    let cells: Vec<(usize, usize, f64, String)> = if s.matrix.is_empty() {
        pairs(found)
            .into_iter()
            .map(|(_, p)| (p.a, p.b, p.p_value, format!("{} of {} identical", p.identical, p.compared)))
            .collect()
    } else {
        s.matrix.iter().map(|c| (c.a, c.b, c.p_value, format!("{} of {} identical", c.identical, c.compared))).collect()
    };
    let mut people: Vec<usize> =
        if s.matrix.is_empty() { cells.iter().flat_map(|&(a, b, ..)| [a, b]).collect() } else { found.room.clone() };
    people.sort_unstable();
    people.dedup();
    if people.is_empty() {
        return String::new();
    }
    let n = people.len();
    let (label, size) = (70.0, (480.0 / n as f64).clamp(6.0, 22.0));
    let side = label + n as f64 * size;
    let at = |c: usize| people.binary_search(&c).unwrap_or(0) as f64 * size + label;
    let mut svg = format!("<svg {SVG} width=\"{side:.0}\" height=\"{side:.0}\" aria-label=\"similarity matrix\">");
    if size >= 10.0 {
        for &c in &people {
            let name = esc(&data.sheets[c].candidate);
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"end\">{name}</text>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" transform=\"rotate(-90 {:.1} {:.1})\">{name}</text>",
                label - 3.0,
                at(c) + size * 0.7,
                at(c) + size * 0.7,
                label - 3.0,
                at(c) + size * 0.7,
                label - 3.0
            );
        }
    }
    // Shade by −log10 p against the threshold's: 0 at p = 1, full at the threshold.
    let full = -s.threshold.max(f64::MIN_POSITIVE).log10();
    for (a, b, p, what) in &cells {
        let strength = (-p.max(f64::MIN_POSITIVE).log10() / full).clamp(0.0, 1.0);
        let colour = if *p < s.threshold { RED.to_owned() } else { format!("rgba(74,122,181,{strength:.2})") };
        let title = format!("{} – {}: {what}, p {p:.2e}", data.sheets[*a].candidate, data.sheets[*b].candidate);
        for (row, col) in [(*a, *b), (*b, *a)] {
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{size:.1}\" height=\"{size:.1}\" fill=\"{colour}\" \
                 stroke=\"#eee\"><title>{}</title></rect>",
                at(col),
                at(row),
                esc(&title)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One candidate's answer lines over the session: time since the start across, position in
/// the paper down; green a right answer, red a wrong one, grey a cleared one, a ring on a
/// fast right answer.
pub(super) fn timeline(data: &Data, found: &Integrity, c: usize) -> String {
    let sheet = &data.sheets[c];
    let Some(last) = sheet.lines.iter().map(|l| l.at_ms).max() else { return String::new() };
    let span = (last - sheet.start_ms).max(1) as f64;
    let (w, h, pad) = (600.0, 200.0, 30.0);
    let positions = sheet.paper.len().max(1) as f64;
    let x = |at: i64| pad + (at - sheet.start_ms).max(0) as f64 / span * (w - 2.0 * pad);
    let y = |pos: usize| pad + pos as f64 / positions * (h - 2.0 * pad);
    let fast: Vec<usize> = found
        .per_candidate
        .iter()
        .find(|(x, ..)| *x == c)
        .map(|(_, fast, ..)| fast.iter().map(|f| f.position).collect())
        .unwrap_or_default();
    let mut svg = format!(
        "<svg {SVG} width=\"{w}\" height=\"{h}\" aria-label=\"answer timeline\">\
         <rect x=\"{pad}\" y=\"{pad}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#ddd\"/>",
        w - 2.0 * pad,
        h - 2.0 * pad
    );
    for line in &sheet.lines {
        let Some(&item) = sheet.paper.get(line.position) else { continue };
        let (colour, what) = match line.choice {
            None => (GREY, "cleared".to_owned()),
            Some(l) if data.items[item].is_right(l) => (GREEN, format!("{l}, right")),
            Some(l) => (RED, format!("{l}, wrong")),
        };
        let minute = (line.at_ms - sheet.start_ms) as f64 / 60_000.0;
        let ring = if fast.contains(&line.position) && line.choice.is_some_and(|l: Label| data.items[item].is_right(l))
        {
            " stroke=\"#e67e22\" stroke-width=\"2\""
        } else {
            ""
        };
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{colour}\"{ring}><title>{minute:.1} min, question {}: \
             {what}</title></circle>",
            x(line.at_ms),
            y(line.position),
            line.position + 1
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{pad}\" y=\"{}\" font-size=\"10\">0 min</text><text x=\"{}\" y=\"{}\" font-size=\"10\" \
         text-anchor=\"end\">{:.0} min</text><text x=\"{pad}\" y=\"{}\" font-size=\"10\">question 1 (top) to {} \
         (bottom)</text></svg>",
        h - 12.0,
        w - pad,
        h - 12.0,
        span / 60_000.0,
        pad - 8.0,
        sheet.paper.len()
    );
    svg
}
