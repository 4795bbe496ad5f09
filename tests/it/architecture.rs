//! The shape of `src/` that ARCHITECTURE.md promises: no module imports one that imports it
//! back (among the top-level modules, and among the modules of each folder; a folder's
//! `mod.rs` is its index, whose shared types its children may use), and no function longer
//! than 150 lines. Read from the source text: `crate::`, `super::` and `self::` paths
//! and `use child::...` lines, outside comments, strings and the `#[cfg(test)]` module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest function `src/` may have.
const MAX_FN_LINES: usize = 150;

/// A module path: `["model", "front", "v2"]`; the crate root is `[]`.
type ModPath = Vec<String>;

/// Every module file under `src` with its module path (`main.rs`, the binary, is left out).
fn modules(src: &Path) -> BTreeMap<ModPath, PathBuf> {
    fn walk(dir: &Path, at: &[String], out: &mut BTreeMap<ModPath, PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            let mut m = at.to_vec();
            if p.is_dir() {
                m.push(stem);
                walk(&p, &m, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                match stem.as_str() {
                    "mod" | "lib" => {}
                    "main" if at.is_empty() => continue,
                    _ => m.push(stem),
                }
                out.insert(m, p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, &[], &mut out);
    out
}

/// The code of a file without comments, string and char literals, and its test module.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let b = text.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\') => {
                // A char literal ('x', '\n'); lifetimes ('a) are left alone.
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The paths a `a::b::{c, d::e}` tail names, each as segments (`{` groups expanded).
fn expand(s: &str) -> Vec<Vec<String>> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix('{') {
        let mut depth = 0;
        let mut parts = Vec::new();
        let mut start = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    parts.push(&rest[start..i]);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&rest[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return parts
            .into_iter()
            .filter(|p| !p.trim().is_empty())
            .flat_map(expand)
            .collect();
    }
    let id = ident_at(s);
    if id.is_empty() {
        return vec![Vec::new()];
    }
    let rest = &s[id.len()..];
    match rest.strip_prefix("::") {
        Some(r) => expand(r)
            .into_iter()
            .map(|mut p| {
                p.insert(0, id.to_string());
                p
            })
            .collect(),
        None => vec![vec![id.to_string()]],
    }
}

/// The absolute paths a module's code refers to.
fn references(
    m: &ModPath,
    is_dir_module: bool,
    code: &str,
    known: &BTreeSet<ModPath>,
) -> Vec<ModPath> {
    let mut out = Vec::new();
    // The module that `super` names from here: a `mod.rs` is its folder's module.
    let parent: ModPath = m[..m.len().saturating_sub(1)].to_vec();
    for (i, _) in code.match_indices("::") {
        let before = &code[..i];
        let word_start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |j| j + 1);
        let word = &before[word_start..];
        // Only the first `::` of a path: the word must not itself follow `::`.
        if before[..word_start].ends_with("::") {
            continue;
        }
        let base: ModPath = match word {
            "crate" => Vec::new(),
            "super" => parent.clone(),
            "self" => m.clone(),
            _ => {
                // `use child::...` inside a folder module names its own submodule.
                let mut child = m.clone();
                child.push(word.to_string());
                if is_dir_module && known.contains(&child) {
                    m.clone()
                } else {
                    continue;
                }
            }
        };
        let tail_start = if matches!(word, "crate" | "super" | "self") {
            i + 2
        } else {
            word_start
        };
        for p in expand(&code[tail_start..]) {
            let mut abs = base.clone();
            abs.extend(p.into_iter().filter(|s| s != "self"));
            out.push(abs);
        }
    }
    out
}

/// The edges between sibling modules: for a reference from `from` to `to`, the edge joins
/// their first differing ancestors below the deepest module both are in. A reference to or
/// from that module's own file (its `mod.rs`: the folder's index) is no edge.
type Graphs = BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>>;

fn graphs(src: &Path) -> Graphs {
    let mods = modules(src);
    let known: BTreeSet<ModPath> = mods.keys().cloned().collect();
    let mut g: Graphs = BTreeMap::new();
    for (m, file) in &mods {
        let is_dir_module = file.file_stem().is_some_and(|s| s == "mod" || s == "lib");
        let text = std::fs::read_to_string(file).unwrap();
        for to in references(m, is_dir_module, &code(&text), &known) {
            // The longest module prefix of `to` that is a module.
            let mut target = to.clone();
            while !target.is_empty() && !known.contains(&target) {
                target.pop();
            }
            let common = m.iter().zip(&target).take_while(|(a, b)| a == b).count();
            let scope: ModPath = m[..common].to_vec();
            if let (Some(a), Some(b)) = (m.get(common), target.get(common)) {
                g.entry(scope)
                    .or_default()
                    .entry(a.clone())
                    .or_default()
                    .insert(b.clone());
            }
        }
    }
    g
}

/// A cycle of the graph, if it has one (depth-first search).
fn cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut c = stack[from..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if !state.contains_key(n.as_str())
            && let Some(c) = visit(n, g, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// Every import cycle, one per folder that has one, as text.
fn cycles(src: &Path) -> Vec<String> {
    graphs(src)
        .iter()
        .filter_map(|(scope, g)| {
            cycle(g).map(|c| {
                let at = if scope.is_empty() {
                    "src/".to_string()
                } else {
                    format!("src/{}/", scope.join("/"))
                };
                format!("{at}: {}", c.join(" -> "))
            })
        })
        .collect()
}

/// Functions longer than `MAX_FN_LINES`: `file:line name (N lines)`.
fn long_functions(src: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for file in modules(src).values() {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            let indent = &l[..l.len() - t.len()];
            let t = t
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ")
                .trim_start_matches("const ");
            let Some(rest) = t.strip_prefix("fn ") else {
                continue;
            };
            if l.trim_end().ends_with(';') {
                continue;
            }
            let close = format!("{indent}}}");
            let end = lines[i + 1..]
                .iter()
                .position(|x| x.starts_with(&close) && x.trim_end() == close)
                .map_or(lines.len(), |j| i + 1 + j);
            let n = end - i + 1;
            if n > MAX_FN_LINES {
                out.push(format!(
                    "{}:{} {} ({n} lines)",
                    file.display(),
                    i + 1,
                    ident_at(rest)
                ));
            }
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let found = cycles(&src());
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
    // The graph is really read: the pipeline's arrows are there.
    let g = graphs(&src());
    let top = &g[&Vec::new()];
    for (a, b) in [
        ("compile", "model"),
        ("model", "input"),
        ("objects", "model"),
    ] {
        assert!(top[a].contains(b), "{a} -> {b} not seen: {top:?}");
    }
}

/// ARCHITECTURE.md's module table: module → the modules it may import (`None`: any).
fn documented_imports() -> BTreeMap<String, Option<BTreeSet<String>>> {
    let md = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
        .unwrap();
    let ticked = |cell: &str| -> BTreeSet<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(|s| s.split("::").next().unwrap_or(s).to_string())
            .collect()
    };
    let mut out = BTreeMap::new();
    let table = md
        .split("## Modules")
        .nth(1)
        .unwrap()
        .split("\n### ")
        .next()
        .unwrap();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let module = cells[1].trim_matches('`').to_string();
        let allowed = match cells[3] {
            "anything" | "everything above" => None,
            c => Some(ticked(c)),
        };
        out.insert(module, allowed);
    }
    out
}

#[test]
fn architecture_md_lists_what_each_module_imports() {
    let doc = documented_imports();
    let g = graphs(&src());
    let top = &g[&Vec::new()];
    let actual: BTreeSet<String> = modules(&src())
        .keys()
        .filter_map(|m| m.first().cloned())
        .collect();
    let listed: BTreeSet<String> = doc.keys().cloned().collect();
    assert_eq!(
        listed, actual,
        "ARCHITECTURE.md's table and src/ have different modules"
    );
    let mut wrong = Vec::new();
    for (m, allowed) in &doc {
        let Some(allowed) = allowed else { continue };
        let uses = top.get(m).cloned().unwrap_or_default();
        if &uses != allowed {
            wrong.push(format!(
                "{m}: the code imports {uses:?}, ARCHITECTURE.md says {allowed:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_function_is_longer_than_150_lines() {
    let found = long_functions(&src());
    assert!(found.is_empty(), "split these:\n{}", found.join("\n"));
}

/// The checker itself, on a tree made for it: a cycle between siblings of a folder, one at
/// the top through a nested path, and a function of 151 lines, are each found; a folder's
/// index used by its children is no cycle.
#[test]
fn the_checks_find_cycles_and_long_functions() {
    let dir = std::env::temp_dir().join(format!("emqx-render-arch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let write = |p: &str, s: &str| {
        let f = dir.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, s).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\npub mod m;\n");
    write("a.rs", "use crate::b::X;\n// crate::m is only a comment\n");
    write("b.rs", "pub struct X;\nfn f() { let _ = \"crate::a\"; }\n");
    write("m/mod.rs", "pub mod p;\npub mod q;\npub struct T;\n");
    write("m/p.rs", "use super::q::Y;\n");
    write("m/q.rs", "use crate::m::{T, p};\npub struct Y;\n");
    assert_eq!(cycles(&dir), vec!["src/m/: p -> q -> p".to_string()]);
    // A top-level cycle through a nested path; a child using its folder's index, which uses it.
    write("b.rs", "pub struct X;\nuse crate::{m::T, a};\n");
    write("m/q.rs", "pub struct Y;\n");
    write(
        "m/mod.rs",
        "pub mod p;\npub mod q;\npub struct T;\nuse p::Z;\n",
    );
    write("m/p.rs", "pub struct Z;\nuse super::T;\n");
    assert_eq!(cycles(&dir), vec!["src/: a -> b -> a".to_string()]);
    // A cycle between nested folders' modules, seen at the folder both are in.
    write("m/q.rs", "use crate::m::p::Z;\n");
    write("m/p/mod.rs", "pub mod r;\n");
    write("m/p/r.rs", "use crate::m::q;\n");
    let _ = std::fs::remove_file(dir.join("m/p.rs"));
    let found = cycles(&dir);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[1], "src/m/: p -> q -> p", "{found:?}");
    let body = "    x();\n".repeat(MAX_FN_LINES - 1);
    write("b.rs", &format!("fn long() {{\n{body}}}\nfn ok() {{\n}}\n"));
    let long = long_functions(&dir);
    assert_eq!(long.len(), 1, "{long:?}");
    assert!(long[0].ends_with("long (151 lines)"), "{long:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
