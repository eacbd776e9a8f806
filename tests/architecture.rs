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
        "crypto" | "interchange" => 1,
        "storage" => 2,
        "service" => 3,
        "views" | "shell" | "editor" | "metrics" | "net" | "config" | "telemetry"
        | "checkpoint" => 4,
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

/// The module path of a file under `src/` (`storage/sqlite/mod.rs` is
/// `storage::sqlite`, `lib.rs` the crate root).
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .map(|c| c.trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of `text` without its line comments (doc comments name paths
/// that are not uses).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path `code` names from `crate::` or `super::`, groups expanded:
/// each as (how many `super`s, `None` for `crate`; the segments after).
fn named_paths(code: &str) -> Vec<(Option<usize>, Vec<String>)> {
    fn ident(s: &str) -> (&str, &str) {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        (&s[..end], &s[end..])
    }
    /// Parses a path tree at `s` after `prefix`; returns the rest.
    fn tree<'a>(s: &'a str, prefix: &[String], out: &mut Vec<Vec<String>>) -> &'a str {
        let s = s.trim_start();
        if let Some(group) = s.strip_prefix('{') {
            let mut rest = group;
            loop {
                rest = tree(rest, prefix, out).trim_start();
                match rest.chars().next() {
                    Some(',') => rest = &rest[1..],
                    Some('}') => return &rest[1..],
                    _ => return rest,
                }
            }
        }
        let (name, rest) = ident(s);
        if name.is_empty() || name == "self" {
            out.push(prefix.to_vec());
            return rest;
        }
        let mut path = prefix.to_vec();
        path.push(name.to_owned());
        match rest.strip_prefix("::") {
            Some(more) => tree(more, &path, out),
            None => {
                out.push(path);
                rest
            }
        }
    }
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for (at, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        let before = at.checked_sub(1).map(|i| bytes[i] as char);
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let (mut supers, mut rest) = if code[at..].starts_with("crate::") {
            (None, &code[at + "crate::".len()..])
        } else {
            (Some(0), &code[at..])
        };
        if supers.is_some() {
            let mut n = 0;
            while let Some(more) = rest.strip_prefix("super::") {
                n += 1;
                rest = more;
            }
            supers = Some(n);
        }
        let mut paths = Vec::new();
        tree(rest, &[], &mut paths);
        found.extend(paths.into_iter().map(|p| (supers, p)));
    }
    found
}

#[test]
fn no_two_files_import_each_other_round_a_cycle() {
    use std::collections::{BTreeMap, BTreeSet};
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // Module path -> file.
    let mut by_module: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        if relative == Path::new("main.rs") {
            continue;
        }
        by_module.insert(module_of(relative), relative.display().to_string());
    }
    // A file's edges to the files it uses; a module using one of its own
    // descendants is the module tree itself, not an import cycle.
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, file) in &by_module {
        let text = std::fs::read_to_string(src.join(file)).expect("read");
        let code = without_comments(without_tests(&text));
        for (supers, path) in named_paths(&code) {
            let mut full = match supers {
                None => Vec::new(),
                Some(n) => module[..module.len().saturating_sub(n)].to_vec(),
            };
            full.extend(path);
            let target = (1..=full.len())
                .rev()
                .find_map(|n| by_module.get(&full[..n]).map(|f| (n, f)));
            let Some((n, target)) = target else { continue };
            let descendant = full[..n].starts_with(module) && n > module.len();
            if target != file && !descendant {
                edges
                    .entry(file.clone())
                    .or_default()
                    .insert(target.clone());
            }
        }
    }
    // Depth-first search for a path back to where it started.
    fn cycle_from(
        start: &str,
        at: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        seen: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        for next in edges.get(at).into_iter().flatten() {
            if next == start {
                let mut found = path.clone();
                found.push(start.to_owned());
                return Some(found);
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if let Some(found) = cycle_from(start, next, edges, seen, path) {
                    return Some(found);
                }
                path.pop();
            }
        }
        None
    }
    let mut cycles = Vec::new();
    for file in edges.keys() {
        let mut path = vec![file.clone()];
        if let Some(cycle) = cycle_from(file, file, &edges, &mut BTreeSet::new(), &mut path) {
            cycles.push(cycle.join(" -> "));
        }
    }
    assert!(edges.len() > 50, "only {} files with imports", edges.len());
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_checker_expands_groups_and_climbs_supers() {
    let found = named_paths(
        "use super::super::chain::{ts, Head};\nuse crate::{a::{b, c::D}, e};\nx = crate::f::g();",
    );
    let strings: Vec<String> = found
        .iter()
        .map(|(supers, p)| format!("{supers:?} {}", p.join("::")))
        .collect();
    assert_eq!(
        strings,
        [
            "None a::b",
            "None a::c::D",
            "None e",
            "None f::g",
            "Some(2) chain::ts",
            "Some(2) chain::Head",
        ]
    );
}
