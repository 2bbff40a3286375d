//! The shape of the tree, checked: no module imports one from a layer above it, and no
//! source file is over 600 lines (issue 15). Data flows one way; so do imports.

use std::collections::BTreeMap;
use std::path::Path;

/// Lowest first. A module may use its own layer and those below it.
const LAYERS: &[&[&str]] = &[
    &["sanitize", "secret", "files", "cli", "timing"],
    &["model"],
    &["record", "signature", "serial"],
    &["journal", "store"],
    &["ingest", "api", "bus", "snapshot"],
    &[
        "forward",
        "reply",
        "headless",
        "demo",
        "alerts",
        "reconcile",
        "outbox",
    ],
    &["attach"],
    &["receiver", "metrics"],
    &["config", "service"],
    &["tui", "cmd"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::name` references outside comments.
fn uses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn no_module_imports_one_from_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut up: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "main" || module == "lib" {
            continue;
        }
        let own = layer(&module).unwrap_or_else(|| panic!("{module} has no layer: add it"));
        for used in uses(&std::fs::read_to_string(file).unwrap()) {
            let theirs = layer(&used).unwrap_or_else(|| panic!("{used} has no layer: add it"));
            if theirs > own {
                up.entry(rel.display().to_string()).or_default().push(used);
            }
        }
    }
    assert!(up.is_empty(), "imports that go up a layer: {up:#?}");
}

#[test]
fn no_source_file_is_over_600_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut long: Vec<(usize, String)> = files
        .iter()
        .map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n, f.strip_prefix(&src).unwrap().display().to_string())
        })
        .filter(|(n, _)| *n > 600)
        .collect();
    long.sort();
    assert!(long.is_empty(), "over 600 lines: {long:?}");
}
