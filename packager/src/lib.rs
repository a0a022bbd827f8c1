//! Builds the extensions' .vsix files: the task's (task.json, the Node launcher, one binary per
//! platform, with the marketplace files) and the optional pipeline decorator's (its own manifest in
//! `decorator/`, the template it injects). Writes the VSIX manifests and zips each so that the same
//! inputs always give the same bytes (sorted entries, a fixed date, Unix attributes, 0755 on
//! executables).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The platforms the launcher knows, and the binary's file name on each.
pub const PLATFORMS: [(&str, &str); 6] = [
    ("darwin-arm64", "sonar-pr-gate"),
    ("darwin-x64", "sonar-pr-gate"),
    ("linux-arm64", "sonar-pr-gate"),
    ("linux-x64", "sonar-pr-gate"),
    // Static (musl): the launcher takes it on x64 Linux without glibc (Alpine containers).
    ("linux-x64-musl", "sonar-pr-gate"),
    ("win32-x64", "sonar-pr-gate.exe"),
];

/// What goes into a package.
pub struct Inputs {
    /// The repository root: Cargo.toml, task.json, vss-extension.json, extension/.
    pub root: PathBuf,
    /// Binaries by platform (`linux-x64` …).
    pub binaries: BTreeMap<String, PathBuf>,
    /// Overrides vss-extension.json's publisher.
    pub publisher: Option<String>,
}

/// One file of the package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub bytes: Vec<u8>,
    pub executable: bool,
}

#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error(format!("cannot read {}: {e}", path.display())))
}

fn json(path: &Path) -> Result<Value, Error> {
    let bytes = read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| Error(format!("{} is not valid JSON: {e}", path.display())))
}

/// The version in Cargo.toml's `[package]`.
fn cargo_version(root: &Path) -> Result<String, Error> {
    let text = String::from_utf8_lossy(&read(&root.join("Cargo.toml"))?).into_owned();
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(v) = line.strip_prefix("version").map(str::trim).and_then(|r| r.strip_prefix('=')) {
            return Ok(v.trim().trim_matches('"').to_string());
        }
    }
    Err(Error("Cargo.toml has no [package] version".into()))
}

/// The decorator extension's folder, beside the task extension's files.
pub const DECORATOR_DIR: &str = "decorator";

/// The one version all four manifests agree on, or an error naming each.
pub fn check_versions(root: &Path) -> Result<String, Error> {
    let cargo = cargo_version(root)?;
    let task = json(&root.join("task.json"))?;
    let v = &task["version"];
    let task_version = format!("{}.{}.{}", v["Major"], v["Minor"], v["Patch"]);
    let ext = json(&root.join("vss-extension.json"))?;
    let ext_version = ext["version"].as_str().unwrap_or("").to_string();
    let decorator = json(&root.join(DECORATOR_DIR).join("vss-extension.json"))?;
    let decorator_version = decorator["version"].as_str().unwrap_or("").to_string();
    if cargo != task_version || cargo != ext_version || cargo != decorator_version {
        return Err(Error(format!(
            "refusing to package: the versions disagree (Cargo.toml {cargo}, task.json {task_version}, vss-extension.json {ext_version}, decorator/vss-extension.json {decorator_version}); set all four to the release version"
        )));
    }
    Ok(cargo)
}

/// A manifest, with the publisher overridden when one is given. Refuses what the Marketplace
/// (and tfx) refuse: a description of 200 characters or more.
fn manifest(path: &Path, publisher: &Option<String>) -> Result<Value, Error> {
    let mut manifest = json(path)?;
    let description = manifest["description"].as_str().unwrap_or_default();
    if description.chars().count() >= 200 {
        return Err(Error(format!(
            "{}: 'description' must be less than 200 characters (it has {}); shorten it",
            path.display(),
            description.chars().count()
        )));
    }
    if let Some(p) = publisher {
        manifest["publisher"] = Value::String(p.clone());
    }
    Ok(manifest)
}

/// Adds the generated VSIX files to an extension's own, sorted; returns the package's file name.
fn finish(manifest: &Value, version: &str, mut entries: Vec<Entry>, addressable: &[String]) -> (String, Vec<Entry>) {
    let publisher = manifest["publisher"].as_str().unwrap_or("").to_string();
    let id = manifest["id"].as_str().unwrap_or("").to_string();
    entries.push(Entry { path: "extension.vsomanifest".into(), bytes: vso_manifest(manifest).into_bytes(), executable: false });
    entries.push(Entry {
        path: "extension.vsixmanifest".into(),
        bytes: vsix_manifest(manifest, version, addressable).into_bytes(),
        executable: false,
    });
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    // A file the manifest gives a `contentType` keeps it, as tfx writes it: an Override of its own.
    let declared: BTreeMap<String, String> = manifest["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["path"].as_str()?.trim_start_matches("./").to_string(), f["contentType"].as_str()?.to_string())))
        .collect();
    let content_types = content_types(&entries, &declared);
    entries.insert(0, Entry { path: "[Content_Types].xml".into(), bytes: content_types.into_bytes(), executable: false });
    (format!("{publisher}.{id}-{version}.vsix"), entries)
}

/// Every file of the decorator extension, sorted by path: its manifest's files, the overview and
/// the icon. It holds no task: it injects the task extension's one.
pub fn decorator_layout(root: &Path, publisher: &Option<String>) -> Result<(String, Vec<Entry>), Error> {
    let version = check_versions(root)?;
    let dir = root.join(DECORATOR_DIR);
    let manifest = manifest(&dir.join("vss-extension.json"), publisher)?;
    let mut entries = vec![
        Entry { path: "overview.md".into(), bytes: read(&dir.join("overview.md"))?, executable: false },
        Entry { path: "images/icon.png".into(), bytes: read(&root.join("extension/images/icon.png"))?, executable: false },
    ];
    let mut addressable = Vec::new();
    for file in manifest["files"].as_array().into_iter().flatten() {
        let Some(path) = file["path"].as_str() else { continue };
        entries.push(Entry { path: path.to_string(), bytes: read(&dir.join(path))?, executable: false });
        if file["addressable"].as_bool() == Some(true) {
            addressable.push(path.to_string());
        }
    }
    Ok(finish(&manifest, &version, entries, &addressable))
}

/// Lays out, zips and writes the decorator extension's .vsix; returns its path.
pub fn package_decorator(root: &Path, publisher: &Option<String>, out_dir: &Path) -> Result<PathBuf, Error> {
    let (name, entries) = decorator_layout(root, publisher)?;
    write_package(&name, &entries, out_dir)
}

/// The decorator's files as a folder with its `vss-extension.json` at the root, for tfx.
pub fn write_decorator_layout(root: &Path, publisher: &Option<String>, dir: &Path) -> Result<(), Error> {
    let (_, entries) = decorator_layout(root, publisher)?;
    let manifest = manifest(&root.join(DECORATOR_DIR).join("vss-extension.json"), publisher)?;
    write_tree(&entries, &manifest, dir)
}

/// Every file of the package, sorted by path.
pub fn layout(inputs: &Inputs) -> Result<(String, Vec<Entry>), Error> {
    let root = &inputs.root;
    let version = check_versions(root)?;
    if inputs.binaries.is_empty() {
        return Err(Error(
            "no binary to package; build one (scripts/package does) or put prebuilt ones in dist/bin/<platform>-<arch>/".into(),
        ));
    }
    let manifest = manifest(&root.join("vss-extension.json"), &inputs.publisher)?;
    let mut entries = vec![
        Entry { path: "overview.md".into(), bytes: read(&root.join("extension/overview.md"))?, executable: false },
        Entry { path: "images/icon.png".into(), bytes: read(&root.join("extension/images/icon.png"))?, executable: false },
        Entry { path: "task/task.json".into(), bytes: read(&root.join("task.json"))?, executable: false },
        Entry { path: "task/icon.png".into(), bytes: read(&root.join("extension/images/icon.png"))?, executable: false },
        Entry { path: "task/launcher.js".into(), bytes: read(&root.join("extension/launcher.js"))?, executable: false },
    ];
    // The screenshots overview.md shows (scripts/screenshots writes them), addressable as the
    // Marketplace page needs; sorted, so the package stays reproducible.
    let screenshots = screenshots(&root.join("extension/images"))?;
    for name in &screenshots {
        entries.push(Entry { path: format!("images/{name}"), bytes: read(&root.join("extension/images").join(name))?, executable: false });
    }
    for (platform, path) in &inputs.binaries {
        let Some((_, name)) = PLATFORMS.iter().find(|(p, _)| p == platform) else {
            return Err(Error(format!("unknown platform '{platform}'; the launcher knows {}", PLATFORMS.map(|p| p.0).join(", "))));
        };
        entries.push(Entry { path: format!("task/bin/{platform}/{name}"), bytes: read(path)?, executable: true });
    }
    let addressable: Vec<String> = screenshots.iter().map(|n| format!("images/{n}")).collect();
    Ok(finish(&manifest, &version, entries, &addressable))
}

/// The PNG files beside the icon, by name.
fn screenshots(dir: &Path) -> Result<Vec<String>, Error> {
    let listing = std::fs::read_dir(dir).map_err(|e| Error(format!("cannot list {}: {e}", dir.display())))?;
    let mut names: Vec<String> =
        listing.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n.ends_with(".png") && n != "icon.png").collect();
    names.sort();
    Ok(names)
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `extension.vsixmanifest` (VSIX 2.0), as tfx writes it: the manifest's installation targets
/// (with their version ranges) and every addressable file as an asset.
fn vsix_manifest(m: &Value, version: &str, addressable: &[String]) -> String {
    let s = |k: &str| m[k].as_str().unwrap_or("").to_string();
    let images: String = addressable
        .iter()
        .map(|n| format!("    <Asset Type=\"{n}\" d:Source=\"File\" Path=\"{n}\" Addressable=\"true\" />\n", n = xml(n)))
        .collect();
    let targets: String = m["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| match t["version"].as_str() {
            Some(range) => {
                format!("    <InstallationTarget Id=\"{}\" Version=\"{}\" />\n", xml(t["id"].as_str().unwrap_or("")), xml(range))
            }
            None => format!("    <InstallationTarget Id=\"{}\" />\n", xml(t["id"].as_str().unwrap_or(""))),
        })
        .collect();
    let mut props = String::new();
    let links =
        [("getstarted", "Getstarted"), ("home", "Home"), ("license", "License"), ("repository", "Repository"), ("support", "Support")];
    for (key, name) in links {
        if let Some(uri) = m["links"][key]["uri"].as_str() {
            let _ = writeln!(props, "      <Property Id=\"Microsoft.VisualStudio.Services.Links.{name}\" Value=\"{}\" />", xml(uri));
        }
    }
    if let Some(uri) = m["repository"]["uri"].as_str() {
        let _ = writeln!(props, "      <Property Id=\"Microsoft.VisualStudio.Services.Links.GitHub\" Value=\"{}\" />", xml(uri));
    }
    let join = |k: &str| m[k].as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")).unwrap_or_default();
    let flags = m["galleryFlags"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")).unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011" xmlns:d="http://schemas.microsoft.com/developer/vsx-schema-design/2011">
  <Metadata>
    <Identity Language="en-US" Id="{id}" Version="{version}" Publisher="{publisher}" />
    <DisplayName>{name}</DisplayName>
    <Description xml:space="preserve">{description}</Description>
    <Tags>{tags}</Tags>
    <Categories>{categories}</Categories>
    <GalleryFlags>{flags}</GalleryFlags>
    <Properties>
{props}    </Properties>
    <Icon>images/icon.png</Icon>
  </Metadata>
  <Installation>
{targets}  </Installation>
  <Dependencies />
  <Assets>
    <Asset Type="images/icon.png" d:Source="File" Path="images/icon.png" Addressable="true" />
{images}    <Asset Type="Microsoft.VisualStudio.Services.Icons.Default" d:Source="File" Path="images/icon.png" Addressable="true" />
    <Asset Type="Microsoft.VisualStudio.Services.Content.Details" d:Source="File" Path="overview.md" Addressable="true" />
    <Asset Type="Microsoft.VisualStudio.Services.Manifest" d:Source="File" Path="extension.vsomanifest" Addressable="true" />
  </Assets>
</PackageManifest>
"#,
        id = xml(&s("id")),
        publisher = xml(&s("publisher")),
        name = xml(&s("name")),
        description = xml(&s("description")),
        tags = xml(&join("tags")),
        categories = xml(&join("categories")),
        flags = xml(&flags),
    )
}

/// `extension.vsomanifest`: the contributions, as the service reads them.
fn vso_manifest(m: &Value) -> String {
    // The keys tfx writes: identity and display data live in the vsixmanifest.
    let v = serde_json::json!({
        "manifestVersion": 1,
        "contributions": m["contributions"],
        "repository": m["repository"],
        "scopes": m.get("scopes").cloned().unwrap_or(Value::Array(vec![])),
        "contributionTypes": m.get("contributionTypes").cloned().unwrap_or(Value::Array(vec![])),
    });
    serde_json::to_string_pretty(&v).expect("JSON serializes")
}

/// `[Content_Types].xml`: a default per extension, an override per file without one, and an
/// override for each file whose content type the manifest declares (`files[].contentType`), which
/// then needs no default of its extension, as tfx 0.23 writes it.
fn content_types(entries: &[Entry], declared: &BTreeMap<String, String>) -> String {
    let known = |ext: &str| match ext {
        "js" => "application/javascript",
        "json" | "vsomanifest" => "application/json",
        "md" => "text/markdown",
        "png" => "image/png",
        "vsixmanifest" | "xml" => "text/xml",
        "exe" => "application/vnd.microsoft.portable-executable",
        _ => "application/octet-stream",
    };
    let mut defaults = BTreeMap::new();
    let mut overrides: Vec<(String, &str)> = Vec::new();
    for e in entries {
        let name = e.path.rsplit('/').next().unwrap_or(&e.path);
        if let Some(ct) = declared.get(&e.path) {
            overrides.push((format!("/{}", e.path), ct.as_str()));
            continue;
        }
        match name.rsplit_once('.') {
            Some((_, ext)) if !ext.is_empty() => {
                defaults.insert(format!(".{ext}"), known(ext));
            }
            _ => overrides.push((format!("/{}", e.path), "application/octet-stream")),
        }
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\n",
    );
    for (ext, ct) in defaults {
        let _ = writeln!(out, "  <Default Extension=\"{ext}\" ContentType=\"{ct}\" />");
    }
    for (part, ct) in overrides {
        let _ = writeln!(out, "  <Override PartName=\"{}\" ContentType=\"{}\" />", xml(&part), xml(ct));
    }
    out.push_str("</Types>\n");
    out
}

/// The zip, byte for byte the same for the same entries.
pub fn zip_bytes(entries: &[Entry]) -> Result<Vec<u8>, Error> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for e in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .system(zip::System::Unix)
            .unix_permissions(if e.executable { 0o755 } else { 0o644 })
            .large_file(false);
        writer.start_file(e.path.as_str(), options).map_err(|err| Error(format!("zip: {err}")))?;
        writer.write_all(&e.bytes).map_err(|err| Error(format!("zip: {err}")))?;
    }
    let cursor = writer.finish().map_err(|err| Error(format!("zip: {err}")))?;
    Ok(cursor.into_inner())
}

/// Writes the package's files as a folder with `vss-extension.json` at its root (the generated
/// VSIX manifests left out), so Microsoft's own packager (`tfx extension create`) can build from
/// the same layout and its file list be compared with ours.
pub fn write_layout(inputs: &Inputs, dir: &Path) -> Result<(), Error> {
    let (_, entries) = layout(inputs)?;
    let manifest = manifest(&inputs.root.join("vss-extension.json"), &inputs.publisher)?;
    write_tree(&entries, &manifest, dir)
}

/// An extension's files without the generated VSIX ones, and its manifest, as a folder.
fn write_tree(entries: &[Entry], manifest: &Value, dir: &Path) -> Result<(), Error> {
    let generated = ["[Content_Types].xml", "extension.vsixmanifest", "extension.vsomanifest"];
    for e in entries.iter().filter(|e| !generated.contains(&e.path.as_str())) {
        let path = dir.join(&e.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|err| Error(format!("cannot create {}: {err}", parent.display())))?;
        }
        std::fs::write(&path, &e.bytes).map_err(|err| Error(format!("cannot write {}: {err}", path.display())))?;
    }
    let text = serde_json::to_string_pretty(manifest).expect("JSON serializes");
    std::fs::write(dir.join("vss-extension.json"), text).map_err(|err| Error(format!("cannot write the layout's manifest: {err}")))
}

/// Lays out, zips and writes `<out>/<publisher>.<id>-<version>.vsix`; returns its path.
pub fn package(inputs: &Inputs, out_dir: &Path) -> Result<PathBuf, Error> {
    let (name, entries) = layout(inputs)?;
    write_package(&name, &entries, out_dir)
}

fn write_package(name: &str, entries: &[Entry], out_dir: &Path) -> Result<PathBuf, Error> {
    let bytes = zip_bytes(entries)?;
    std::fs::create_dir_all(out_dir).map_err(|e| Error(format!("cannot create {}: {e}", out_dir.display())))?;
    let path = out_dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| Error(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// Prebuilt binaries in `dir/<platform>/`, for platforms built elsewhere.
pub fn prebuilt(dir: &Path) -> BTreeMap<String, PathBuf> {
    PLATFORMS
        .iter()
        .filter_map(|(platform, name)| {
            let p = dir.join(platform).join(name);
            p.is_file().then(|| (platform.to_string(), p))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn inputs() -> Inputs {
        let fake = std::env::temp_dir().join("sonar-pr-gate-packager-test-binary");
        std::fs::write(&fake, b"\x7fELF not really").unwrap();
        Inputs { root: repo(), binaries: [("linux-x64".to_string(), fake)].into_iter().collect(), publisher: Some("fabrikam".into()) }
    }

    #[test]
    fn same_inputs_same_bytes() {
        let (_, a) = layout(&inputs()).unwrap();
        let one = zip_bytes(&a).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let (_, b) = layout(&inputs()).unwrap();
        assert_eq!(one, zip_bytes(&b).unwrap());
    }

    #[test]
    fn layout_has_the_manifests_the_task_and_modes() {
        let (name, entries) = layout(&inputs()).unwrap();
        assert!(name.starts_with("fabrikam.sonar-pr-gate-") && name.ends_with(".vsix"));
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "[Content_Types].xml",
                "extension.vsixmanifest",
                "extension.vsomanifest",
                "images/icon.png",
                "images/inline-bug.png",
                "images/inline-legacy.png",
                "images/summary-analysis-timed-out.png",
                "images/summary-changed-lines.png",
                "images/summary-every-condition.png",
                "images/summary-failed.png",
                "images/summary-passed.png",
                "images/summary-synced.png",
                "overview.md",
                "task/bin/linux-x64/sonar-pr-gate",
                "task/icon.png",
                "task/launcher.js",
                "task/task.json",
            ]
        );
        let ct = String::from_utf8(entries[0].bytes.clone()).unwrap();
        assert!(ct.contains("<Override PartName=\"/task/bin/linux-x64/sonar-pr-gate\" ContentType=\"application/octet-stream\" />"));
        // The Marketplace page shows the screenshots overview.md links: they are addressable assets.
        let vsix = String::from_utf8(entries.iter().find(|e| e.path == "extension.vsixmanifest").unwrap().bytes.clone()).unwrap();
        assert!(
            vsix.contains(
                "<Asset Type=\"images/summary-failed.png\" d:Source=\"File\" Path=\"images/summary-failed.png\" Addressable=\"true\" />"
            ),
            "{vsix}"
        );
        let vsix = String::from_utf8(entries[1].bytes.clone()).unwrap();
        assert!(vsix.contains("Publisher=\"fabrikam\""));
        let bytes = zip_bytes(&entries).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let bin = archive.by_name("task/bin/linux-x64/sonar-pr-gate").unwrap();
        assert_eq!(bin.unix_mode().map(|m| m & 0o777), Some(0o755));
        // Installable only where the task runs: Services, and Azure DevOps Server 2019 (17.0) on.
        assert!(vsix.contains("<InstallationTarget Id=\"Microsoft.VisualStudio.Services.Cloud\" />"), "{vsix}");
        assert!(vsix.contains("<InstallationTarget Id=\"Microsoft.TeamFoundation.Server\" Version=\"[17.0,)\" />"), "{vsix}");
    }

    #[test]
    fn the_decorator_is_its_own_package_with_its_template_addressable() {
        let (name, entries) = decorator_layout(&repo(), &Some("fabrikam".into())).unwrap();
        assert!(name.starts_with("fabrikam.sonar-pr-gate-decorator-") && name.ends_with(".vsix"), "{name}");
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "[Content_Types].xml",
                "extension.vsixmanifest",
                "extension.vsomanifest",
                "images/icon.png",
                "overview.md",
                "sonar-pr-gate-decorator.yml",
            ]
        );
        let vsix = String::from_utf8(entries[1].bytes.clone()).unwrap();
        assert!(
            vsix.contains(
                "<Asset Type=\"sonar-pr-gate-decorator.yml\" d:Source=\"File\" Path=\"sonar-pr-gate-decorator.yml\" Addressable=\"true\" />"
            ),
            "{vsix}"
        );
        // The template's content type as its manifest declares it, an Override as tfx 0.23 writes it
        // (CI compares with tfx's package: scripts/content-types-compare).
        let types = String::from_utf8(entries[0].bytes.clone()).unwrap();
        assert!(types.contains("<Override PartName=\"/sonar-pr-gate-decorator.yml\" ContentType=\"text/plain\" />"), "{types}");
        assert!(!types.contains("Extension=\".yml\""), "{types}");
        // Decorators with task targets: Services and Azure DevOps Server 2022 (19.0) on.
        assert!(vsix.contains("<InstallationTarget Id=\"Microsoft.TeamFoundation.Server\" Version=\"[19.0,)\" />"), "{vsix}");
        // Only private extensions may contribute decorators.
        assert!(vsix.contains("<GalleryFlags></GalleryFlags>"), "{vsix}");
        let vso = String::from_utf8(entries[2].bytes.clone()).unwrap();
        assert!(vso.contains("ms.azure-pipelines.pipeline-decorator"), "{vso}");
    }
}
