//! Integer helpers shared by the modules that reduce sample-rate and frame-rate ratios.

/// Greatest common divisor (Euclid); `gcd(a, 0) = a`.
pub(crate) fn gcd<T>(mut a: T, mut b: T) -> T
where
    T: Copy + PartialEq + Default + std::ops::Rem<Output = T>,
{
    while b != T::default() {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::gcd;

    #[test]
    fn gcd_of_rates() {
        assert_eq!(gcd(48_000u32, 16_000), 16_000);
        assert_eq!(gcd(44_100u64, 16_000), 100);
        assert_eq!(gcd(44_099usize, 16_000), 1);
        assert_eq!(gcd(24_000u128, 1001), 1);
        assert_eq!(gcd(7u32, 0), 7);
    }
}
