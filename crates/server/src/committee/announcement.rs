//! The result list a committee publishes (`ujian results export --format xlsx|pdf`): a
//! title, the sitting or exam, its date and the formation, then one line a candidate in
//! the export's order (formation, rank, participant number, name, section scores, total,
//! code) and what the codes mean. A provisional export says so under the title, on every
//! page and on every line, so no printout or copied row can pass for the final list.

use pdf_writer::{Content, Finish as _, Name, Pdf, Rect, Ref, Str};
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook};

use crate::results::{Export, ResultLine};

/// What the list says above its table.
pub(crate) struct Heading {
    /// E.g. "PENGUMUMAN HASIL SELEKSI KOMPETENSI DASAR".
    pub title: String,
    /// E.g. "Sesi SESI-1, Aula BKD" or "Ujian SKD-2026, 3 sesi".
    pub scope: String,
    /// The sitting's date (or the first and last of an exam's sittings).
    pub date: String,
    /// The position the list is for.
    pub formation: String,
}

const LEGEND: &str = "Keterangan: P/L = memenuhi ambang batas dan masuk peringkat formasi (lanjut ke tahap \
berikutnya); P = memenuhi ambang batas, di luar peringkat formasi; TL = tidak memenuhi ambang batas; \
TH = tidak hadir; DIS = diskualifikasi.";

/// The line under the title of a provisional list, and what marks each of its lines.
fn provisional_notice(export: &Export) -> Option<String> {
    export.is_provisional().then(|| {
        format!(
            "SEMENTARA (PROVISIONAL): sesi {} belum ditutup; daftar ini bukan hasil akhir",
            export.provisional.join(", ")
        )
    })
}
const PROVISIONAL_MARK: &str = "SEMENTARA";

/// The table's header and each line's cells, as text (scores and totals right-aligned
/// where laid out).
fn header(export: &Export) -> Vec<String> {
    let mut h: Vec<String> = Vec::new();
    if export.is_provisional() {
        h.push("Status".into());
    }
    h.extend(["Formasi", "Peringkat", "No. Peserta", "Nama"].map(String::from));
    h.extend(export.sections.iter().cloned());
    h.extend(["Total", "Kode"].map(String::from));
    h
}

fn cells(export: &Export, heading: &Heading, line: &ResultLine) -> Vec<Cell> {
    let mut c = Vec::new();
    if export.is_provisional() {
        c.push(Cell::Text(PROVISIONAL_MARK.into()));
    }
    c.push(Cell::Text(heading.formation.clone()));
    c.push(line.rank.map_or(Cell::Text(String::new()), |r| Cell::Number(r as i64)));
    c.push(Cell::Text(line.participant_no.clone()));
    c.push(Cell::Text(line.name.clone()));
    c.extend(export.sections.iter().map(|s| Cell::Number(line.scores.get(s).copied().unwrap_or(0))));
    c.push(Cell::Number(line.total));
    c.push(Cell::Text(line.code.clone()));
    c
}

enum Cell {
    Text(String),
    Number(i64),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Number(n) => n.to_string(),
        }
    }
}

/// The list as an XLSX workbook of one sheet, "Hasil".
pub(crate) fn xlsx(export: &Export, heading: &Heading) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Hasil")?;
    let title = Format::new().set_bold().set_font_size(14);
    let warn = Format::new().set_bold().set_font_color(Color::Red);
    let head = Format::new().set_bold().set_border(FormatBorder::Thin).set_background_color(Color::RGB(0xD9E1F2));
    let cell = Format::new().set_border(FormatBorder::Thin);
    let mark = Format::new().set_border(FormatBorder::Thin).set_bold().set_font_color(Color::Red);
    let mut row = 0;
    sheet.write_string_with_format(row, 0, &heading.title, &title)?;
    for text in [heading.scope.clone(), format!("Tanggal: {}", heading.date), format!("Formasi: {}", heading.formation)]
    {
        row += 1;
        sheet.write_string(row, 0, &text)?;
    }
    if let Some(notice) = provisional_notice(export) {
        row += 1;
        sheet.write_string_with_format(row, 0, &notice, &warn)?;
    }
    row += 2;
    let header_row = row;
    for (col, h) in header(export).iter().enumerate() {
        sheet.write_string_with_format(row, col as u16, h, &head)?;
    }
    for line in &export.lines {
        row += 1;
        for (col, c) in cells(export, heading, line).iter().enumerate() {
            let col = col as u16;
            match c {
                Cell::Text(t) if t == PROVISIONAL_MARK => sheet.write_string_with_format(row, col, t, &mark)?,
                Cell::Text(t) => sheet.write_string_with_format(row, col, t, &cell)?,
                Cell::Number(n) => sheet.write_number_with_format(row, col, *n as f64, &cell)?,
            };
        }
    }
    row += 2;
    sheet.write_string(row, 0, LEGEND)?;
    sheet.set_freeze_panes(header_row + 1, 0)?;
    let offset = u16::from(export.is_provisional());
    for (col, width) in [(0, 22.0), (1, 10.0), (2, 16.0), (3, 32.0)] {
        sheet.set_column_width(col + offset, width)?;
    }
    if export.is_provisional() {
        sheet.set_column_width(0, 12.0)?;
    }
    Ok(book.save_to_buffer()?)
}

/// A4 landscape, in points.
const PAGE: (f32, f32) = (842.0, 595.0);
const MARGIN: f32 = 40.0;
const ROW: f32 = 15.0;
const SIZE: f32 = 9.0;
/// Helvetica's advance widths are about this many ems a character on average: enough to
/// wrap the legend.
const EM: f32 = 0.556;

/// About how wide `s` is in Helvetica at `size` (bold is a little wider, inside the gap
/// left between columns): digits are exactly 0.556 em, capitals about 0.7, lower case
/// about 0.5.
fn width(s: &str, size: f32) -> f32 {
    let ems: f32 = s
        .chars()
        .map(|c| match c {
            '0'..='9' => 0.556,
            'A'..='Z' => 0.7,
            ' ' | '.' | ',' | ':' | ';' | '-' | '/' | 'i' | 'l' | 'j' | 't' | 'f' | 'r' => 0.3,
            'm' | 'w' => 0.83,
            _ => 0.53,
        })
        .sum();
    ems * size
}

/// The list as a PDF: A4 landscape pages, the heading on each, the legend on the last.
/// Text is Helvetica (a font every PDF reader has, not embedded) in WinAnsi, so
/// characters outside Latin-1 print as '?'.
pub(crate) fn pdf(export: &Export, heading: &Heading) -> Vec<u8> {
    let header = header(export);
    let rows: Vec<Vec<String>> =
        export.lines.iter().map(|l| cells(export, heading, l).iter().map(Cell::text).collect()).collect();
    // Each column as wide as its widest text (a name at most 40 characters), plus a gap.
    let widths: Vec<f32> = (0..header.len())
        .map(|c| {
            let cut = |t: &String| width(&t.chars().take(40).collect::<String>(), SIZE);
            rows.iter().map(|r| cut(&r[c])).chain([cut(&header[c]) * 1.1]).fold(0.0, f32::max) + 12.0
        })
        .collect();
    let numeric: Vec<bool> = (0..header.len())
        .map(|c| !rows.is_empty() && rows.iter().all(|r| r[c].is_empty() || r[c].parse::<i64>().is_ok()))
        .collect();
    let notice = provisional_notice(export);
    let top_lines = 4 + usize::from(notice.is_some());
    let per_page = (((PAGE.1 - 2.0 * MARGIN) / ROW) as usize).saturating_sub(top_lines + 4).max(1);
    let pages: Vec<&[Vec<String>]> = if rows.is_empty() { vec![&rows[..]] } else { rows.chunks(per_page).collect() };

    let mut pdf = Pdf::new();
    let (catalog, tree, regular, bold) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4));
    let page_ids: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(5 + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(pages.len() as i32);
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    for (i, chunk) in pages.iter().enumerate() {
        let (page_id, content_id) = (page_ids[i], Ref::new(6 + 2 * i as i32));
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1));
        page.parent(tree);
        page.contents(content_id);
        page.resources().fonts().pair(Name(b"F1"), regular).pair(Name(b"F2"), bold);
        page.finish();

        let mut c = Content::new();
        let mut y = PAGE.1 - MARGIN;
        text(&mut c, b"F2", 14.0, MARGIN, y, &heading.title);
        for line in [&heading.scope, &format!("Tanggal: {}", heading.date), &format!("Formasi: {}", heading.formation)]
        {
            y -= ROW;
            text(&mut c, b"F1", SIZE + 1.0, MARGIN, y, line);
        }
        if let Some(notice) = &notice {
            y -= ROW;
            c.set_fill_rgb(0.8, 0.0, 0.0);
            text(&mut c, b"F2", SIZE + 1.0, MARGIN, y, notice);
            c.set_fill_rgb(0.0, 0.0, 0.0);
        }
        y -= ROW * 1.5;
        row_text(&mut c, b"F2", y, &header, &widths, &numeric);
        c.set_line_width(0.5);
        c.move_to(MARGIN, y - 4.0);
        c.line_to(PAGE.0 - MARGIN, y - 4.0);
        c.stroke();
        for r in *chunk {
            y -= ROW;
            row_text(&mut c, b"F1", y, r, &widths, &numeric);
        }
        if i + 1 == pages.len() {
            y -= ROW * 1.5;
            // The legend, wrapped to the page's width.
            let per_line = ((PAGE.0 - 2.0 * MARGIN) / (SIZE * EM)) as usize;
            for part in wrap(LEGEND, per_line) {
                text(&mut c, b"F1", SIZE, MARGIN, y, &part);
                y -= ROW * 0.9;
            }
        }
        let footer = format!("Halaman {} dari {}", i + 1, pages.len());
        text(&mut c, b"F1", SIZE, PAGE.0 - MARGIN - width(&footer, SIZE), MARGIN / 2.0, &footer);
        pdf.stream(content_id, &c.finish());
    }
    pdf.finish()
}

fn row_text(c: &mut Content, font: &[u8], y: f32, cells: &[String], widths: &[f32], numeric: &[bool]) {
    let mut x = MARGIN;
    for ((cell, column), number) in cells.iter().zip(widths).zip(numeric) {
        let shown: String = cell.chars().take(40).collect();
        let at = if *number { x + column - 12.0 - width(&shown, SIZE) } else { x };
        text(c, font, SIZE, at, y, &shown);
        x += column;
    }
}

fn text(c: &mut Content, font: &[u8], size: f32, x: f32, y: f32, s: &str) {
    c.begin_text();
    c.set_font(Name(font), size);
    c.next_line(x, y);
    c.show(Str(&win_ansi(s)));
    c.end_text();
}

/// `s` in WinAnsi as far as it goes: Latin-1 keeps its bytes, anything else is '?'.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars().map(|ch| u8::try_from(u32::from(ch)).ok().filter(|b| *b >= 0x20).unwrap_or(b'?')).collect()
}

/// Words of `s` in lines of at most `width` characters.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in s.split_whitespace() {
        let last = lines.last_mut().expect("one line at least");
        if !last.is_empty() && last.len() + 1 + word.len() > width {
            lines.push(word.to_owned());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_outside_latin_1_prints_as_a_question_mark_and_lines_wrap_at_words() {
        assert_eq!(win_ansi("Ani (Ñ) 漢"), b"Ani (\xd1) ?".to_vec());
        assert_eq!(wrap("satu dua tiga empat", 9), ["satu dua", "tiga", "empat"]);
    }
}
