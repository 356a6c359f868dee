//! The per-tile transforms of Winograd F(2x2, 3x3) and their adjoints, vectorised across a
//! row of tiles.
//!
//! Neighbouring tiles start two columns apart, so a zero-padded plane is kept split into its
//! even and odd columns (`e[r][k] = p[r][2k]`, `o[r][k] = p[r][2k + 1]`, `tw + 1` each): the
//! four columns of tile `tx` are then `e[tx], o[tx], e[tx + 1], o[tx + 1]`, and each of the 16
//! transformed values of a row of tiles is one element-wise combination of contiguous slices,
//! written as a contiguous run into the GEMM operand (`v[xi * xs + base + ty * tw + tx]`).
//! `tmp` is scratch of at least `8 (tw + 1)` values.

use super::winograd::Tiling;
use super::Conv2dGeometry;

/// `dst[i] = f(a[i], b[i], c[i], d[i])` (zip chains vectorise).
#[inline(always)]
fn comb4(
    dst: &mut [f32],
    a: &[f32],
    b: &[f32],
    c: &[f32],
    d: &[f32],
    f: impl Fn(f32, f32, f32, f32) -> f32,
) {
    for ((((o, &a), &b), &c), &d) in dst.iter_mut().zip(a).zip(b).zip(c).zip(d) {
        *o = f(a, b, c, d);
    }
}

/// `dst[i] += f(a[i], b[i], c[i], d[i])`.
#[inline(always)]
fn acc4(
    dst: &mut [f32],
    a: &[f32],
    b: &[f32],
    c: &[f32],
    d: &[f32],
    f: impl Fn(f32, f32, f32, f32) -> f32,
) {
    for ((((o, &a), &b), &c), &d) in dst.iter_mut().zip(a).zip(b).zip(c).zip(d) {
        *o += f(a, b, c, d);
    }
}

/// Copies plane `x` (`[H, W]`) into the split padded plane (`pe`, `po`: `[ph, tw + 1]`) at
/// offset (`pad_h`, `pad_w`), zeros elsewhere.
pub(super) fn split_pad(g: &Conv2dGeometry, t: &Tiling, x: &[f32], pe: &mut [f32], po: &mut [f32]) {
    let (p0, p1) = g.padding;
    let q = t.tw + 1;
    pe.fill(0.0);
    po.fill(0.0);
    for (iy, row) in x.chunks_exact(g.w).enumerate() {
        let r = (iy + p0) * q;
        // Input column ix lands in padded column ix + p1.
        let first_even = p1 % 2;
        let (even_dst, odd_dst) = (&mut pe[r..r + q], &mut po[r..r + q]);
        let (ed, od) = if first_even == 0 {
            (even_dst, odd_dst)
        } else {
            (odd_dst, even_dst)
        };
        // Columns ix = 0, 2, 4, ... go to `ed` from (p1) / 2, the others to `od`.
        for (d, s) in ed[p1 / 2..].iter_mut().zip(row.iter().step_by(2)) {
            *d = *s;
        }
        let start = p1.div_ceil(2);
        for (d, s) in od[start..].iter_mut().zip(row.iter().skip(1).step_by(2)) {
            *d = *s;
        }
    }
}

/// The inverse of [`split_pad`] without the padding: `x[iy][ix] = p[iy + pad_h][ix + pad_w]`.
pub(super) fn crop_unsplit(g: &Conv2dGeometry, t: &Tiling, pe: &[f32], po: &[f32], x: &mut [f32]) {
    let (p0, p1) = g.padding;
    let q = t.tw + 1;
    for (iy, row) in x.chunks_exact_mut(g.w).enumerate() {
        let r = (iy + p0) * q;
        let (es, os) = if p1 % 2 == 0 {
            (&pe[r..r + q], &po[r..r + q])
        } else {
            (&po[r..r + q], &pe[r..r + q])
        };
        for (d, s) in row.iter_mut().step_by(2).zip(&es[p1 / 2..]) {
            *d = *s;
        }
        for (d, s) in row.iter_mut().skip(1).step_by(2).zip(&os[p1.div_ceil(2)..]) {
            *d = *s;
        }
    }
}

/// Writes `V = B^T d B` of every tile of a split padded plane into `v[xi * xs + base + t]`.
pub(super) fn input_transform(
    t: &Tiling,
    pe: &[f32],
    po: &[f32],
    tmp: &mut [f32],
    v: &mut [f32],
    base: usize,
    xs: usize,
) {
    let (q, tw) = (t.tw + 1, t.tw);
    let (be, bo) = tmp[..8 * q].split_at_mut(4 * q);
    for ty in 0..t.th {
        // Rows: b = B^T d over the tile's four padded rows, for even and odd columns.
        for (plane, b) in [(pe, &mut *be), (po, &mut *bo)] {
            let rows = &plane[2 * ty * q..(2 * ty + 4) * q];
            let (r0, rest) = rows.split_at(q);
            let (r1, rest) = rest.split_at(q);
            let (r2, r3) = rest.split_at(q);
            let (b0, rest) = b.split_at_mut(q);
            let (b1, rest) = rest.split_at_mut(q);
            let (b2, b3) = rest.split_at_mut(q);
            comb4(b0, r0, r1, r2, r3, |a, _, c, _| a - c);
            comb4(b1, r0, r1, r2, r3, |_, b, c, _| b + c);
            comb4(b2, r0, r1, r2, r3, |_, b, c, _| c - b);
            comb4(b3, r0, r1, r2, r3, |_, b, _, d| b - d);
        }
        // Columns: columns 0..4 of tile tx are e[tx], o[tx], e[tx + 1], o[tx + 1].
        let at = base + ty * tw;
        for r in 0..4 {
            let (e, o) = (&be[r * q..(r + 1) * q], &bo[r * q..(r + 1) * q]);
            let (e0, o0, e1, o1) = (&e[..tw], &o[..tw], &e[1..], &o[1..]);
            let dst = |j: usize| (4 * r + j) * xs + at;
            comb4(&mut v[dst(0)..dst(0) + tw], e0, o0, e1, o1, |a, _, c, _| {
                a - c
            });
            comb4(&mut v[dst(1)..dst(1) + tw], e0, o0, e1, o1, |_, b, c, _| {
                b + c
            });
            comb4(&mut v[dst(2)..dst(2) + tw], e0, o0, e1, o1, |_, b, c, _| {
                c - b
            });
            comb4(&mut v[dst(3)..dst(3) + tw], e0, o0, e1, o1, |_, b, _, d| {
                b - d
            });
        }
    }
}

/// Adds `B dV B^T` of every tile (from `dv[xi * xs + base + t]`) onto the split padded plane
/// (`pe`, `po`): the adjoint of [`input_transform`].
#[allow(clippy::too_many_arguments)]
pub(super) fn input_adjoint(
    t: &Tiling,
    dv: &[f32],
    base: usize,
    xs: usize,
    tmp: &mut [f32],
    pe: &mut [f32],
    po: &mut [f32],
) {
    let (q, tw) = (t.tw + 1, t.tw);
    let s = &mut tmp[..4 * tw];
    for ty in 0..t.th {
        let at = base + ty * tw;
        let d = |xi: usize| &dv[xi * xs + at..xi * xs + at + tw];
        for i in 0..4 {
            // s[j] = (B dV)[i][j] for the four columns j, then add s B^T onto padded row
            // 2 ty + i: columns 2tx..2tx+4 are e[tx], o[tx], e[tx + 1], o[tx + 1].
            for j in 0..4 {
                let dst = &mut s[j * tw..(j + 1) * tw];
                let (a, b, c, e) = (d(j), d(4 + j), d(8 + j), d(12 + j));
                match i {
                    0 => dst.copy_from_slice(a),
                    1 => comb4(dst, a, b, c, e, |_, b, c, e| b - c + e),
                    2 => comb4(dst, a, b, c, e, |a, b, c, _| b + c - a),
                    _ => comb4(dst, a, b, c, e, |_, _, _, e| -e),
                }
            }
            let (s0, rest) = s.split_at(tw);
            let (s1, rest) = rest.split_at(tw);
            let (s2, s3) = rest.split_at(tw);
            let r = (2 * ty + i) * q;
            let (e, o) = (&mut pe[r..r + q], &mut po[r..r + q]);
            acc4(&mut e[..tw], s0, s1, s2, s3, |a, _, _, _| a);
            acc4(&mut o[..tw], s0, s1, s2, s3, |_, b, c, d| b - c + d);
            acc4(&mut e[1..], s0, s1, s2, s3, |a, b, c, _| b + c - a);
            acc4(&mut o[1..], s0, s1, s2, s3, |_, _, _, d| -d);
        }
    }
}

/// Output tiles `A^T m A` (from `m[xi * xs + base + t]`) plus `bias`, written into plane `y`
/// (`[H', W']`), dropping the parts of edge tiles that fall outside it.
#[allow(clippy::too_many_arguments)]
pub(super) fn output_transform(
    t: &Tiling,
    m: &[f32],
    base: usize,
    xs: usize,
    bias: f32,
    tmp: &mut [f32],
    y: &mut [f32],
) {
    let tw = t.tw;
    let (s, out) = tmp[..6 * tw].split_at_mut(4 * tw);
    let (ev, od) = out.split_at_mut(tw);
    for ty in 0..t.th {
        let at = base + ty * tw;
        let d = |xi: usize| &m[xi * xs + at..xi * xs + at + tw];
        for i in 0..2 {
            let oy = 2 * ty + i;
            if oy >= t.oh {
                break;
            }
            // s[j] = (A^T m)[i][j], then the row's even and odd outputs (s A).
            for j in 0..4 {
                let dst = &mut s[j * tw..(j + 1) * tw];
                let (a, b, c, e) = (d(j), d(4 + j), d(8 + j), d(12 + j));
                if i == 0 {
                    comb4(dst, a, b, c, e, |a, b, c, _| a + b + c);
                } else {
                    comb4(dst, a, b, c, e, |_, b, c, e| b - c - e);
                }
            }
            let (s0, rest) = s.split_at(tw);
            let (s1, rest) = rest.split_at(tw);
            let (s2, s3) = rest.split_at(tw);
            comb4(ev, s0, s1, s2, s3, |a, b, c, _| a + b + c + bias);
            comb4(od, s0, s1, s2, s3, |_, b, c, d| b - c - d + bias);
            let row = &mut y[oy * t.ow..(oy + 1) * t.ow];
            let mut pairs = row.chunks_exact_mut(2);
            for ((p, &e), &o) in (&mut pairs).zip(ev.iter()).zip(od.iter()) {
                p[0] = e;
                p[1] = o;
            }
            if let [last] = pairs.into_remainder() {
                *last = ev[tw - 1];
            }
        }
    }
}

/// Writes `dM = A dY A^T` of every output tile of plane `dy` (`[H', W']`, zero past its edge)
/// into `m[xi * xs + base + t]`: the adjoint of [`output_transform`].
pub(super) fn output_adjoint(
    t: &Tiling,
    dy: &[f32],
    tmp: &mut [f32],
    m: &mut [f32],
    base: usize,
    xs: usize,
) {
    let tw = t.tw;
    let abcd = &mut tmp[..4 * tw];
    for ty in 0..t.th {
        // a, b: even and odd columns of output row 2 ty; c, d: of row 2 ty + 1 (zero past
        // the edge).
        abcd.fill(0.0);
        for i in 0..2 {
            let oy = 2 * ty + i;
            if oy >= t.oh {
                break;
            }
            let row = &dy[oy * t.ow..(oy + 1) * t.ow];
            let (ev, od) = abcd[2 * i * tw..(2 * i + 2) * tw].split_at_mut(tw);
            for (d, s) in ev.iter_mut().zip(row.iter().step_by(2)) {
                *d = *s;
            }
            for (d, s) in od.iter_mut().zip(row.iter().skip(1).step_by(2)) {
                *d = *s;
            }
        }
        let (a, rest) = abcd.split_at(tw);
        let (b, rest) = rest.split_at(tw);
        let (c, d) = rest.split_at(tw);
        let at = base + ty * tw;
        // Each closure its own type, so that every comb4 call is inlined and vectorised.
        macro_rules! put {
            ($xi:expr, $f:expr) => {{
                let o = $xi * xs + at;
                comb4(&mut m[o..o + tw], a, b, c, d, $f);
            }};
        }
        put!(0, |a, _, _, _| a);
        put!(1, |a, b, _, _| a + b);
        put!(2, |a, b, _, _| a - b);
        put!(3, |_, b, _, _| -b);
        put!(4, |a, _, c, _| a + c);
        put!(5, |a, b, c, d| (a + c) + (b + d));
        put!(6, |a, b, c, d| (a + c) - (b + d));
        put!(7, |_, b, _, d| -(b + d));
        put!(8, |a, _, c, _| a - c);
        put!(9, |a, b, c, d| (a - c) + (b - d));
        put!(10, |a, b, c, d| (a - c) - (b - d));
        put!(11, |_, b, _, d| -(b - d));
        put!(12, |_, _, c, _| -c);
        put!(13, |_, _, c, d| -c - d);
        put!(14, |_, _, c, d| d - c);
        put!(15, |_, _, _, d| d);
    }
}
