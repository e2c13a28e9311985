//! Reading and writing the bits of the wasm binary format the build's
//! rewrites need (`names.rs`, `order.rs`).
use super::Result;

/// A cursor over wasm bytes.
pub struct Reader<'a> {
    pub b: &'a [u8],
    pub at: usize,
}

impl<'a> Reader<'a> {
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let s = self.b.get(self.at..self.at + n).ok_or("wasm ends early")?;
        self.at += n;
        Ok(s)
    }

    pub fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn leb(&mut self) -> Result<u64> {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return Err("bad LEB128 in the wasm".into());
            }
        }
    }

    pub fn name(&mut self) -> Result<&'a str> {
        let n = self.leb()? as usize;
        std::str::from_utf8(self.take(n)?).map_err(|e| format!("wasm name: {e}"))
    }

    pub fn limits(&mut self) -> Result<()> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }

    /// Skip an import's description; its kind: 0 function, 1 table,
    /// 2 memory, 3 global, 4 tag.
    pub fn import_desc(&mut self) -> Result<u8> {
        let kind = self.byte()?;
        match kind {
            0x00 => self.leb().map(drop),
            0x01 => {
                self.byte()?;
                self.limits()
            }
            0x02 => self.limits(),
            0x03 => self.take(2).map(drop),
            0x04 => {
                self.byte()?;
                self.leb().map(drop)
            }
            k => Err(format!("unknown import kind {k:#x}")),
        }?;
        Ok(kind)
    }
}

/// Append `v` as unsigned LEB128.
pub fn put_leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Append a wasm name: its length, then its UTF-8 bytes.
pub fn put_name(out: &mut Vec<u8>, name: &str) {
    put_leb(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}
