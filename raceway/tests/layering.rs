//! The runtime's modules depend on each other one way: each module uses
//! only modules of its own layer or below (see the list in `src/lib.rs`),
//! and no group of modules uses each other in a cycle.
//!
//! The dependencies are read from the sources: every `crate::…` path, and
//! every `super::…` path of a submodule (tests excluded), attributed to the
//! module that names it. Run it with `cargo test -p raceway --test layering`;
//! on failure it prints the offending edges or the cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom to top: the same order as `src/lib.rs`.
const LAYERS: &[&[&str]] = &[
    // Leaves.
    &["clock", "component", "config", "log", "retirement", "stats", "trace_context", "value"],
    // The record.
    &["event"],
    // The wire format and the analysis.
    &["wire", "analyzer"],
    // The hand-off and the background thread's parts.
    &["pipeline", "convert", "sink"],
    &["exporter"],
    // The runtime facade.
    &["rt"],
    // The one assembly point.
    &["client"],
    &["global", "check", "signal"],
    // Front-ends.
    &[
        "__private",
        "actix",
        "client_call",
        "http_client",
        "layer",
        "propagation",
        "rayon",
        "server_request",
        "sync",
        "task",
        "thread",
        "traced",
    ],
];

/// A module path (`["analyzer", "report", "store"]`) and its source.
struct Module {
    path: Vec<String>,
    source: String,
}

fn modules() -> Vec<Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut modules = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let mut path: Vec<String> = relative.iter().map(|c| c.to_string_lossy().into_owned()).collect();
        if path.first().is_some_and(|p| p == "bin") {
            continue;
        }
        let last = path.pop().unwrap();
        let stem = last.strip_suffix(".rs").unwrap().to_string();
        if stem != "mod" && stem != "lib" {
            path.push(stem);
        }
        if path.first().is_some_and(|p| p == "private") {
            path[0] = "__private".into();
        }
        modules.push(Module { path, source: std::fs::read_to_string(&file).unwrap() });
    }
    modules
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a source file without comments and without its test module.
fn code(source: &str) -> String {
    let source = match source.find("#[cfg(test)]\nmod tests") {
        Some(at) => &source[..at],
        None => source,
    };
    source.lines().map(|line| line.split("//").next().unwrap()).collect::<Vec<_>>().join("\n")
}

/// The paths that follow each occurrence of `prefix` (`crate::` or
/// `super::`), with `{a, b::c}` groups expanded to their items.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let item = item.trim();
                if !item.is_empty() {
                    paths.push(segments(item));
                }
            }
        } else {
            paths.push(segments(rest));
        }
    }
    paths
}

fn segments(text: &str) -> Vec<String> {
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(text.len());
    text[..end].split("::").filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The longest known module that `path` starts with.
fn resolve<'a>(known: &'a BTreeSet<Vec<String>>, path: &[String]) -> Option<&'a Vec<String>> {
    (1..=path.len()).rev().find_map(|n| known.get(&path[..n].to_vec()))
}

/// Each module's dependencies on other modules (not on its own
/// descendants: a parent re-exporting its child's items owns them).
fn edges() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules = modules();
    let known: BTreeSet<Vec<String>> = modules.iter().map(|m| m.path.clone()).collect();
    let mut edges = BTreeMap::new();
    for module in &modules {
        let code = code(&module.source);
        let mut targets = BTreeSet::new();
        let mut add = |path: Vec<String>| {
            let target = resolve(&known, &path).cloned().unwrap_or_default();
            let within = target.starts_with(&module.path);
            if !within {
                targets.insert(target);
            }
        };
        for path in paths_after(&code, "crate::") {
            add(path);
        }
        // In a file of a submodule, `super::x` is its parent's `x`. (`super::*`
        // is the glob of an inline test or helper module: its own file.)
        if let Some((_, parent)) = module.path.split_last().filter(|(_, parent)| !parent.is_empty()) {
            for path in paths_after(&code, "super::").into_iter().filter(|p| !p.is_empty()) {
                add(parent.iter().cloned().chain(path).collect());
            }
        }
        edges.insert(module.path.clone(), targets);
    }
    edges
}

fn layer_of(module: &[String]) -> Option<usize> {
    let top = module.first()?;
    LAYERS.iter().position(|layer| layer.contains(&top.as_str()))
}

#[test]
fn every_module_is_in_a_layer() {
    let unplaced: Vec<_> =
        edges().into_keys().filter(|m| !m.is_empty() && layer_of(m).is_none()).map(|m| m.join("::")).collect();
    assert!(unplaced.is_empty(), "modules missing from LAYERS: {unplaced:?}");
}

#[test]
fn dependencies_point_down_the_layers() {
    let mut upward = Vec::new();
    for (module, targets) in edges() {
        let Some(own) = layer_of(&module) else { continue };
        for target in targets {
            if target.is_empty() {
                upward.push(format!("{} -> the crate root (name the defining module)", module.join("::")));
            } else if layer_of(&target).is_some_and(|t| t > own) {
                upward.push(format!("{} -> {}", module.join("::"), target.join("::")));
            }
        }
    }
    assert!(upward.is_empty(), "dependencies that point up:\n{}", upward.join("\n"));
}

/// A cycle in `graph`, if it has one (depth-first search: a back edge
/// closes a cycle).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &String,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|m| m == node).unwrap();
                return Some(stack[from..].iter().chain([node]).cloned().collect());
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for target in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(target, graph, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph.keys().find_map(|node| visit(node, graph, &mut marks, &mut Vec::new()))
}

/// The dependencies between the children of `parent` (the crate's
/// top-level modules for `[]`): an edge from each child whose code (its
/// own or its descendants') uses another child's (or its descendants').
fn graph_among_children_of(parent: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let child = |module: &[String]| {
        (module.len() > parent.len() && module.starts_with(parent)).then(|| module[parent.len()].clone())
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, targets) in edges() {
        let Some(from) = child(&module) else { continue };
        let entry = graph.entry(from.clone()).or_default();
        for target in targets {
            if let Some(to) = child(&target).filter(|to| *to != from) {
                entry.insert(to);
            }
        }
    }
    graph
}

#[test]
fn no_modules_depend_on_each_other_in_a_cycle() {
    // Between the top-level modules, and between the files of each folder.
    let parents: BTreeSet<Vec<String>> =
        edges().into_keys().filter_map(|m| m.split_last().map(|(_, parent)| parent.to_vec())).collect();
    for parent in parents {
        if let Some(cycle) = find_cycle(&graph_among_children_of(&parent)) {
            let within = if parent.is_empty() { "the crate".to_string() } else { parent.join("::") };
            panic!("import cycle in {within}: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_reader_sees_every_kind_of_path() {
    let code = "use crate::{a::b, c};\nuse crate::d::e;\nlet x = crate::f::g(); // crate::comment\nmy_crate::h";
    let paths = paths_after(&super_code(code), "crate::");
    let firsts: Vec<_> = paths.iter().map(|p| p[0].as_str()).collect();
    assert_eq!(firsts, ["a", "c", "d", "f"]);
}

fn super_code(code: &str) -> String {
    self::code(code)
}
