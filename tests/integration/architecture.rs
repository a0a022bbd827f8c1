//! The shape of the code, held by a test: which module imports which (each layer only the layers
//! below it), that the pure decisions do no I/O, and that no function is longer than 120 lines.
//! `scripts/module-graph` prints the graph this test checks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::visit::Visit;

/// The layers, bottom up: a module may import only modules of a lower rank. `settings` is the entry
/// point's in role (the only module that knows inputs and flags) but sits just below `app`, which
/// runs on the validated `Settings` it builds; nothing else sees that type.
const LAYERS: [(&str, u8); 18] = [
    ("error", 0),
    ("secret", 0),
    ("parallel", 0),
    ("text", 0),
    ("net", 1),
    ("pipeline", 1),
    ("changes", 1),
    ("checklist", 1),
    ("sonar", 2),
    ("azdo", 2),
    ("git", 2),
    ("decide", 3),
    ("render", 4),
    ("settings", 5),
    ("app", 6),
    ("cli", 7),
    ("lib", 8),
    ("main", 9),
];

const MAX_FUNCTION_LINES: usize = 120;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// `src/a/b.rs` → `["a", "b"]`; `src/a/mod.rs` → `["a"]`; `src/lib.rs` → `["lib"]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("cfg") && a.meta.to_token_stream().to_string().replace(' ', "").contains("(test)"))
}

/// Files that are test-only because their `mod` declaration is `#[cfg(test)]`.
fn test_only_files(src: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for file in rust_files(src) {
        let ast = syn::parse_file(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for item in &ast.items {
            if let syn::Item::Mod(m) = item
                && m.content.is_none()
                && is_cfg_test(&m.attrs)
            {
                let dir = if file.ends_with("mod.rs") || file.ends_with("lib.rs") {
                    file.parent().unwrap().to_path_buf()
                } else {
                    file.with_extension("")
                };
                out.insert(dir.join(format!("{}.rs", m.ident)));
                out.insert(dir.join(m.ident.to_string()).join("mod.rs"));
            }
        }
    }
    out
}

/// Every `crate::`, `super::` and `self::` path of one file outside test code, resolved to the
/// module path it names, and every `std::` path (for the no-I/O rule).
#[derive(Default)]
struct Paths {
    module: Vec<String>,
    resolved: BTreeSet<Vec<String>>,
    std: BTreeSet<String>,
    functions: Vec<(String, usize)>,
}

impl Paths {
    fn add(&mut self, segments: Vec<String>) {
        let Some(first) = segments.first() else { return };
        let resolved = match first.as_str() {
            "crate" => segments[1..].to_vec(),
            "super" => {
                let ups = segments.iter().take_while(|s| *s == "super").count();
                let base = &self.module[..self.module.len().saturating_sub(ups)];
                base.iter().cloned().chain(segments[ups..].iter().cloned()).collect()
            }
            "self" => self.module.iter().cloned().chain(segments[1..].iter().cloned()).collect(),
            "std" => {
                self.std.insert(segments.join("::"));
                return;
            }
            // In the crate root, `app::run` names the module `app`.
            top if self.module == ["lib"] && LAYERS.iter().any(|(m, _)| *m == top) => segments,
            _ => return,
        };
        self.resolved.insert(resolved);
    }

    fn add_use(&mut self, prefix: Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                let mut next = prefix;
                next.push(p.ident.to_string());
                self.add_use(next, &p.tree);
            }
            syn::UseTree::Name(n) => {
                let mut next = prefix;
                next.push(n.ident.to_string());
                self.add(next);
            }
            syn::UseTree::Rename(r) => {
                let mut next = prefix;
                next.push(r.ident.to_string());
                self.add(next);
            }
            syn::UseTree::Glob(_) => self.add(prefix),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.add_use(prefix.clone(), t)),
        }
    }

    fn function(&mut self, name: String, span: proc_macro2::Span) {
        self.functions.push((name, span.end().line - span.start().line + 1));
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_cfg_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_cfg_test(&f.attrs) {
            self.function(f.sig.ident.to_string(), syn::spanned::Spanned::span(f));
            syn::visit::visit_item_fn(self, f);
        }
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_cfg_test(&f.attrs) {
            self.function(f.sig.ident.to_string(), syn::spanned::Spanned::span(f));
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if !is_cfg_test(&i.attrs) {
            syn::visit::visit_item_impl(self, i);
        }
    }
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.add_use(Vec::new(), &u.tree);
    }
    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.add(p.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, p);
    }
}

/// Per file: its module path and what it refers to.
fn scan(src: &Path) -> Vec<(PathBuf, Paths)> {
    let skip = test_only_files(src);
    rust_files(src)
        .into_iter()
        .filter(|f| !skip.contains(f))
        .map(|file| {
            let ast = syn::parse_file(&std::fs::read_to_string(&file).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let mut paths = Paths { module: module_path(src, &file), ..Paths::default() };
            paths.visit_file(&ast);
            (file, paths)
        })
        .collect()
}

fn rank(top: &str) -> u8 {
    LAYERS.iter().find(|(m, _)| *m == top).unwrap_or_else(|| panic!("module '{top}' has no layer in tests/integration/architecture.rs")).1
}

/// The graph of top-level modules: who imports whom.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo().join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, paths) in scan(&src) {
        let from = paths.module[0].clone();
        let entry = graph.entry(from.clone()).or_default();
        for target in &paths.resolved {
            // `crate::x` names a top-level module, or an item of the crate root (lib.rs).
            let to = match target.first() {
                Some(t) if LAYERS.iter().any(|(m, _)| m == t) => t.clone(),
                Some(_) => "lib".to_string(),
                None => continue,
            };
            if to != from {
                entry.insert(to);
            }
        }
    }
    graph
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let graph = graph();
    let mut lines = vec!["module graph (layer: module -> what it imports):".to_string()];
    let mut by_rank: Vec<(&String, &BTreeSet<String>)> = graph.iter().collect();
    by_rank.sort_by_key(|(m, _)| (std::cmp::Reverse(rank(m)), (*m).clone()));
    let mut violations = Vec::new();
    for (module, imports) in by_rank {
        let list: Vec<&str> = imports.iter().map(String::as_str).collect();
        lines.push(format!("  {}: {module} -> {}", rank(module), if list.is_empty() { "(nothing)".to_string() } else { list.join(", ") }));
        for to in imports {
            if rank(to) >= rank(module) {
                violations.push(format!("{module} (layer {}) imports {to} (layer {})", rank(module), rank(to)));
            }
        }
    }
    eprintln!("{}", lines.join("\n"));
    assert!(violations.is_empty(), "imports that point sideways or up:\n{}", violations.join("\n"));
    for (module, imports) in &graph {
        if imports.contains("settings") {
            assert!(["lib", "cli", "app", "main"].contains(&module.as_str()), "only lib, cli and app see Settings; {module} does");
        }
    }
}

#[test]
fn the_decisions_do_no_io_and_no_logging() {
    let src = repo().join("src");
    for (file, paths) in scan(&src) {
        if paths.module[0] != "decide" {
            continue;
        }
        for p in &paths.std {
            assert!(
                !["std::fs", "std::net", "std::process", "std::thread", "std::io", "std::env", "std::time::Instant"]
                    .iter()
                    .any(|io| p.starts_with(io)),
                "{} uses {p}",
                file.display()
            );
        }
        for p in &paths.resolved {
            assert!(!p.iter().any(|s| s == "Log" || s == "log"), "{} uses the log: {}", file.display(), p.join("::"));
            assert!(p.first().is_none_or(|t| t != "net" && t != "git"), "{} does I/O through {}", file.display(), p.join("::"));
        }
    }
}

#[test]
fn no_function_is_longer_than_120_lines() {
    let mut long = Vec::new();
    for dir in ["src", "sandbox/src", "packager/src", "examples"] {
        for (file, paths) in scan(&repo().join(dir)) {
            for (name, lines) in &paths.functions {
                if *lines > MAX_FUNCTION_LINES {
                    long.push(format!("{}: fn {name} is {lines} lines", file.strip_prefix(repo()).unwrap().display()));
                }
            }
        }
    }
    assert!(long.is_empty(), "functions over {MAX_FUNCTION_LINES} lines:\n{}", long.join("\n"));
}
