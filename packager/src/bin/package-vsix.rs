//! `package-vsix`: writes the extension's .vsix from the repository and the binaries given.
//!
//! Usage: package-vsix [--root DIR] [--out DIR] [--publisher NAME] [--bin-dir DIR]
//!                     [--binary PLATFORM=PATH]... [--layout DIR] [--decorator]
//! `--decorator` writes the optional pipeline-decorator extension (`decorator/`) instead of the
//! task's; it holds no binary.
//! Prebuilt binaries for other platforms are taken from `--bin-dir` (default dist/bin), laid out as
//! `<platform>-<arch>/sonar-pr-gate[.exe]`; `--binary` adds or replaces one.

use std::path::PathBuf;

fn main() {
    let mut root = PathBuf::from(".");
    let mut out = PathBuf::from("dist");
    let mut bin_dir: Option<PathBuf> = None;
    let mut publisher = std::env::var("PUBLISHER").ok().filter(|p| !p.is_empty());
    let mut explicit = Vec::new();
    let mut layout_dir: Option<PathBuf> = None;
    let mut decorator = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().unwrap_or_else(|| die(&format!("{name} needs a value")));
        match arg.as_str() {
            "--root" => root = PathBuf::from(value("--root")),
            "--out" => out = PathBuf::from(value("--out")),
            "--bin-dir" => bin_dir = Some(PathBuf::from(value("--bin-dir"))),
            "--publisher" => publisher = Some(value("--publisher")),
            "--layout" => layout_dir = Some(PathBuf::from(value("--layout"))),
            "--decorator" => decorator = true,
            "--binary" => {
                let v = value("--binary");
                let (platform, path) =
                    v.split_once('=').unwrap_or_else(|| die("--binary takes PLATFORM=PATH, e.g. linux-x64=target/release/sonar-pr-gate"));
                explicit.push((platform.to_string(), PathBuf::from(path)));
            }
            "-h" | "--help" => {
                println!(
                    "package-vsix [--root DIR] [--out DIR] [--publisher NAME] [--bin-dir DIR] [--binary PLATFORM=PATH]... [--layout DIR] [--decorator]"
                );
                return;
            }
            other => die(&format!("unknown argument '{other}'")),
        }
    }
    if decorator {
        if let Some(dir) = &layout_dir
            && let Err(e) = sonar_pr_gate_packager::write_decorator_layout(&root, &publisher, dir)
        {
            die(&e.to_string());
        }
        match sonar_pr_gate_packager::package_decorator(&root, &publisher, &out) {
            Ok(path) => {
                println!("{} ({} bytes): the pipeline decorator", path.display(), std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0))
            }
            Err(e) => die(&e.to_string()),
        }
        return;
    }
    let bin_dir = bin_dir.unwrap_or_else(|| root.join("dist/bin"));
    let mut binaries = sonar_pr_gate_packager::prebuilt(&bin_dir);
    binaries.extend(explicit);
    let inputs = sonar_pr_gate_packager::Inputs { root, binaries, publisher };
    if let Some(dir) = layout_dir {
        // Also write the unzipped layout (for tfx extension create).
        if let Err(e) = sonar_pr_gate_packager::write_layout(&inputs, &dir) {
            die(&e.to_string());
        }
    }
    match sonar_pr_gate_packager::package(&inputs, &out) {
        Ok(path) => {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            println!("{} ({} bytes) with: {}", path.display(), size, inputs.binaries.keys().cloned().collect::<Vec<_>>().join(", "));
        }
        Err(e) => die(&e.to_string()),
    }
}

fn die(message: &str) -> ! {
    eprintln!("package-vsix: {message}");
    std::process::exit(2);
}
