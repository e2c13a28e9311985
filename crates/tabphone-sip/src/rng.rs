//! The crate's one pseudo-random generator: xorshift64*, deterministic for a
//! seed. The seed comes from the caller ([`crate::ua::Config::seed`],
//! [`crate::transport::TransportConfig::seed`]); nothing here draws entropy.

/// xorshift64* (Vigna 2014): fast, small, good enough for tags, branches,
/// jitter and tie-breaks; not for secrets.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for `seed` (0 is taken as 1: xorshift needs a non-zero state).
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next 64 bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` lowercase hex digits.
    pub(crate) fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            let r = self.next_u64();
            for i in 0..16 {
                if s.len() == n {
                    break;
                }
                let d = ((r >> (i * 4)) & 15) as u32;
                s.push(char::from_digit(d, 16).unwrap_or('0'));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_in_range() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.next_u64(), b.next_u64());
        assert_eq!(a.hex(21), b.hex(21));
        assert!(a.hex(21).bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!((0..1000).map(|_| a.unit()).all(|u| (0.0..1.0).contains(&u)));
        assert_eq!(Rng::new(0).next_u64(), Rng::new(1).next_u64());
    }
}
