//! Writing: escaped strings, and objects and arrays built field by field.

/// Append `s` as a JSON string literal.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(s.get(last..i).unwrap_or_default());
        match esc {
            Some(e) => out.push_str(e),
            None => {
                out.push_str("\\u00");
                push_hex(out, &[b]);
            }
        }
        last = i + 1;
    }
    out.push_str(s.get(last..).unwrap_or_default());
    out.push('"');
}

/// `s` quoted for a message to a person, as a JSON string literal: what
/// `{:?}` writes for text without control characters (those come out as
/// `\u00XX`), without linking `str`'s `Debug` and its Unicode tables into
/// the wasm (3 KB gzip with every derived `Debug` it pulled in).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_str(&mut out, s);
    out
}

/// A JSON object under construction: `Obj::new().str("t", "x").num("id", 1).end()`.
/// The field methods take and give back `&mut Obj` (not the builder by
/// value, which copied it in and out at every field of every caller).
///
/// Objects and arrays inside it are written in place (no text of their own
/// to copy in): [`Obj::open`] a field, write its fields (or [`Obj::item`]s),
/// [`Obj::close`] it: `{"a":{"b":1},"c":[{}]}` is
/// `o.open("a", '{').num("b", 1).close('}').open("c", '[').item('{').close('}').close(']')`.
pub struct Obj(String);

impl Obj {
    /// `{`
    pub fn new() -> Obj {
        Obj(String::from("{"))
    }

    /// A comma before a member, unless it is the first of the object or
    /// array opened last.
    fn sep(&mut self) -> &mut String {
        if !matches!(self.0.as_bytes().last(), Some(b'{' | b'[') | None) {
            self.0.push(',');
        }
        &mut self.0
    }

    fn key(&mut self, k: &str) -> &mut String {
        push_str(self.sep(), k);
        self.0.push(':');
        &mut self.0
    }

    /// Field `k`, an object (`open` is `{`) or an array (`[`) whose
    /// fields or items follow, until [`Obj::close`].
    pub fn open(&mut self, k: &str, open: char) -> &mut Obj {
        self.key(k).push(open);
        self
    }

    /// An item of the array opened last: an object (`{`) or an array
    /// (`[`) whose fields or items follow, until [`Obj::close`].
    pub fn item(&mut self, open: char) -> &mut Obj {
        self.sep().push(open);
        self
    }

    /// A string item of the array opened last.
    pub fn str_item(&mut self, v: &str) -> &mut Obj {
        push_str(self.sep(), v);
        self
    }

    /// The end (`}` or `]`) of the object or array opened last.
    pub fn close(&mut self, close: char) -> &mut Obj {
        self.0.push(close);
        self
    }

    /// A string field.
    pub fn str(&mut self, k: &str, v: &str) -> &mut Obj {
        push_str(self.key(k), v);
        self
    }

    /// A number field.
    pub fn num(&mut self, k: &str, v: u64) -> &mut Obj {
        push_u64(self.key(k), v);
        self
    }

    /// A bool field.
    pub fn bool(&mut self, k: &str, v: bool) -> &mut Obj {
        self.raw(k, if v { "true" } else { "false" })
    }

    /// A string field, `null` when `None`.
    pub fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Obj {
        match v {
            Some(v) => self.str(k, v),
            None => self.raw(k, "null"),
        }
    }

    /// A number field, `null` when `None`.
    pub fn opt_num(&mut self, k: &str, v: Option<u64>) -> &mut Obj {
        match v {
            Some(v) => self.num(k, v),
            None => self.raw(k, "null"),
        }
    }

    /// A field whose value is already valid JSON text.
    pub fn raw(&mut self, k: &str, v: &str) -> &mut Obj {
        self.key(k).push_str(v);
        self
    }

    /// `}`: the text (the builder is left empty).
    pub fn end(&mut self) -> String {
        self.0.push('}');
        core::mem::take(&mut self.0)
    }
}

impl Default for Obj {
    fn default() -> Self {
        Obj::new()
    }
}

/// A JSON array under construction: `Arr::new().raw("1").str("a").end()`.
pub struct Arr(String);

impl Arr {
    /// `[`
    pub fn new() -> Arr {
        Arr(String::from("["))
    }

    fn sep(&mut self) -> &mut String {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        &mut self.0
    }

    /// An item that is already valid JSON text.
    pub fn raw(&mut self, v: &str) -> &mut Arr {
        self.sep().push_str(v);
        self
    }

    /// A string item.
    pub fn str(&mut self, v: &str) -> &mut Arr {
        push_str(self.sep(), v);
        self
    }

    /// `]`: the text (the builder is left empty).
    pub fn end(&mut self) -> String {
        self.0.push(']');
        core::mem::take(&mut self.0)
    }
}

impl Default for Arr {
    fn default() -> Self {
        Arr::new()
    }
}

/// Append `bytes` as lowercase hex, two digits a byte, the high one first.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
}

/// Append `bytes` as text, each invalid UTF-8 sequence replaced by U+FFFD:
/// what `String::from_utf8_lossy` gives (the same maximal invalid parts,
/// `Utf8Error::error_len`), without std's chunk iterator in the wasm.
pub fn push_lossy(out: &mut String, mut bytes: &[u8]) {
    loop {
        match core::str::from_utf8(bytes) {
            Ok(text) => return out.push_str(text),
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(core::str::from_utf8(good).unwrap_or_default());
                out.push('\u{FFFD}');
                match e.error_len() {
                    Some(n) => bytes = &rest[n..],
                    None => return,
                }
            }
        }
    }
}

/// `bytes` as text, as [`push_lossy`] appends it.
pub fn lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    push_lossy(&mut out, bytes);
    out
}

/// Append `n` in decimal (without the formatting machinery).
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_text_is_what_std_gives() {
        let cases: &[&[u8]] = &[
            b"",
            b"plain",
            "caf\u{e9} \u{1F600}".as_bytes(),
            b"\xff",
            b"a\x80b",
            b"\xc0\x80",              // overlong
            b"\xed\xa0\x80x",         // a surrogate
            b"\xf4\x90\x80\x80",      // above U+10FFFF
            b"\xe2\x82",              // cut short at the end
            b"\xe2\x82z\xf0\x9f\x98", // cut short, twice
            b"\xf0\x9f\x98\x80\xf0",
        ];
        for bytes in cases {
            assert_eq!(lossy(bytes), String::from_utf8_lossy(bytes), "{bytes:?}");
        }
        // Random bytes, mostly from the UTF-8 lead and continuation ranges.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let mut bytes = Vec::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pool = [b'a', 0x80, 0x9f, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xff];
                bytes.push(pool[(seed % pool.len() as u64) as usize]);
            }
            seed = seed.wrapping_add(1);
            let mut out = String::from(">");
            push_lossy(&mut out, &bytes);
            assert_eq!(out[1..], String::from_utf8_lossy(&bytes), "{bytes:?}");
        }
    }

    #[test]
    fn hex_is_two_lowercase_digits_a_byte() {
        let mut out = String::from("x");
        push_hex(&mut out, &[0, 0x0f, 0xa5, 0xff]);
        assert_eq!(out, "x000fa5ff");
    }

    #[test]
    fn strings_round_trip() {
        for s in ["plain", "quote \" back \\ slash", "nl\n tab\t cr\r", "\u{1}\u{1f}", "é 電話 📞"] {
            let mut out = String::new();
            push_str(&mut out, s);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
            assert_eq!(crate::as_str(&out).unwrap(), s);
        }
    }

    #[test]
    fn objects_arrays_and_numbers() {
        assert_eq!(
            Obj::new().str("t", "x\"").num("id", 3).bool("b", false).raw("s", "[1]").end(),
            r#"{"t":"x\"","id":3,"b":false,"s":[1]}"#
        );
        assert_eq!(
            Obj::new().opt_str("a", None).opt_num("b", Some(7)).opt_str("c", Some("d")).end(),
            r#"{"a":null,"b":7,"c":"d"}"#
        );
        assert_eq!(Obj::new().end(), "{}");
        let o = &mut Obj::new();
        o.open("a", '{').num("b", 1).open("e", '{').close('}').close('}');
        o.open("c", '[').item('{').close('}').item('{').str("d", "x").close('}').close(']');
        o.open("f", '[').str_item("g").str_item("h").close(']').open("i", '[').close(']');
        assert_eq!(o.end(), r#"{"a":{"b":1,"e":{}},"c":[{},{"d":"x"}],"f":["g","h"],"i":[]}"#);
        assert_eq!(Arr::new().end(), "[]");
        assert_eq!(Arr::new().raw("1").str("a\n").raw("{}").end(), r#"[1,"a\n",{}]"#);
        for n in [0, 7, 10, 1_700_000_000_000, u64::MAX] {
            let mut out = String::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }
}
