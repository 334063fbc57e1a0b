//! The shape ARCHITECTURE.md promises, checked on the source: no file in `server` or
//! `store` over 600 lines, no import cycle among either crate's modules, and axum only in
//! the HTTP layer, the CLI and `main`. A newcomer who breaks one learns it here, not in
//! review.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().and_then(Path::parent).expect("crates/server is two levels down")
}

fn crate_src(name: &str) -> PathBuf {
    workspace().join("crates").join(name).join("src")
}

/// A path as a reader finds it from the repository's root.
fn shown(path: &Path) -> String {
    path.strip_prefix(workspace()).unwrap_or(path).display().to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> =
        fs::read_dir(dir).expect("read a source folder").map(|e| e.expect("read a folder entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A crate's top-level modules and the files each one is made of (`foo.rs`, or every file
/// under `foo/`). The crate roots (`lib.rs`, `main.rs`) declare modules and belong to none.
fn modules(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut map: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    for file in files {
        let rel = file.strip_prefix(src).expect("a file under src");
        let first = rel.components().next().expect("a relative path").as_os_str().to_string_lossy().into_owned();
        let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
        if rel.components().count() == 1 && (name == "lib" || name == "main") {
            continue;
        }
        map.entry(name).or_default().push(file);
    }
    map
}

/// The text without `//` comments, so that a doc link is not counted as a dependency.
fn code_of(path: &Path) -> String {
    let text = fs::read_to_string(path).expect("read a source file");
    text.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

fn ident_at(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules a piece of code names through `crate::`, including the grouped
/// form `use crate::{a::X, b};`.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start => {
                        refs.insert(ident_at(&group[i..]).to_owned());
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            refs.insert(ident_at(rest).to_owned());
        }
    }
    refs
}

/// Module → the other modules it uses.
fn import_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    mods.iter()
        .map(|(name, files)| {
            let mut uses = BTreeSet::new();
            for file in files {
                uses.extend(crate_refs(&code_of(file)));
            }
            uses.retain(|u| u != name && mods.contains_key(u));
            (name.clone(), uses)
        })
        .collect()
}

/// The strongly connected components with more than one module (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in &self.graph[v] {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn the_cycle_finder_sees_a_cycle_through_a_grouped_use() {
    let refs = crate_refs("use crate::{a::X, b};\nfn f() { crate::c::go(); }");
    assert_eq!(refs, ["a", "b", "c"].map(String::from).into());
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), ["b".to_owned()].into()),
        ("b".to_owned(), ["c".to_owned()].into()),
        ("c".to_owned(), ["a".to_owned()].into()),
        ("d".to_owned(), ["a".to_owned()].into()),
    ]
    .into();
    assert_eq!(cycles(&graph), vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]);
}

#[test]
fn no_import_cycle_among_the_modules_of_server_or_store() {
    for krate in ["server", "store"] {
        let graph = import_graph(&crate_src(krate));
        let found = cycles(&graph);
        assert!(found.is_empty(), "import cycles among {krate}'s modules: {found:?}");
    }
}

#[test]
fn no_file_in_server_or_store_is_over_600_lines() {
    let mut long = Vec::new();
    for krate in ["server", "store"] {
        let mut files = Vec::new();
        rust_files(&crate_src(krate), &mut files);
        for file in files {
            let lines = fs::read_to_string(&file).expect("read a source file").lines().count();
            if lines > MAX_LINES {
                long.push(format!("{} ({lines} lines)", shown(&file)));
            }
        }
    }
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:#?}");
}

#[test]
fn only_the_http_layer_the_cli_and_main_use_axum() {
    let src = crate_src("server");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let allowed = ["http", "cli.rs", "main.rs"];
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            let first = f.strip_prefix(&src).expect("a file under src").components().next().expect("a relative path");
            !allowed.contains(&first.as_os_str().to_string_lossy().as_ref())
        })
        .filter(|f| code_of(f).contains("axum::"))
        .map(|f| shown(f))
        .collect();
    assert!(offenders.is_empty(), "modules outside http/, cli and main use axum: {offenders:#?}");
}
