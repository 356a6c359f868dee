//! The vector the Winograd transforms compute on: 8 `f32` lanes (one AVX register when the
//! build targets AVX, an array otherwise), and plain `f32` for the tiles left over, behind one
//! trait so each transform is written once.

use std::ops::{Add, Mul, Sub};

/// A value per tile for `N` tiles at once.
pub(super) trait Lanes: Copy + Add<Output = Self> + Sub<Output = Self> + Mul<f32, Output = Self> {
    /// Tiles per value.
    const N: usize;
    /// `s[at..at + N]`.
    fn load(s: &[f32], at: usize) -> Self;
    /// Writes the lanes into `s[at..at + N]`.
    fn store(self, s: &mut [f32], at: usize);
    /// `x` in every lane.
    fn splat(x: f32) -> Self;
}

impl Lanes for f32 {
    const N: usize = 1;
    #[inline(always)]
    fn load(s: &[f32], at: usize) -> f32 {
        s[at]
    }
    #[inline(always)]
    fn store(self, s: &mut [f32], at: usize) {
        s[at] = self;
    }
    #[inline(always)]
    fn splat(x: f32) -> f32 {
        x
    }
}

pub(super) use f8::F8;

#[cfg(all(target_arch = "x86_64", target_feature = "avx"))]
mod f8 {
    use super::Lanes;
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_storeu_ps,
        _mm256_sub_ps,
    };
    use std::ops::{Add, Mul, Sub};

    /// Eight lanes in an AVX register.
    #[derive(Clone, Copy)]
    pub(in super::super) struct F8(__m256);

    impl Lanes for F8 {
        const N: usize = 8;
        #[inline(always)]
        fn load(s: &[f32], at: usize) -> F8 {
            let s = &s[at..at + 8];
            // SAFETY: `s` holds 8 values; AVX is enabled for this build (the cfg above).
            F8(unsafe { _mm256_loadu_ps(s.as_ptr()) })
        }
        #[inline(always)]
        fn store(self, s: &mut [f32], at: usize) {
            let s = &mut s[at..at + 8];
            // SAFETY: as in `load`.
            unsafe { _mm256_storeu_ps(s.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        fn splat(x: f32) -> F8 {
            // SAFETY: AVX is enabled for this build.
            F8(unsafe { _mm256_set1_ps(x) })
        }
    }

    impl Add for F8 {
        type Output = F8;
        #[inline(always)]
        fn add(self, o: F8) -> F8 {
            // SAFETY: AVX is enabled for this build.
            F8(unsafe { _mm256_add_ps(self.0, o.0) })
        }
    }

    impl Sub for F8 {
        type Output = F8;
        #[inline(always)]
        fn sub(self, o: F8) -> F8 {
            // SAFETY: AVX is enabled for this build.
            F8(unsafe { _mm256_sub_ps(self.0, o.0) })
        }
    }

    impl Mul<f32> for F8 {
        type Output = F8;
        #[inline(always)]
        fn mul(self, k: f32) -> F8 {
            // SAFETY: AVX is enabled for this build.
            F8(unsafe { _mm256_mul_ps(self.0, _mm256_set1_ps(k)) })
        }
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "avx")))]
mod f8 {
    use super::Lanes;
    use std::ops::{Add, Mul, Sub};

    /// Eight lanes as an array, for builds without AVX.
    #[derive(Clone, Copy)]
    pub(in super::super) struct F8([f32; 8]);

    impl Lanes for F8 {
        const N: usize = 8;
        #[inline(always)]
        fn load(s: &[f32], at: usize) -> F8 {
            F8(s[at..at + 8].try_into().expect("8 values"))
        }
        #[inline(always)]
        fn store(self, s: &mut [f32], at: usize) {
            s[at..at + 8].copy_from_slice(&self.0);
        }
        #[inline(always)]
        fn splat(x: f32) -> F8 {
            F8([x; 8])
        }
    }

    impl Add for F8 {
        type Output = F8;
        #[inline(always)]
        fn add(self, o: F8) -> F8 {
            F8(std::array::from_fn(|k| self.0[k] + o.0[k]))
        }
    }

    impl Sub for F8 {
        type Output = F8;
        #[inline(always)]
        fn sub(self, o: F8) -> F8 {
            F8(std::array::from_fn(|k| self.0[k] - o.0[k]))
        }
    }

    impl Mul<f32> for F8 {
        type Output = F8;
        #[inline(always)]
        fn mul(self, k: f32) -> F8 {
            F8(self.0.map(|x| x * k))
        }
    }
}
