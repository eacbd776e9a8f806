//! The layer picture of docs/DESIGN.md, checked: no module of `src/` uses
//! one of a higher layer, and no front end uses another. Lower to higher:
//! domain < crypto < storage < service < (views, shell, editor, the shared
//! plumbing) < (ssh, http, client, admin) < app. Test modules are not
//! counted: a test may reach anywhere.

use std::collections::BTreeSet;
use std::path::Path;

/// The layer of a top-level module of `src/`.
fn layer(module: &str) -> Option<u8> {
    Some(match module {
        "domain" => 0,
        "crypto" => 1,
        "storage" => 2,
        "service" => 3,
        "views" | "shell" | "editor" | "metrics" | "config" | "telemetry" | "checkpoint" => 4,
        "ssh" | "http" | "client" | "admin" => 5,
        "app" => 6,
        _ => return None,
    })
}

const FRONT_ENDS: &[&str] = &["ssh", "http", "client", "admin"];

/// The code of `text` before its first `#[cfg(test)]`.
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

/// Every top-level module `code` names as `crate::NAME`, also inside a
/// `use crate::{a, b::c}` group.
fn uses(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name = part.trim().split("::").next().unwrap_or("").trim();
                if !name.is_empty() {
                    found.insert(name.to_owned());
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_uses_a_higher_layer_and_no_front_end_another() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let module = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|m| m.trim_end_matches(".rs").to_owned())
            .expect("a module");
        let Some(own) = layer(&module) else {
            assert!(
                matches!(module.as_str(), "lib" | "main"),
                "{} is in no layer: add it to the picture",
                relative.display()
            );
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read");
        for used in uses(without_tests(&text)) {
            if used == module {
                continue;
            }
            let Some(theirs) = layer(&used) else {
                problems.push(format!("{} uses unknown crate::{used}", relative.display()));
                continue;
            };
            if theirs > own {
                problems.push(format!(
                    "{} (layer {own}) uses crate::{used} (layer {theirs})",
                    relative.display()
                ));
            }
            if FRONT_ENDS.contains(&module.as_str()) && FRONT_ENDS.contains(&used.as_str()) {
                problems.push(format!(
                    "front end {} uses front end crate::{used}",
                    relative.display()
                ));
            }
        }
        checked += 1;
    }
    assert!(checked > 50, "only {checked} files checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_grouped_and_nested_uses() {
    let found = uses("use crate::{domain::Login, storage};\nfn f() { crate::service::now(); }");
    let expected: BTreeSet<String> = ["domain", "service", "storage"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, expected);
}
