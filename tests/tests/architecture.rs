//! Imports flow one way inside every crate of the workspace: no source file reaches itself
//! through `crate::` or `super::` paths, directly or through other files. A cycle ties files
//! together so that neither can be read, tested or moved alone; this test names the files of
//! any cycle so the import that closes it can be found.
//!
//! A file is a module (`a/b.rs` and `a/b/mod.rs` are `a::b`); a path names the longest module
//! it starts with (an item a module re-exports from a child names that child), also when it
//! starts with the name of a module the file imported (`use crate::a::{self}`, then `a::b::f`). A
//! parent's `mod` and `pub use` of its children are not imports, and tests
//! (`#[cfg(test)] mod tests`, `tests.rs`) and comments are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CRATES: &[&str] = &[
    "fake-kit",
    "fake-aad",
    "fake-akv",
    "harness",
    "tests",
    "test-support",
    "fuzz",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `a::b` for `src/a/b.rs` and `src/a/b/mod.rs`; `None` for the crate roots and test files.
fn module_of(src: &Path, file: &Path) -> Option<Vec<String>> {
    let relative = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    let root = parts.len() == 1 && ["lib", "main"].contains(&parts[0].as_str());
    let test = parts.last().is_some_and(|p| p == "tests");
    (!root && !test && !parts.is_empty()).then_some(parts)
}

/// The code of a file: no comment lines, nothing from its unit-test module on.
fn code(text: &str) -> String {
    let cut = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    text[..cut]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The absolute paths `text` names through `crate::` and `super::` (also inside one level of
/// `{...}` groups), for a file of module `module`.
fn imports(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let start = regex::Regex::new(r"\b((?:super::)*super|crate)::").unwrap();
    let item = regex::Regex::new(r"^\w+(?:::\w+)*").unwrap();
    let mut found = Vec::new();
    for m in start.captures_iter(text) {
        let up = m[1].matches("super").count();
        let base = if up == 0 {
            &[][..]
        } else if let Some(kept) = module.len().checked_sub(up) {
            &module[..kept]
        } else {
            continue;
        };
        let rest = &text[m.get(0).unwrap().end()..];
        let heads: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group[..group.find('}').unwrap_or(group.len())]
                .split(',')
                .map(str::trim)
                .collect(),
            None => vec![rest],
        };
        for head in heads {
            if let Some(path) = item.find(head) {
                let mut absolute = base.to_vec();
                absolute.extend(path.as_str().split("::").map(str::to_owned));
                found.push(absolute);
            }
        }
    }
    found
}

/// Items a module re-exports from one of its children (`pub use error::AkvError;` in
/// `lib.rs`, `pub(crate) use journal::Journal;` in `persist/mod.rs`): `(module, item)` to the
/// child, so that `crate::AkvError` imports `error` and `crate::persist::Journal` imports
/// `persist::journal`.
fn reexports(
    src: &Path,
    modules: &BTreeMap<Vec<String>, PathBuf>,
) -> BTreeMap<(Vec<String>, String), Vec<String>> {
    let reexport =
        regex::Regex::new(r"pub(?:\(crate\))? use (\w+)::(?:\{([^}]*)\}|(\w+))").unwrap();
    let root = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .find(|f| f.is_file());
    let files = root
        .map(|f| (Vec::new(), f))
        .into_iter()
        .chain(modules.iter().map(|(m, f)| (m.clone(), f.clone())));
    let mut items = BTreeMap::new();
    for (module, file) in files {
        let text = code(&std::fs::read_to_string(file).unwrap());
        for c in reexport.captures_iter(&text) {
            let mut child = module.clone();
            child.push(c[1].to_owned());
            if !modules.contains_key(&child) {
                continue;
            }
            let names = c.get(2).or(c.get(3)).map_or("", |m| m.as_str());
            for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                items.insert((module.clone(), name.to_owned()), child.clone());
            }
        }
    }
    items
}

/// Each file's module and the modules it imports.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .filter_map(|f| module_of(src, f).map(|m| (m, f.clone())))
        .collect();
    let reexported = reexports(src, &modules);
    // The longest module the path starts with, or the child it re-exports the next item from.
    let known = |path: &[String]| -> Option<Vec<String>> {
        let n = (0..=path.len())
            .rev()
            .find(|&n| n == 0 || modules.contains_key(&path[..n]))?;
        let base = path[..n].to_vec();
        if let Some(child) = path
            .get(n)
            .and_then(|item| reexported.get(&(base.clone(), item.clone())))
        {
            return Some(child.clone());
        }
        (n > 0).then_some(base)
    };
    let relative = regex::Regex::new(r"\b(\w+)::(\w+(?:::\w+)*)").unwrap();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, file) in &modules {
        let text = code(&std::fs::read_to_string(file).unwrap());
        let mut targets = imports(&text, module);
        // A module imported by its name (`use crate::secrets::{self, …}`) is then reached
        // through that name: `secrets::handlers::dispatch` imports `secrets::handlers`.
        let named: BTreeMap<String, Vec<String>> = targets
            .iter()
            .filter(|path| modules.contains_key(*path))
            .map(|path| (path.last().unwrap().clone(), path.clone()))
            .collect();
        for c in relative.captures_iter(&text) {
            let continues_a_path = text[..c.get(0).unwrap().start()].ends_with("::");
            if let Some(base) = named.get(&c[1]).filter(|_| !continues_a_path) {
                let mut path = base.clone();
                path.extend(c[2].split("::").map(str::to_owned));
                targets.push(path);
            }
        }
        for target in targets {
            if let Some(target) = known(&target)
                && target != *module
            {
                edges
                    .entry(module.join("::"))
                    .or_default()
                    .insert(target.join("::"));
            }
        }
    }
    edges
}

/// Strongly connected components of more than one module (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(walk: &mut Walk<'a>, node: &'a str) {
        let n = walk.index.len();
        walk.index.insert(node, n);
        walk.low.insert(node, n);
        walk.stack.push(node);
        for next in walk.edges.get(node).into_iter().flatten() {
            let next = next.as_str();
            if !walk.index.contains_key(next) {
                visit(walk, next);
                let low = walk.low[next].min(walk.low[node]);
                walk.low.insert(node, low);
            } else if walk.stack.contains(&next) {
                let low = walk.index[next].min(walk.low[node]);
                walk.low.insert(node, low);
            }
        }
        if walk.low[node] == walk.index[node] {
            let at = walk.stack.iter().rposition(|m| *m == node).unwrap();
            let component: Vec<String> = walk.stack.drain(at..).map(str::to_owned).collect();
            if component.len() > 1 {
                walk.found.push(component);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in edges.keys() {
        if !walk.index.contains_key(node.as_str()) {
            visit(&mut walk, node);
        }
    }
    walk.found
}

#[test]
fn no_source_file_imports_itself_through_others() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for name in CRATES {
        let src = root.join(name).join("src");
        let edges = graph(&src);
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        // A crate of one file has nothing to import; in any other the reader must find some.
        assert!(
            files.len() == 1 || !edges.is_empty(),
            "{name}: no imports read"
        );
        for cycle in cycles(&edges) {
            found.push(format!("{name}: {}", cycle.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

/// The check sees a cycle when there is one: two files of a scratch crate importing each
/// other, one of them through `super::`.
#[test]
fn a_cycle_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(src.join("a/mod.rs"), "mod c;\nuse crate::b::Thing;\n").unwrap();
    std::fs::write(src.join("a/c.rs"), "// crate::b in a comment\n").unwrap();
    std::fs::write(src.join("b.rs"), "use crate::a::Other;\n").unwrap();
    let edges = graph(&src);
    assert_eq!(cycles(&edges), [["a", "b"]]);
    std::fs::write(src.join("b.rs"), "pub struct Thing;\n").unwrap();
    std::fs::write(src.join("a/c.rs"), "use super::super::b::Thing;\n").unwrap();
    assert!(cycles(&graph(&src)).is_empty());
    std::fs::write(src.join("a/mod.rs"), "pub mod c;\n").unwrap();
    std::fs::write(
        src.join("b.rs"),
        "use crate::a::{self};\npub struct Thing;\nfn f() { a::c::g() }\n",
    )
    .unwrap();
    assert_eq!(cycles(&graph(&src)), [["a::c", "b"]]);
}
