//! A bank written in other systems' formats: a QTI 3.0 package and Moodle XML.
//!
//! Both carry what the bank hash covers (the bank's name and version, each item's id,
//! section, topic, difficulty, stem, options, key, pinning and images, by name) in the
//! places the format has for them, so that ujian's own importers read an export back to
//! the same bank hash. Texts are written exactly: line breaks as `<br/>`, and marked
//! `xml:space="preserve"` in QTI, so that no space is lost on the way back. The
//! explanation goes where the format keeps feedback (QTI modal feedback, Moodle general
//! feedback).

use std::fmt::Write as _;
use std::io::Write as _;

use item_bank::{Bank, Item, Key};

use crate::xml::escape;

/// Text as HTML that ujian reads back exactly: escaped, line breaks as `<br/>`.
fn exact_html(text: &str) -> String {
    escape(text).replace('\n', "<br/>")
}

/// A QTI identifier may not start with a digit or `-`; ujian ids may. The id itself is
/// kept in the item's `title`.
fn identifier(id: &str) -> String {
    if id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') { id.to_owned() } else { format!("item-{id}") }
}

const QTI3_NS: &str = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0";

/// The bank as a QTI 3.0 content package (zip): `imsmanifest.xml` with the bank's name,
/// title and version as LOM metadata, `test.xml` with one section per ujian section and
/// one inside it per topic, one file per item under `items/` and the images under
/// `images/`. The same bank gives the same bytes.
pub fn qti3(bank: &Bank) -> Vec<u8> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut resources = String::new();
    let mut deps = String::new();
    for item in bank.items() {
        let path = format!("items/{}.xml", item.id());
        files.push((path.clone(), qti3_item(bank, item).into_bytes()));
        let ident = identifier(item.id().as_str());
        let _ = writeln!(deps, "      <dependency identifierref=\"res-{ident}\"/>");
        let _ = writeln!(
            resources,
            "    <resource identifier=\"res-{ident}\" type=\"imsqti_item_xmlv3p0\" href=\"{path}\">"
        );
        let _ = writeln!(resources, "      <file href=\"{path}\"/>");
        for image in images(item) {
            let _ = writeln!(resources, "      <file href=\"images/{}\"/>", escape(image));
        }
        resources.push_str("    </resource>\n");
    }
    for (name, bytes) in &bank.source().assets {
        files.push((format!("images/{name}"), bytes.clone()));
    }
    files.push(("test.xml".to_owned(), qti3_test(bank).into_bytes()));
    let manifest = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" xmlns:imsmd="http://ltsc.ieee.org/xsd/LOM" identifier="ujian-{name}">
  <metadata>
    <schema>QTI Package</schema>
    <schemaversion>3.0.0</schemaversion>
    <imsmd:lom>
      <imsmd:general>
        <imsmd:identifier><imsmd:catalog>ujian</imsmd:catalog><imsmd:entry>{name}</imsmd:entry></imsmd:identifier>
        <imsmd:title><imsmd:string>{title}</imsmd:string></imsmd:title>
      </imsmd:general>
      <imsmd:lifeCycle><imsmd:version><imsmd:string>{version}</imsmd:string></imsmd:version></imsmd:lifeCycle>
    </imsmd:lom>
  </metadata>
  <organizations/>
  <resources>
    <resource identifier="res-test" type="imsqti_test_xmlv3p0" href="test.xml">
      <file href="test.xml"/>
{deps}    </resource>
{resources}  </resources>
</manifest>
"#,
        name = escape(bank.name()),
        title = escape(bank.title()),
        version = escape(bank.version()),
    );
    files.insert(0, ("imsmanifest.xml".to_owned(), manifest.into_bytes()));
    zip_files(&files)
}

fn images(item: &Item) -> Vec<&str> {
    let mut out: Vec<&str> = item.image().into_iter().chain(item.options().iter().filter_map(|o| o.image())).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Files in a zip with no time stamps, so that the archive depends only on the bank.
fn zip_files(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in files {
        // Writing to memory fails only on a name written twice, which item ids rule out.
        let wrote = zip.start_file(name.as_str(), options).and_then(|()| zip.write_all(bytes).map_err(Into::into));
        debug_assert!(wrote.is_ok(), "zip entry {name}: {wrote:?}");
    }
    zip.finish().map(std::io::Cursor::into_inner).unwrap_or_default()
}

fn qti3_test(bank: &Bank) -> String {
    let mut out = String::new();
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<qti-assessment-test xmlns="{QTI3_NS}" identifier="{}" title="{}" tool-name="ujian" tool-version="{}">"#,
        escape(&identifier(bank.name())),
        escape(bank.title()),
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(
        "  <qti-test-part identifier=\"part-1\" navigation-mode=\"nonlinear\" submission-mode=\"simultaneous\">\n",
    );
    // Runs of one section, and inside them runs of one topic, keep the bank's order.
    let items = bank.items();
    let mut i = 0;
    let mut n = 0;
    while i < items.len() {
        let section = items[i].section();
        n += 1;
        let _ = writeln!(
            out,
            "    <qti-assessment-section identifier=\"s{n}\" title=\"{}\" visible=\"true\">",
            escape(section.as_str())
        );
        while i < items.len() && items[i].section() == section {
            let topic = items[i].topic();
            n += 1;
            let _ = writeln!(
                out,
                "      <qti-assessment-section identifier=\"s{n}\" title=\"{}\" visible=\"true\">",
                escape(topic.as_str())
            );
            while i < items.len() && items[i].section() == section && items[i].topic() == topic {
                let item = &items[i];
                let category = item.difficulty().map(|d| format!(" category=\"difficulty-{d}\"")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "        <qti-assessment-item-ref identifier=\"{}\" href=\"items/{}.xml\"{category}/>",
                    identifier(item.id().as_str()),
                    item.id()
                );
                i += 1;
            }
            out.push_str("      </qti-assessment-section>\n");
        }
        out.push_str("    </qti-assessment-section>\n");
    }
    out.push_str("  </qti-test-part>\n</qti-assessment-test>\n");
    out
}

fn qti3_item(bank: &Bank, item: &Item) -> String {
    let mut out = String::new();
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<qti-assessment-item xmlns="{QTI3_NS}" identifier="{}" title="{}" adaptive="false" time-dependent="false" xml:lang="{}">"#,
        identifier(item.id().as_str()),
        item.id(),
        escape(bank.language())
    );
    out.push_str(
        "  <qti-response-declaration identifier=\"RESPONSE\" cardinality=\"single\" base-type=\"identifier\">\n",
    );
    let template = match item.key() {
        Key::Single(label) => {
            let _ = writeln!(out, "    <qti-correct-response><qti-value>{label}</qti-value></qti-correct-response>");
            "match_correct"
        }
        Key::Weighted(points) => {
            out.push_str("    <qti-mapping default-value=\"0\">\n");
            for (opt, p) in item.options().iter().zip(points) {
                let _ = writeln!(out, "      <qti-map-entry map-key=\"{}\" mapped-value=\"{}\"/>", opt.label(), p.0);
            }
            out.push_str("    </qti-mapping>\n");
            "map_response"
        }
    };
    out.push_str("  </qti-response-declaration>\n");
    out.push_str("  <qti-outcome-declaration identifier=\"SCORE\" cardinality=\"single\" base-type=\"float\"/>\n");
    if item.explanation().is_some() {
        out.push_str(
            "  <qti-outcome-declaration identifier=\"FEEDBACK\" cardinality=\"single\" base-type=\"identifier\"/>\n",
        );
    }
    out.push_str("  <qti-item-body>\n");
    let _ = writeln!(out, "    <div xml:space=\"preserve\">{}</div>", exact_html(item.stem()));
    if let Some(image) = item.image() {
        let _ = writeln!(out, "    <p><img src=\"../images/{}\" alt=\"\"/></p>", escape(image));
    }
    let _ = writeln!(
        out,
        "    <qti-choice-interaction response-identifier=\"RESPONSE\" shuffle=\"{}\" max-choices=\"1\">",
        !item.pin_options()
    );
    for opt in item.options() {
        let image = opt.image().map(|i| format!("<img src=\"../images/{}\" alt=\"\"/>", escape(i))).unwrap_or_default();
        let _ = writeln!(
            out,
            "      <qti-simple-choice identifier=\"{}\" xml:space=\"preserve\">{}{image}</qti-simple-choice>",
            opt.label(),
            exact_html(opt.text())
        );
    }
    out.push_str("    </qti-choice-interaction>\n  </qti-item-body>\n");
    let _ = writeln!(
        out,
        "  <qti-response-processing template=\"https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/{template}.xml\"/>"
    );
    if let Some(e) = item.explanation() {
        let _ = writeln!(
            out,
            "  <qti-modal-feedback outcome-identifier=\"FEEDBACK\" identifier=\"EXPLANATION\" show-hide=\"hide\"><qti-content-body><div xml:space=\"preserve\">{}</div></qti-content-body></qti-modal-feedback>",
            exact_html(e)
        );
    }
    out.push_str("</qti-assessment-item>\n");
    out
}

/// CDATA holding `text`; a `]]>` inside is split across two sections.
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// The bank as Moodle XML: one category per topic (`$course$/top/TOPIC`) whose
/// description names the bank, `multichoice` questions with the item id as name, the
/// options' points as fractions, the explanation as general feedback, and the section,
/// difficulty and kind as `ujian-` tags. Images are embedded as base64 `file` elements.
pub fn moodle_xml(bank: &Bank) -> String {
    use base64::Engine as _;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>\n");
    let info = format!("ujian-bank: {}\nujian-version: {}\nujian-title: {}", bank.name(), bank.version(), bank.title());
    let mut topic: Option<&str> = None;
    let rich = |text: &str, image: Option<&str>| -> String {
        match image {
            None => format!("format=\"plain_text\"><text>{}</text>", escape(text)),
            Some(name) => {
                let bytes = bank.asset(name).unwrap_or_default();
                format!(
                    "format=\"html\"><text>{}</text><file name=\"{}\" path=\"/\" encoding=\"base64\">{}</file>",
                    cdata(&format!("{}<img src=\"@@PLUGINFILE@@/{}\" alt=\"\">", exact_html(text), escape(name))),
                    escape(name),
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                )
            }
        }
    };
    for item in bank.items() {
        if topic != Some(item.topic().as_str()) {
            topic = Some(item.topic().as_str());
            let _ = writeln!(
                out,
                "  <question type=\"category\">\n    <category><text>$course$/top/{}</text></category>\n    <info format=\"plain_text\"><text>{}</text></info>\n  </question>",
                item.topic(),
                escape(&info)
            );
        }
        out.push_str("  <question type=\"multichoice\">\n");
        let _ = writeln!(out, "    <name><text>{}</text></name>", escape(item.id().as_str()));
        let _ = writeln!(out, "    <questiontext {}</questiontext>", rich(item.stem(), item.image()));
        if let Some(e) = item.explanation() {
            let _ = writeln!(
                out,
                "    <generalfeedback format=\"plain_text\"><text>{}</text></generalfeedback>",
                escape(e)
            );
        }
        out.push_str("    <defaultgrade>1</defaultgrade>\n    <single>true</single>\n");
        let _ = writeln!(out, "    <shuffleanswers>{}</shuffleanswers>", u8::from(!item.pin_options()));
        out.push_str("    <answernumbering>ABCD</answernumbering>\n");
        for (i, opt) in item.options().iter().enumerate() {
            let fraction = match item.key() {
                Key::Single(label) => {
                    if label.index() == i {
                        100
                    } else {
                        0
                    }
                }
                Key::Weighted(points) => points.get(i).map_or(0, |p| p.0),
            };
            let _ = writeln!(out, "    <answer fraction=\"{fraction}\" {}</answer>", rich(opt.text(), opt.image()));
        }
        out.push_str("    <tags>\n");
        let mut tags = vec![format!("ujian-section:{}", item.section())];
        if let Some(d) = item.difficulty() {
            tags.push(format!("ujian-difficulty:{d}"));
        }
        if matches!(item.key(), Key::Weighted(_)) {
            tags.push("ujian-weighted".to_owned());
        }
        for t in tags {
            let _ = writeln!(out, "      <tag><text>{}</text></tag>", escape(&t));
        }
        out.push_str("    </tags>\n  </question>\n");
    }
    out.push_str("</quiz>\n");
    out
}
