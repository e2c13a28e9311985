//! The hashes digest authentication needs, and their hex form: MD5
//! (RFC 1321) as a compact loop over the 64 steps instead of the unrolled
//! `md-5` crate, SHA-256 (FIPS 180-4) from sha2's compact block function.
//! Both pad the message the same way (a 1 bit, zeros, the bit length: MD5's
//! little-endian, SHA-256's big-endian). The hashed strings are a few dozen
//! bytes, so speed does not matter; code size in the wasm does.

use sha2::digest::generic_array::GenericArray;

/// The per-step shift amounts, four per round.
const SHIFTS: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/// `floor(abs(sin(i + 1)) * 2^32)`, RFC 1321 section 3.4.
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// `data` padded to whole 64-byte blocks, its bit length last.
fn pad(data: &[u8], big_endian: bool) -> Vec<u8> {
    let mut padded = data.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    let bits = u64::try_from(data.len()).unwrap_or(u64::MAX).wrapping_mul(8);
    padded.extend_from_slice(&if big_endian { bits.to_be_bytes() } else { bits.to_le_bytes() });
    padded
}

/// The 16-byte MD5 digest of `data`.
pub(crate) fn md5(data: &[u8]) -> [u8; 16] {
    let mut state: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    let padded = pad(data, false);
    // By index, not `chunks_exact`: its iterator brought its own code.
    let mut at = 0;
    while at < padded.len() {
        let block = &padded[at..at + 64];
        at += 64;
        let mut words = [0u32; 16];
        for (i, b) in block.iter().enumerate() {
            words[i / 4] |= u32::from(*b) << (i % 4 * 8);
        }
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let sum = a.wrapping_add(f).wrapping_add(K[i]).wrapping_add(words[g]);
            (a, d, c) = (d, c, b);
            b = b.wrapping_add(sum.rotate_left(SHIFTS[i / 16 * 4 + i % 4]));
        }
        state[0] = state[0].wrapping_add(a);
        state[1] = state[1].wrapping_add(b);
        state[2] = state[2].wrapping_add(c);
        state[3] = state[3].wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (state[i / 4] >> (i % 4 * 8)) as u8;
    }
    out
}

/// The 32-byte SHA-256 digest of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let mut state: [u32; 8] =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let padded = pad(data, true);
    let mut at = 0;
    while at < padded.len() {
        let block = &padded[at..at + 64];
        at += 64;
        sha2::compress256(&mut state, std::slice::from_ref(GenericArray::from_slice(block)));
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (state[i / 4] >> (24 - i % 4 * 8)) as u8;
    }
    out
}

/// Lowercase hex digits of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    tabphone_json::push_hex(&mut out, bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1321 appendix A.5, the test suite.
    #[test]
    fn rfc1321_test_suite() {
        for (input, want) in [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ] {
            assert_eq!(hex(&md5(input.as_bytes())), want, "{input:?}");
        }
    }

    /// FIPS 180-4's examples (NIST CSRC, "SHA256.pdf"): one block and two.
    #[test]
    fn sha256_examples() {
        assert_eq!(hex(&sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(
            hex(&sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(hex(&sha256(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    /// Lengths around the padding boundaries (55, 56, 63, 64, 119, 120 bytes),
    /// against the `md-5` and `sha2` crates' own digests.
    #[test]
    fn padding_boundaries_match_the_crates() {
        use md5::{Digest as _, Md5};
        use sha2::Sha256;
        for len in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            assert_eq!(md5(&data), <[u8; 16]>::from(Md5::digest(&data)), "MD5, len {len}");
            assert_eq!(sha256(&data), <[u8; 32]>::from(Sha256::digest(&data)), "SHA-256, len {len}");
        }
    }
}
