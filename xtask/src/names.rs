//! Short import and export names for the shipped wasm. wasm-bindgen names
//! each import `__wbg_<name>_<16 hex digits>` from the module
//! `./tabphone_tab_bg.js` and each closure shim export after its full Rust
//! type (up to 330 characters); every name is in the wasm and again in the
//! JS glue, and the hex digits do not compress. This gives every import from
//! the glue a name of one or two letters (from module `a`) and every export
//! but `memory` one too, in the wasm (its import and export sections
//! re-encoded) and in the glue and its typings (the same names replaced
//! there). The snippets' imports keep their names, the snippets' own
//! exports, but their modules (`./snippets/<crate>-<16 hex digits>/...`) get
//! one letter from `b` on. The build fails if a name is found in an
//! unexpected form.
use std::path::Path;

use super::wasm::{put_leb, put_name, Reader};
use super::Result;

/// The module wasm-bindgen imports the glue's functions from.
const GLUE: &str = "./tabphone_tab_bg.js";
/// Its short name.
const SHORT_GLUE: &str = "a";

/// Rename in `<pkg>/<stem>_bg.wasm`, `<stem>.js` (unminified, as
/// wasm-bindgen wrote it), `<stem>.d.ts` and `<stem>_bg.wasm.d.ts`.
pub fn shorten(pkg: &Path, stem: &str) -> Result<()> {
    let read = |name: String| std::fs::read(pkg.join(&name)).map_err(|e| format!("{name}: {e}"));
    let write =
        |name: String, data: &[u8]| std::fs::write(pkg.join(&name), data).map_err(|e| format!("{name}: {e}"));
    let text = |name: String| {
        read(name.clone()).and_then(|b| String::from_utf8(b).map_err(|e| format!("{name}: {e}")))
    };
    let wasm = read(format!("{stem}_bg.wasm"))?;
    let mut short = Short::default();
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut snippets: Vec<(String, String)> = Vec::new();
    let wasm = rewrite(&wasm, &mut |section, module, name| match (section, module) {
        (Section::Import, Some(GLUE)) => {
            let new = short.next();
            imports.push((name.to_owned(), new.clone()));
            Some((SHORT_GLUE.to_owned(), new))
        }
        // A snippet's functions imported as they are (the glue passes the
        // snippet's module object): the module gets a short name too.
        (Section::Import, Some(module)) if module.starts_with("./snippets/") => {
            let short_module = match snippets.iter().find(|(old, _)| old == module) {
                Some((_, new)) => new.clone(),
                None => {
                    let new = char::from(b'b' + snippets.len() as u8).to_string();
                    snippets.push((module.to_owned(), new.clone()));
                    new
                }
            };
            Some((short_module, name.to_owned()))
        }
        (Section::Export, _) if name != "memory" => {
            let new = short.next();
            exports.push((name.to_owned(), new.clone()));
            Some((String::new(), new))
        }
        _ => None,
    })?;
    write(format!("{stem}_bg.wasm"), &wasm)?;

    let mut js = text(format!("{stem}.js"))?;
    replace_key(&mut js, &format!("\"{GLUE}\": "), &format!("\"{SHORT_GLUE}\": "))?;
    for (old, new) in &snippets {
        js =
            snippet_key(&js, old, new).ok_or_else(|| format!("{stem}.js: no import object key for {old}"))?;
    }
    for (old, new) in &imports {
        replace_key(&mut js, &format!("\n        {old}: "), &format!("\n        \"{new}\": "))?;
    }
    for (old, new) in &exports {
        replace_words(&mut js, &format!("wasm.{old}"), &format!("wasm.{new}"));
        // The glue's local wrapper of a closure shim is named after it too.
        replace_words(&mut js, old, &format!("__wbg_export_{new}"));
    }
    for (old, _) in imports.iter().chain(&exports) {
        if find_word(&js, old, 0).is_some() {
            return Err(format!("{stem}.js: {old} is left after renaming"));
        }
    }
    write(format!("{stem}.js"), js.as_bytes())?;

    // The typings of the raw exports (`InitOutput` and the wasm's .d.ts).
    for (file, prefix) in
        [(format!("{stem}.d.ts"), "readonly "), (format!("{stem}_bg.wasm.d.ts"), "export const ")]
    {
        let mut dts = text(file.clone())?;
        for (old, new) in &exports {
            // Not every export is typed (wasm-bindgen's own abort hooks are not).
            replace_words(&mut dts, &format!("{prefix}{old}: "), &format!("{prefix}{new}: "));
        }
        write(file, dts.as_bytes())?;
    }
    Ok(())
}

/// The import object's key for snippet module `old` renamed `new`.
/// wasm-bindgen writes the key once per function imported from the module,
/// each line with a namespace import of that same module: the first line is
/// kept (renamed), the others go (an object literal with a key twice is an
/// error in strict mode's eyes and a warning in esbuild's). `None` if no
/// line has the key.
fn snippet_key(js: &str, old: &str, new: &str) -> Option<String> {
    let key = format!("\"{old}\": ");
    let mut out = String::with_capacity(js.len());
    let mut seen = false;
    for line in js.split_inclusive('\n') {
        match line.trim_start().strip_prefix(key.as_str()) {
            Some(_) if seen => {}
            Some(value) => {
                seen = true;
                out.push_str(&line[..line.len() - line.trim_start().len()]);
                out.push_str(&format!("\"{new}\": {value}"));
            }
            None => out.push_str(line),
        }
    }
    seen.then_some(out)
}

/// Replace the one occurrence of `from` (exactly one must be there).
fn replace_key(text: &mut String, from: &str, to: &str) -> Result<()> {
    match text.matches(from).count() {
        1 => {
            *text = text.replacen(from, to, 1);
            Ok(())
        }
        n => Err(format!("expected {from:?} once in the glue, found it {n} times")),
    }
}

/// Replace every occurrence of `from` that is not part of a longer
/// identifier (there may be none).
fn replace_words(text: &mut String, from: &str, to: &str) {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    while let Some(at) = find_word(text, from, last) {
        out.push_str(&text[last..at]);
        out.push_str(to);
        last = at + from.len();
    }
    out.push_str(&text[last..]);
    *text = out;
}

fn ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// Where `word` occurs from `start` on, not inside a longer identifier.
fn find_word(text: &str, word: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut from = start;
    while let Some(i) = text[from..].find(word) {
        let at = from + i;
        let end = at + word.len();
        let starts = at == 0 || !ident(b[at - 1]);
        if starts && (end == b.len() || !ident(b[end])) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Short names: `a`..`Z`, then `aa`..`ZZ` (without JavaScript's two-letter
/// keywords, though object keys and properties could be).
#[derive(Default)]
struct Short(usize);

impl Short {
    fn next(&mut self) -> String {
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        loop {
            let mut n = self.0;
            self.0 += 1;
            let mut name = String::new();
            loop {
                name.insert(0, char::from(LETTERS[n % LETTERS.len()]));
                if n < LETTERS.len() {
                    break;
                }
                n = n / LETTERS.len() - 1;
            }
            if !["do", "if", "in"].contains(&name.as_str()) {
                return name;
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Import,
    Export,
}

/// A new (module, name) for an import or export, or none to keep it.
type Rename<'a> = dyn FnMut(Section, Option<&str>, &str) -> Option<(String, String)> + 'a;

/// The module with its import and export sections re-encoded through `rename`.
fn rewrite(wasm: &[u8], rename: &mut Rename) -> Result<Vec<u8>> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err("not a wasm module".into());
    }
    let mut out = wasm[..8].to_vec();
    let mut r = Reader { b: wasm, at: 8 };
    while r.at < wasm.len() {
        let id = r.byte()?;
        let size = r.leb()? as usize;
        let body = r.take(size)?;
        let body = match id {
            2 => section(body, Section::Import, rename)?,
            7 => section(body, Section::Export, rename)?,
            _ => body.to_vec(),
        };
        out.push(id);
        put_leb(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
    }
    Ok(out)
}

fn section(body: &[u8], kind: Section, rename: &mut Rename) -> Result<Vec<u8>> {
    let mut r = Reader { b: body, at: 0 };
    let count = r.leb()?;
    let mut out = Vec::with_capacity(body.len());
    put_leb(&mut out, count);
    for _ in 0..count {
        let module = if kind == Section::Import { Some(r.name()?) } else { None };
        let name = r.name()?;
        let start = r.at;
        if kind == Section::Import {
            r.import_desc()?;
        } else {
            r.byte()?;
            r.leb()?;
        }
        let desc = &body[start..r.at];
        let (module, name) = match rename(kind, module, name) {
            Some((m, n)) => (module.map(|_| m), n),
            None => (module.map(str::to_owned), name.to_owned()),
        };
        if let Some(m) = module {
            put_name(&mut out, &m);
        }
        put_name(&mut out, &name);
        out.extend_from_slice(desc);
    }
    if r.at != body.len() {
        return Err("trailing bytes in an import or export section".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_module_key_is_renamed_once_and_its_repeats_dropped() {
        let m = "./snippets/x-0123456789abcdef/js/a.js";
        let js = format!(
            "    imports.a = {{}};\n        \"{m}\": import1,\n        \"{m}\": import2,\n        \"./other.js\": import3,\n"
        );
        let out = snippet_key(&js, m, "c").unwrap();
        assert_eq!(out, "    imports.a = {};\n        \"c\": import1,\n        \"./other.js\": import3,\n");
        assert_eq!(snippet_key(&js, "./missing.js", "d"), None);
    }
}
