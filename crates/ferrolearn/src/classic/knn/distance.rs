//! The L1 distance kernels: one query against a block of training rows, with the widest SIMD
//! the CPU offers (AVX-512, AVX2, or portable code the compiler vectorises).

/// Lanes per accumulator of the L1 kernel (one AVX-512 register of f32).
const LANES: usize = 16;

/// `out[j] = sum_i |q[i] - t[j*d + i]|` for the rows of `t`, using the widest SIMD the CPU
/// offers (checked at run time).
pub(super) fn l1_distances(q: &[f32], t: &[f32], d: usize, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            unsafe { l1_distances_avx512(q, t, d, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { l1_distances_avx2(q, t, d, out) };
            return;
        }
    }
    l1_distances_portable(q, t, d, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn l1_distances_avx512(q: &[f32], t: &[f32], d: usize, out: &mut [f32]) {
    l1_distances_portable(q, t, d, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn l1_distances_avx2(q: &[f32], t: &[f32], d: usize, out: &mut [f32]) {
    l1_distances_portable(q, t, d, out);
}

/// The L1 kernel, written so the compiler vectorises it: four training rows per pass share
/// each load of the query, and every row keeps `LANES` independent partial sums.
#[inline(always)]
fn l1_distances_portable(q: &[f32], t: &[f32], d: usize, out: &mut [f32]) {
    let mut rows = t.chunks_exact(d);
    let mut outs = out.chunks_exact_mut(4);
    for o in &mut outs {
        let (Some(t0), Some(t1), Some(t2), Some(t3)) =
            (rows.next(), rows.next(), rows.next(), rows.next())
        else {
            break;
        };
        o.copy_from_slice(&l1_four(q, [t0, t1, t2, t3]));
    }
    for (o, row) in outs.into_remainder().iter_mut().zip(rows) {
        *o = l1_one(q, row);
    }
}

/// `sum |q - t_r|` for four rows at once.
#[inline(always)]
fn l1_four(q: &[f32], t: [&[f32]; 4]) -> [f32; 4] {
    let (qc, qt) = q.as_chunks::<LANES>();
    let (c0, t0) = t[0].as_chunks::<LANES>();
    let (c1, t1) = t[1].as_chunks::<LANES>();
    let (c2, t2) = t[2].as_chunks::<LANES>();
    let (c3, t3) = t[3].as_chunks::<LANES>();
    let (mut a0, mut a1, mut a2, mut a3) =
        ([0f32; LANES], [0f32; LANES], [0f32; LANES], [0f32; LANES]);
    for ((((x, y0), y1), y2), y3) in qc.iter().zip(c0).zip(c1).zip(c2).zip(c3) {
        for l in 0..LANES {
            a0[l] += (x[l] - y0[l]).abs();
            a1[l] += (x[l] - y1[l]).abs();
            a2[l] += (x[l] - y2[l]).abs();
            a3[l] += (x[l] - y3[l]).abs();
        }
    }
    [
        a0.iter().sum::<f32>() + tail_l1(qt, t0),
        a1.iter().sum::<f32>() + tail_l1(qt, t1),
        a2.iter().sum::<f32>() + tail_l1(qt, t2),
        a3.iter().sum::<f32>() + tail_l1(qt, t3),
    ]
}

/// `sum |q - t|` for one row (same summation order as [`l1_four`]).
#[inline(always)]
fn l1_one(q: &[f32], t: &[f32]) -> f32 {
    let (qc, qt) = q.as_chunks::<LANES>();
    let (c0, t0) = t.as_chunks::<LANES>();
    let mut a0 = [0f32; LANES];
    for (x, y0) in qc.iter().zip(c0) {
        for l in 0..LANES {
            a0[l] += (x[l] - y0[l]).abs();
        }
    }
    a0.iter().sum::<f32>() + tail_l1(qt, t0)
}

#[inline(always)]
fn tail_l1(q: &[f32], t: &[f32]) -> f32 {
    q.iter().zip(t).map(|(a, b)| (a - b).abs()).sum()
}
