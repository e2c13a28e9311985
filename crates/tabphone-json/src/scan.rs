//! Reading: check the syntax of a value, split an object into its fields and
//! an array into its items (values kept as validated raw text), decode
//! strings, numbers and booleans.
use std::borrow::Cow;

/// Deepest nesting accepted (serde_json's limit too).
const MAX_DEPTH: usize = 128;

/// Why a text is not the JSON expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What was wrong.
    pub what: &'static str,
    /// Byte offset where it was noticed.
    pub at: usize,
}

impl JsonError {
    /// "what at byte N".
    pub fn message(&self) -> String {
        // Pushes, not a `format!` site.
        let mut m = String::from(self.what);
        m.push_str(" at byte ");
        crate::push_u64(&mut m, self.at as u64);
        m
    }
}

struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

/// An object's fields (decoded key, raw value text) or an array's items
/// (empty keys), in order.
pub(crate) type Members<'a> = Vec<(Cow<'a, str>, &'a str)>;

impl<'a> Scanner<'a> {
    fn err<T>(&self, what: &'static str) -> Result<T, JsonError> {
        Err(JsonError { what, at: self.i })
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        if self.b.get(self.i..).is_some_and(|rest| rest.starts_with(word)) {
            self.i += word.len();
            Ok(())
        } else {
            self.err("invalid literal")
        }
    }

    /// Skip one value, checking its syntax.
    fn value(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return self.err("nested too deeply");
        }
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                self.members(b'}', depth + 1, None)
            }
            Some(b'[') => {
                self.i += 1;
                self.members(b']', depth + 1, None)
            }
            Some(b'"') => self.string().map(|_| ()),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("expected a value"),
            None => self.err("unexpected end"),
        }
    }

    /// The members of the object or array whose opening bracket was just
    /// eaten (`close` is its closing one), their values checked at `depth`.
    /// With `out`, each goes there ([`Members`]) and a duplicate key is an
    /// error. One loop for the syntax of both, collected or not.
    fn members(
        &mut self,
        close: u8,
        depth: usize,
        mut out: Option<&mut Members<'a>>,
    ) -> Result<(), JsonError> {
        let object = close == b'}';
        self.ws();
        if self.eat(close) {
            return Ok(());
        }
        loop {
            self.ws();
            let mut key = Cow::Borrowed("");
            if object {
                let at = self.i;
                let raw = self.string()?;
                if let Some(out) = &out {
                    // Slices end at ASCII quotes, so `get` always succeeds; it cannot panic.
                    key = decode(self.text.get(at + 1..at + 1 + raw.len()).unwrap_or_default())
                        .map_err(|what| JsonError { what, at })?;
                    for (k, _) in out.iter() {
                        if *k == key {
                            return Err(JsonError { what: "duplicate field", at });
                        }
                    }
                }
                self.ws();
                if !self.eat(b':') {
                    return self.err("expected ':'");
                }
                self.ws();
            }
            let start = self.i;
            self.value(depth)?;
            if let Some(out) = &mut out {
                out.push((key, self.text.get(start..self.i).unwrap_or_default()));
            }
            self.ws();
            if self.eat(close) {
                return Ok(());
            }
            if !self.eat(b',') {
                return self.err(if object { "expected ',' or '}'" } else { "expected ',' or ']'" });
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.b.get(self.i) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<(), JsonError> {
        self.eat(b'-');
        if self.eat(b'0') {
            // A leading zero stands alone.
        } else if self.digits() == 0 {
            return self.err("invalid number");
        }
        if self.eat(b'.') && self.digits() == 0 {
            return self.err("invalid number");
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _ = self.eat(b'+') || self.eat(b'-');
            if self.digits() == 0 {
                return self.err("invalid number");
            }
        }
        Ok(())
    }

    /// Check a string (the scanner is at its opening quote); its raw contents.
    fn string(&mut self) -> Result<&'a [u8], JsonError> {
        if !self.eat(b'"') {
            return self.err("expected a string");
        }
        let start = self.i;
        loop {
            match self.b.get(self.i) {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(self.b.get(start..self.i - 1).unwrap_or_default());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.b.get(self.i) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            let hex = self.b.get(self.i + 1..self.i + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return self.err("invalid \\u escape");
                            }
                            self.i += 5;
                        }
                        _ => return self.err("invalid escape"),
                    }
                }
                Some(0..=0x1f) => return self.err("control character in string"),
                Some(_) => self.i += 1,
            }
        }
    }
}

/// Is `text` one JSON value (with optional surrounding white space)?
pub fn validate(text: &str) -> Result<(), JsonError> {
    let mut s = Scanner { text, b: text.as_bytes(), i: 0 };
    s.value(0)?;
    s.ws();
    if s.i == s.b.len() {
        Ok(())
    } else {
        s.err("trailing characters")
    }
}

/// The top-level fields of a JSON object: (decoded key, raw value text), in
/// order. Every value is validated. Duplicate keys are an error.
pub fn fields(text: &str) -> Result<Members<'_>, JsonError> {
    members(text, b'{')
}

/// The items of a JSON array, as raw value texts, in order. Every item is
/// validated.
pub fn items(text: &str) -> Result<Vec<&str>, JsonError> {
    let mut items = Vec::new();
    for (_, item) in &members(text, b'[')? {
        items.push(*item);
    }
    Ok(items)
}

/// The members of the object (`open` is `{`) or array (`[`) that `text`
/// is ([`Members`]).
pub(crate) fn members(text: &str, open: u8) -> Result<Members<'_>, JsonError> {
    let mut s = Scanner { text, b: text.as_bytes(), i: 0 };
    let mut out = Vec::new();
    s.ws();
    if !s.eat(open) {
        return s.err(if open == b'{' { "expected an object" } else { "expected an array" });
    }
    let close = if open == b'{' { b'}' } else { b']' };
    s.members(close, 1, Some(&mut out))?;
    s.ws();
    if s.i != s.b.len() {
        return s.err("trailing characters");
    }
    Ok(out)
}

/// Decode the inside of a validated string literal (between the quotes).
fn decode(inner: &str) -> Result<Cow<'_, str>, &'static str> {
    if !inner.as_bytes().contains(&b'\\') {
        return Ok(Cow::Borrowed(inner));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or("invalid escape")?;
        out.push(match e {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hex = |chars: &mut std::str::Chars<'_>| -> Result<u32, &'static str> {
                    let mut n = 0;
                    for _ in 0..4 {
                        let digit = chars.next().and_then(|c| c.to_digit(16));
                        n = n * 16 + digit.ok_or("invalid \\u escape")?;
                    }
                    Ok(n)
                };
                let hi = hex(&mut chars)?;
                let code = if (0xD800..0xDC00).contains(&hi) {
                    if chars.next() != Some('\\') || chars.next() != Some('u') {
                        return Err("lone surrogate");
                    }
                    let lo = hex(&mut chars)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err("lone surrogate");
                    }
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else {
                    hi
                };
                char::from_u32(code).ok_or("lone surrogate")?
            }
            _ => return Err("invalid escape"),
        });
    }
    Ok(Cow::Owned(out))
}

/// A raw value as a string, if it is one.
pub fn as_str(raw: &str) -> Option<Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    decode(inner).ok()
}

/// A raw value as an unsigned integer, if it is one that fits.
/// (What `str::parse::<u64>` accepts, a `+` too, without its generic code.)
pub fn as_u64(raw: &str) -> Option<u64> {
    let digits = match raw.as_bytes() {
        [b'+', rest @ ..] => rest,
        all => all,
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in digits {
        let d = u64::from(b.wrapping_sub(b'0'));
        // n * 10 + d <= u64::MAX, without a 128-bit multiplication.
        if d > 9 || n > (u64::MAX - d) / 10 {
            return None;
        }
        n = n * 10 + d;
    }
    Some(n)
}

/// A raw value as a bool, if it is one.
pub fn as_bool(raw: &str) -> Option<bool> {
    match raw {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Where `s` starts and ends without its leading and trailing white space
/// (Unicode's, as `str::trim`): the first byte of the first other char, the
/// end of the last one (0 when there is none). One forward pass, one small
/// copy for the crates that share this one rather than std's pattern code.
fn unspaced(s: &str) -> (usize, usize) {
    let (mut start, mut end) = (s.len(), 0);
    for (i, c) in s.char_indices() {
        if !c.is_whitespace() {
            start = start.min(i);
            end = i + c.len_utf8();
        }
    }
    (start, end)
}

/// `s` without its leading white space: `str::trim_start`.
pub fn trim_start(s: &str) -> &str {
    &s[unspaced(s).0..]
}

/// `s` without its trailing white space: `str::trim_end`.
pub fn trim_end(s: &str) -> &str {
    &s[..unspaced(s).1]
}

/// `s` without leading and trailing white space: `str::trim`.
pub fn trim(s: &str) -> &str {
    let (start, end) = unspaced(s);
    &s[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_as_std() {
        for s in
            ["", " ", "a", " a ", "\t\r\n a b \n", "\u{a0}é\u{2003}", "\u{3000}", "x\u{85}", " \u{2028}y"]
        {
            assert_eq!(trim(s), s.trim(), "{s:?}");
            assert_eq!(trim_start(s), s.trim_start(), "{s:?}");
            assert_eq!(trim_end(s), s.trim_end(), "{s:?}");
        }
    }

    #[test]
    fn fields_in_order_with_raw_values() {
        let f = fields(r#" {"t":"sync", "state": {"a":[1,2,{"b":null}]} ,"n":-1.5e3} "#).unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!((f[0].0.as_ref(), f[0].1), ("t", r#""sync""#));
        assert_eq!(f[1].1, r#"{"a":[1,2,{"b":null}]}"#);
        assert_eq!(f[2].1, "-1.5e3");
    }

    #[test]
    fn rejects_what_json_rejects() {
        for bad in [
            "",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{'a':1}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":tru}",
            "{\"a\":1} x",
            "[1]",
            "{\"a\":1,\"a\":2}",
            "{\"a\":\"\\x\"}",
        ] {
            assert!(fields(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(validate(&deep).is_err());
    }

    #[test]
    fn items_in_order_with_raw_values() {
        assert_eq!(
            items(r#" [ 1, "a,b", {"c":[2]} ,null] "#).unwrap(),
            ["1", r#""a,b""#, r#"{"c":[2]}"#, "null"]
        );
        assert!(items("[]").unwrap().is_empty());
        for bad in ["", "[", "[1,]", "[1 2]", "{}", "[1] x", "[,]"] {
            assert!(items(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn strings_decode() {
        assert_eq!(as_str(r#""quote \" back \\ slash \n""#).unwrap(), "quote \" back \\ slash \n");
        assert_eq!(as_str(r#""\ud83d\udcde \u00e9""#).unwrap(), "📞 é");
        assert_eq!(as_str(r#""\ud83d""#), None, "lone surrogate");
    }

    #[test]
    fn scalars() {
        assert_eq!(as_u64("42"), Some(42));
        assert_eq!(as_u64("-1"), None);
        assert_eq!(as_u64("1.5"), None);
        assert_eq!(as_u64("18446744073709551616"), None);
        for raw in
            ["0", "+7", "+", "", "007", "18446744073709551615", "18446744073709551620", "1a", " 1", "-0"]
        {
            assert_eq!(as_u64(raw), raw.parse().ok(), "{raw:?}");
        }
        assert_eq!(as_bool("true"), Some(true));
    }
}
