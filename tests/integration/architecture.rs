//! The shape of the code, held by a test: which module imports which (each layer only the layers
//! below it), that no two files import each other (directly or through others), that the pure
//! decisions do no I/O and import only files that do none, and that no function is longer than
//! 120 lines. `scripts/module-graph` prints the graph this test checks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::visit::Visit;

/// The layers, bottom up: a module may import only modules of a lower rank. `settings` is the entry
/// point's in role (the only module that knows inputs and flags) but sits just below `app`, which
/// runs on the validated `Settings` it builds; nothing else sees that type.
const LAYERS: [(&str, u8); 19] = [
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
    ("probe", 8),
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
    /// Paths into the crates that do I/O (see `IO_CRATES`).
    io_crates: BTreeSet<String>,
    /// Every `use` leaf as written, with the name it is imported as: a `mod.rs`'s re-exports.
    uses: Vec<(String, Vec<String>)>,
    functions: Vec<(String, usize)>,
}

/// What does I/O (or reads the clock): the standard library's modules, and the crates that send
/// requests, read files or read the system's certificates. `ureq::http` is only types.
const IO_STD: [&str; 7] = ["std::fs", "std::net", "std::process", "std::thread", "std::io", "std::env", "std::time::Instant"];
const IO_CRATES: [&str; 4] = ["ureq", "tempfile", "glob", "rustls_native_certs"];

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
            c if IO_CRATES.contains(&c) => {
                let path = segments.join("::");
                if !path.starts_with("ureq::http") {
                    self.io_crates.insert(path);
                }
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
                self.uses.push((n.ident.to_string(), next.clone()));
                self.add(next);
            }
            syn::UseTree::Rename(r) => {
                let mut next = prefix;
                next.push(r.ident.to_string());
                self.uses.push((r.rename.to_string(), next.clone()));
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

/// The crate's files, and what each one's references resolve to: the file that defines the item,
/// a `mod.rs` re-export followed to where it comes from.
struct Files {
    /// Module path -> file.
    modules: BTreeMap<Vec<String>, PathBuf>,
    /// Per file: what it refers to, and the files that resolves to (a `mod.rs`'s own re-exports
    /// left out: a facade is not a dependency).
    sources: Vec<(PathBuf, Paths, BTreeSet<PathBuf>)>,
}

fn is_facade(file: &Path) -> bool {
    file.ends_with("mod.rs") || file.ends_with("lib.rs")
}

impl Files {
    fn scan(src: &Path) -> Files {
        let scanned = scan(src);
        let modules: BTreeMap<Vec<String>, PathBuf> = scanned.iter().map(|(f, p)| (p.module.clone(), f.clone())).collect();
        // A facade's re-exports: (its module, the name) -> the full path of the item.
        let mut reexports: BTreeMap<(Vec<String>, String), Vec<String>> = BTreeMap::new();
        for (_, paths) in scanned.iter().filter(|(f, _)| is_facade(f)) {
            let here = if paths.module == ["lib"] { Vec::new() } else { paths.module.clone() };
            for (name, path) in &paths.uses {
                let full: Vec<String> = match path[0].as_str() {
                    "crate" => path[1..].to_vec(),
                    "self" => here.iter().chain(&path[1..]).cloned().collect(),
                    first if modules.contains_key(&here.iter().cloned().chain([first.to_string()]).collect::<Vec<_>>()) => {
                        here.iter().chain(path).cloned().collect()
                    }
                    _ => continue,
                };
                reexports.insert((here.clone(), name.clone()), full);
            }
        }
        let resolve = |path: &[String]| -> Option<PathBuf> {
            let mut path = path.to_vec();
            for _ in 0..8 {
                let k = (1..=path.len()).rev().find(|k| modules.contains_key(&path[..*k]))?;
                let file = &modules[&path[..k]];
                if k < path.len()
                    && let Some(target) = reexports.get(&(path[..k].to_vec(), path[k].clone()))
                {
                    path = target.iter().chain(&path[k + 1..]).cloned().collect();
                    continue;
                }
                return Some(file.clone());
            }
            None
        };
        let sources = scanned
            .into_iter()
            .map(|(file, paths)| {
                let facade_uses: BTreeSet<Vec<String>> = if is_facade(&file) {
                    let here = if paths.module == ["lib"] { Vec::new() } else { paths.module.clone() };
                    reexports.iter().filter(|((m, _), _)| *m == here).map(|(_, full)| full.clone()).collect()
                } else {
                    BTreeSet::new()
                };
                let targets =
                    paths.resolved.iter().filter(|p| !facade_uses.contains(*p)).filter_map(|p| resolve(p)).filter(|f| *f != file).collect();
                (file, paths, targets)
            })
            .collect();
        Files { modules, sources }
    }

    /// The files that do I/O, themselves or through a file they import.
    fn doing_io(&self) -> BTreeMap<PathBuf, String> {
        let mut io: BTreeMap<PathBuf, String> = BTreeMap::new();
        for (file, paths, _) in &self.sources {
            let found = paths.std.iter().find(|p| IO_STD.iter().any(|io| p.starts_with(io))).or(paths.io_crates.iter().next());
            if let Some(p) = found {
                io.insert(file.clone(), format!("uses {p}"));
            }
        }
        loop {
            let mut more = Vec::new();
            for (file, _, targets) in &self.sources {
                if !io.contains_key(file)
                    && let Some(t) = targets.iter().find(|t| io.contains_key(*t))
                {
                    more.push((file.clone(), format!("imports {}", rel(t))));
                }
            }
            if more.is_empty() {
                return io;
            }
            io.extend(more);
        }
    }
}

fn rel(file: &Path) -> String {
    file.strip_prefix(repo()).unwrap_or(file).display().to_string()
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
            assert!(
                ["lib", "probe", "cli", "app", "main"].contains(&module.as_str()),
                "only lib, probe, cli and app see Settings; {module} does"
            );
        }
    }
}

#[test]
fn the_decisions_do_no_io_and_import_only_files_that_do_none() {
    let files = Files::scan(&repo().join("src"));
    let io = files.doing_io();
    let mut found = Vec::new();
    for (file, paths, targets) in &files.sources {
        if paths.module[0] != "decide" {
            continue;
        }
        if let Some(why) = io.get(file).filter(|why| why.starts_with("uses")) {
            found.push(format!("{} {why}", rel(file)));
        }
        for t in targets.iter().filter_map(|t| io.get(t).map(|why| (t, why))) {
            found.push(format!("{} imports {}, which {}", rel(file), rel(t.0), t.1));
        }
        for p in &paths.resolved {
            if p.iter().any(|s| s == "Log" || s == "log") {
                found.push(format!("{} uses the log: {}", rel(file), p.join("::")));
            }
        }
    }
    assert!(found.is_empty(), "the decisions must be pure functions of types:\n{}", found.join("\n"));
    // The rule can fail: the client does I/O, and so does what imports it.
    assert!(io.contains_key(&repo().join("src/sonar/client.rs")) && io.contains_key(&repo().join("src/app/publish.rs")));
}

#[test]
fn no_two_files_import_each_other() {
    let files = Files::scan(&repo().join("src"));
    let edges: BTreeMap<&PathBuf, &BTreeSet<PathBuf>> = files.sources.iter().map(|(f, _, t)| (f, t)).collect();
    // Every file that can reach itself is on a loop; name each loop once by its files.
    let mut loops = BTreeSet::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(&PathBuf, Vec<&PathBuf>)> = vec![(start, vec![start])];
        while let Some((at, trail)) = stack.pop() {
            for next in edges.get(at).into_iter().flat_map(|t| t.iter()) {
                if next == *start {
                    let mut members: Vec<String> = trail.iter().map(|f| rel(f)).collect();
                    members.sort();
                    loops.insert(members.join(" <-> "));
                } else if seen.insert(next) {
                    let mut longer = trail.clone();
                    longer.push(next);
                    stack.push((next, longer));
                }
            }
        }
    }
    assert!(loops.is_empty(), "files that import each other:\n{}", loops.into_iter().collect::<Vec<_>>().join("\n"));
    assert!(files.modules.len() > 40, "the scan found the crate's files");
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
