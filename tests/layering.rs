//! The layer map in docs/architecture.md is the law of the tree: a module
//! may name (`crate::x`) only modules of a lower layer, or a module of its
//! own layer that the map joins to it with `+`. This test reads the map
//! and every source file under src/, and fails naming each file and path
//! that reaches upward or sideways.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Layer number and "may name each other" group of each top-level module.
struct LayerMap {
    layer: HashMap<String, (usize, usize)>,
}

fn read_layer_map() -> LayerMap {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md")).expect("docs/architecture.md");
    let start = doc.find("```layers").expect("docs/architecture.md has a ```layers block");
    let body = &doc[start + "```layers".len()..];
    let body = &body[..body.find("```").expect("the layers block is closed")];
    let mut layer = HashMap::new();
    let mut group = 0;
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        let rank: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or_else(|| panic!("layer line without a number: {line}"));
        for joined in words {
            group += 1;
            for module in joined.split('+') {
                layer.insert(module.to_string(), (rank, group));
            }
        }
    }
    LayerMap { layer }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// Source text without comments and string literals (so prose and
/// messages never count as paths).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || (b[i + 1] == b'\\' && b.get(i + 3) == Some(&b'\''))) {
            // A char literal such as '"' or '\n' (not a lifetime).
            i += if b[i + 1] == b'\\' { 4 } else { 3 };
            out.push_str("' '");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Every top-level module named through `crate::` (`crate::x::...` and
/// `crate::{x, y::z}`), with its line number.
fn named_modules(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        // `$crate::` inside macros counts the same.
        let line = code[..at].matches('\n').count() + 1;
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut word = String::new();
            let mut at_item_start = true;
            for c in group.chars() {
                if !(c.is_alphanumeric() || c == '_') && !word.is_empty() {
                    found.push((line, std::mem::take(&mut word)));
                    at_item_start = false;
                }
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => at_item_start = true,
                    c if (c.is_alphanumeric() || c == '_') && depth == 1 && at_item_start => word.push(c),
                    _ => {
                        if !word.is_empty() {
                            found.push((line, std::mem::take(&mut word)));
                            at_item_start = false;
                        }
                    }
                }
            }
            continue;
        }
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        // `crate::name!` is a macro exported at the crate root, not a module.
        let is_macro = rest[name.len()..].starts_with('!');
        if !name.is_empty() && !is_macro {
            found.push((line, name));
        }
    }
    found
}

/// Macros exported at the crate root (`crate::name!`), by the module that
/// defines them.
fn exported_macros(src: &Path, files: &[PathBuf]) -> HashMap<String, String> {
    let mut macros = HashMap::new();
    for file in files {
        let code = code_only(&fs::read_to_string(file).expect("read source"));
        for (at, _) in code.match_indices("#[macro_export]") {
            if let Some(def) = code[at..].find("macro_rules!") {
                let name: String = code[at + def + "macro_rules!".len()..].trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                macros.insert(name, module_of(src, file));
            }
        }
    }
    macros
}

#[test]
fn no_module_names_a_higher_layer() {
    let map = read_layer_map();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let macros = exported_macros(&src, &files);
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let Some(&(rank, group)) = map.layer.get(&module) else {
            violations.push(format!("{}: module `{module}` is not in the layer map of docs/architecture.md", file.display()));
            continue;
        };
        let code = code_only(&fs::read_to_string(file).expect("read source"));
        for (line, named) in named_modules(&code) {
            let named = macros.get(&named).cloned().unwrap_or(named);
            if named == module {
                continue;
            }
            let Some(&(named_rank, named_group)) = map.layer.get(&named) else {
                violations.push(format!("{}:{line}: names `crate::{named}`, which is not in the layer map", file.display()));
                continue;
            };
            let allowed = named_rank < rank || named_group == group;
            if !allowed {
                let how = if named_rank == rank { "a module beside it" } else { "a higher layer" };
                violations.push(format!("{}:{line}: `{module}` (layer {rank}) names `crate::{named}` (layer {named_rank}), {how}", file.display()));
            }
        }
    }
    assert!(violations.is_empty(), "{} layering violations:\n{}", violations.len(), violations.join("\n"));
}

#[test]
fn the_checker_sees_paths_in_groups_and_ignores_comments_and_strings() {
    let code = code_only(
        "use crate::{fs::File, task};\n// crate::kernel\nlet s = \"crate::syscall\";\nuse crate::mm::Mm;\nlet c = '\"'; crate::abi::X; crate::syscalls![];",
    );
    let names: Vec<String> = named_modules(&code).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["fs", "task", "mm", "abi"]);
}

/// `unsafe` lives only where vkernel touches the host or raw guest memory.
#[test]
fn unsafe_code_is_only_in_platform_and_mm() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "platform" || module == "mm" {
            continue;
        }
        let code = code_only(&fs::read_to_string(file).expect("read source"));
        for (i, line) in code.lines().enumerate() {
            if line.split(|c: char| !c.is_alphanumeric() && c != '_').any(|w| w == "unsafe") {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "unsafe outside platform/ and mm/:\n{}", found.join("\n"));
}
