//! The per-tile transforms of Winograd F(4x4, 3x3) and their adjoints, vectorised across all
//! the tiles of a block.
//!
//! A block holds `tt` tiles (every tile of a few whole images). For one channel, the 36 values
//! of every tile's 6x6 input window are first gathered into `d[(6 r + c) tt + tile]`, so each
//! transform is a handful of element-wise combinations of `tt`-long rows, written straight
//! into the GEMM operand as contiguous runs (`v[xi * xs + base + tile]`). The outputs go the
//! other way: the 36 GEMM results of a channel are combined into 16 rows of tile outputs
//! (`o[(4 r + c) tt + tile]`) and then scattered into the output planes.
//!
//! The matrices are those of Lavin and Gray (2016) with points `0, ±1, ±2, ∞`:
//! `B^T` ([`bt6`]), `G` ([`g6`]) and `A^T` ([`at4`]); the adjoints use their transposes
//! ([`b6`], [`g3`], [`a6`]).

use super::winograd::Tiling;
use super::Conv2dGeometry;

/// `o = B^T x` element-wise over six input rows (`B^T` is 6x6).
#[inline(always)]
fn bt6(o: [&mut [f32]; 6], x: [&[f32]; 6]) {
    let [o0, o1, o2, o3, o4, o5] = o;
    let n = o0.len();
    let (o1, o2, o3, o4, o5) = (
        &mut o1[..n],
        &mut o2[..n],
        &mut o3[..n],
        &mut o4[..n],
        &mut o5[..n],
    );
    let [x0, x1, x2, x3, x4, x5] = x.map(|s| &s[..n]);
    for k in 0..n {
        let (a, b, c, d, e, f) = (x0[k], x1[k], x2[k], x3[k], x4[k], x5[k]);
        o0[k] = 4.0 * a - 5.0 * c + e;
        o1[k] = (d + e) - 4.0 * (b + c);
        o2[k] = (e - d) + 4.0 * (b - c);
        o3[k] = (e - c) + 2.0 * (d - b);
        o4[k] = (e - c) - 2.0 * (d - b);
        o5[k] = 4.0 * b - 5.0 * d + f;
    }
}

/// `o = B x` element-wise (the transpose of [`bt6`]).
#[inline(always)]
fn b6(o: [&mut [f32]; 6], x: [&[f32]; 6]) {
    let [o0, o1, o2, o3, o4, o5] = o;
    let n = o0.len();
    let (o1, o2, o3, o4, o5) = (
        &mut o1[..n],
        &mut o2[..n],
        &mut o3[..n],
        &mut o4[..n],
        &mut o5[..n],
    );
    let [x0, x1, x2, x3, x4, x5] = x.map(|s| &s[..n]);
    for k in 0..n {
        let (a, b, c, d, e, f) = (x0[k], x1[k], x2[k], x3[k], x4[k], x5[k]);
        o0[k] = 4.0 * a;
        o1[k] = 4.0 * (c - b + f) + 2.0 * (e - d);
        o2[k] = -5.0 * a - 4.0 * (b + c) - (d + e);
        o3[k] = (b - c) + 2.0 * (d - e) - 5.0 * f;
        o4[k] = a + b + c + d + e;
        o5[k] = f;
    }
}

/// `o = A^T x + bias` element-wise (`A^T` is 4x6).
#[inline(always)]
fn at4(o: [&mut [f32]; 4], x: [&[f32]; 6], bias: f32) {
    let [o0, o1, o2, o3] = o;
    let n = o0.len();
    let (o1, o2, o3) = (&mut o1[..n], &mut o2[..n], &mut o3[..n]);
    let [x0, x1, x2, x3, x4, x5] = x.map(|s| &s[..n]);
    for k in 0..n {
        let (a, b, c, d, e, f) = (x0[k], x1[k], x2[k], x3[k], x4[k], x5[k]);
        let (s1, d1, s2, d2) = (b + c, b - c, d + e, d - e);
        o0[k] = a + s1 + s2 + bias;
        o1[k] = d1 + 2.0 * d2 + bias;
        o2[k] = s1 + 4.0 * s2 + bias;
        o3[k] = d1 + 8.0 * d2 + f + bias;
    }
}

/// `o = A x` element-wise (the transpose of [`at4`]: 4 inputs, 6 outputs).
#[inline(always)]
fn a6(o: [&mut [f32]; 6], x: [&[f32]; 4]) {
    let [o0, o1, o2, o3, o4, o5] = o;
    let n = o0.len();
    let (o1, o2, o3, o4, o5) = (
        &mut o1[..n],
        &mut o2[..n],
        &mut o3[..n],
        &mut o4[..n],
        &mut o5[..n],
    );
    let [x0, x1, x2, x3] = x.map(|s| &s[..n]);
    for k in 0..n {
        let (a, b, c, d) = (x0[k], x1[k], x2[k], x3[k]);
        let (ac, bd, ac4, bd8) = (a + c, b + d, a + 4.0 * c, 2.0 * b + 8.0 * d);
        o0[k] = a;
        o1[k] = ac + bd;
        o2[k] = ac - bd;
        o3[k] = ac4 + bd8;
        o4[k] = ac4 - bd8;
        o5[k] = d;
    }
}

/// `G g` for one 3-vector (`G` is 6x3).
#[inline(always)]
pub(super) fn g6([a, b, c]: [f32; 3]) -> [f32; 6] {
    let (ac, p, q) = (a + c, a / 24.0 + c / 6.0, b / 12.0);
    [a / 4.0, -(ac + b) / 6.0, -(ac - b) / 6.0, p + q, p - q, c]
}

/// `G^T d` for one 6-vector (the transpose of [`g6`]).
#[inline(always)]
pub(super) fn g3([a, b, c, d, e, f]: [f32; 6]) -> [f32; 3] {
    [
        a / 4.0 - (b + c) / 6.0 + (d + e) / 24.0,
        (c - b) / 6.0 + (d - e) / 12.0,
        (d + e - b - c) / 6.0 + f,
    ]
}

/// `K` disjoint mutable slices of `len` values starting at the ascending `offsets` of `buf`.
fn slices_mut<const K: usize>(buf: &mut [f32], offsets: [usize; K], len: usize) -> [&mut [f32]; K] {
    let mut out: [&mut [f32]; K] = std::array::from_fn(|_| Default::default());
    let (mut rest, mut at) = (buf, 0);
    for (slot, off) in out.iter_mut().zip(offsets) {
        let (_, tail) = std::mem::take(&mut rest).split_at_mut(off - at);
        let (head, tail) = tail.split_at_mut(len);
        *slot = head;
        rest = tail;
        at = off + len;
    }
    out
}

/// `K` slices of `len` values of `buf` at `offsets`.
fn slices<const K: usize>(buf: &[f32], offsets: [usize; K], len: usize) -> [&[f32]; K] {
    offsets.map(|o| &buf[o..o + len])
}

/// Copies plane `x` (`[H, W]`) into the padded plane `p` (`[ph, pw]`) at offset
/// (`pad_h`, `pad_w`), zeros elsewhere.
pub(super) fn pad(g: &Conv2dGeometry, t: &Tiling, x: &[f32], p: &mut [f32]) {
    let (p0, p1) = g.padding;
    let (top, rest) = p.split_at_mut(p0 * t.pw);
    top.fill(0.0);
    let (middle, bottom) = rest.split_at_mut(g.h * t.pw);
    bottom.fill(0.0);
    for (row, src) in middle.chunks_exact_mut(t.pw).zip(x.chunks_exact(g.w)) {
        let (left, right) = row.split_at_mut(p1);
        left.fill(0.0);
        right[..g.w].copy_from_slice(src);
        right[g.w..].fill(0.0);
    }
}

/// The inverse of [`pad`]: `x[iy][ix] = p[iy + pad_h][ix + pad_w]`.
pub(super) fn crop(g: &Conv2dGeometry, t: &Tiling, p: &[f32], x: &mut [f32]) {
    let (p0, p1) = g.padding;
    for (iy, row) in x.chunks_exact_mut(g.w).enumerate() {
        let at = (iy + p0) * t.pw + p1;
        row.copy_from_slice(&p[at..at + g.w]);
    }
}

/// Gathers the 6x6 input window of every tile of padded plane `p` into
/// `d[(6 r + c) tt + at + tile]`.
///
/// The loops run along a row of tiles with four window columns together, an interleaved
/// access the compiler turns into vector loads and shuffles (a strided loop per column does
/// not vectorise).
pub(super) fn gather_windows(t: &Tiling, p: &[f32], d: &mut [f32], at: usize, tt: usize) {
    let tw = t.tw;
    for r in 0..6 {
        for ty in 0..t.th {
            let row = &p[(4 * ty + r) * t.pw..][..4 * tw + 2];
            let base = at + ty * tw;
            let [d0, d1, d2, d3, d4, d5] =
                slices_mut(d, std::array::from_fn(|c| (6 * r + c) * tt + base), tw);
            for (tx, q) in row[..4 * tw].chunks_exact(4).enumerate() {
                d0[tx] = q[0];
                d1[tx] = q[1];
                d2[tx] = q[2];
                d3[tx] = q[3];
            }
            // Columns 4 and 5 of window `tx` are the first two of the chunk after it (the
            // last chunk holds just those two).
            for (tx, q) in row[4..].chunks(4).enumerate() {
                d4[tx] = q[0];
                d5[tx] = q[1];
            }
        }
    }
}

/// Adds `w[(6 r + c) tt + at + tile]` onto the 6x6 input window of every tile of padded plane
/// `p`: the adjoint of [`gather_windows`]. Columns 0-3 and 4-5 of the windows go in two
/// passes, so that no pass adds twice to one value (neighbouring windows share two columns)
/// and each vectorises.
pub(super) fn scatter_windows(t: &Tiling, w: &[f32], at: usize, tt: usize, p: &mut [f32]) {
    let tw = t.tw;
    for r in 0..6 {
        for ty in 0..t.th {
            let row = &mut p[(4 * ty + r) * t.pw..][..4 * tw + 2];
            let base = at + ty * tw;
            let [s0, s1, s2, s3, s4, s5] =
                slices(w, std::array::from_fn(|c| (6 * r + c) * tt + base), tw);
            for (tx, q) in row[..4 * tw].chunks_exact_mut(4).enumerate() {
                q[0] += s0[tx];
                q[1] += s1[tx];
                q[2] += s2[tx];
                q[3] += s3[tx];
            }
            for (tx, q) in row[4..].chunks_mut(4).enumerate() {
                q[0] += s4[tx];
                q[1] += s5[tx];
            }
        }
    }
}

/// Writes the tile outputs `o[(4 r + c) tt + at + tile]` into plane `y` (`[H', W']`),
/// dropping the parts of edge tiles that fall outside it.
pub(super) fn scatter_outputs(t: &Tiling, o: &[f32], at: usize, tt: usize, y: &mut [f32]) {
    let (tw, full) = (t.tw, t.ow / 4);
    for (oy, row) in y.chunks_exact_mut(t.ow).enumerate() {
        let (ty, r) = (oy / 4, oy % 4);
        let src: [&[f32]; 4] = slices(
            o,
            std::array::from_fn(|c| (4 * r + c) * tt + at + ty * tw),
            tw,
        );
        for (tx, q) in row.chunks_exact_mut(4).enumerate() {
            q[0] = src[0][tx];
            q[1] = src[1][tx];
            q[2] = src[2][tx];
            q[3] = src[3][tx];
        }
        for (c, v) in row[4 * full..].iter_mut().enumerate() {
            *v = src[c][full];
        }
    }
}

/// Gathers plane `dy` (`[H', W']`) into tile rows `d[(4 r + c) tt + at + tile]`, zero past its
/// edge: the adjoint of [`scatter_outputs`].
pub(super) fn gather_outputs(t: &Tiling, dy: &[f32], at: usize, tt: usize, d: &mut [f32]) {
    let ragged = !t.oh.is_multiple_of(4) || !t.ow.is_multiple_of(4);
    if ragged {
        for rc in 0..16 {
            d[rc * tt + at..][..t.tiles()].fill(0.0);
        }
    }
    let (tw, full) = (t.tw, t.ow / 4);
    for (oy, row) in dy.chunks_exact(t.ow).enumerate() {
        let (ty, r) = (oy / 4, oy % 4);
        let [d0, d1, d2, d3] = slices_mut(
            d,
            std::array::from_fn(|c| (4 * r + c) * tt + at + ty * tw),
            tw,
        );
        for (tx, q) in row.chunks_exact(4).enumerate() {
            d0[tx] = q[0];
            d1[tx] = q[1];
            d2[tx] = q[2];
            d3[tx] = q[3];
        }
        let dst = [d0, d1, d2, d3];
        for (c, v) in row[4 * full..].iter().enumerate() {
            dst[c][full] = *v;
        }
    }
}

/// Writes `V = B^T d B` of the block's `tt` gathered windows (`d`, see [`gather_windows`])
/// into `v[xi * xs + base + tile]`. `tmp` holds at least `36 tt` values.
pub(super) fn input_transform(
    d: &[f32],
    tt: usize,
    tmp: &mut [f32],
    v: &mut [f32],
    base: usize,
    xs: usize,
) {
    // b[i][c] = (B^T d)[i][c] at (6 i + c) tt, then V[i][j] = (b B)[i][j].
    let b = &mut tmp[..36 * tt];
    for c in 0..6 {
        let x = slices(d, std::array::from_fn(|r| (6 * r + c) * tt), tt);
        bt6(
            slices_mut(b, std::array::from_fn(|i| (6 * i + c) * tt), tt),
            x,
        );
    }
    for i in 0..6 {
        let x = slices(b, std::array::from_fn(|c| (6 * i + c) * tt), tt);
        bt6(
            slices_mut(v, std::array::from_fn(|j| (6 * i + j) * xs + base), tt),
            x,
        );
    }
}

/// Writes `B dV B^T` of the block's tiles (from `dv[xi * xs + base + tile]`) into the windows
/// `w[(6 r + c) tt + tile]`: the adjoint of [`input_transform`]. `tmp` holds `36 tt` values.
pub(super) fn input_adjoint(
    dv: &[f32],
    base: usize,
    xs: usize,
    tt: usize,
    tmp: &mut [f32],
    w: &mut [f32],
) {
    // s[r][j] = (B dV)[r][j] at (6 r + j) tt, then w[r][c] = (s B^T)[r][c].
    let s = &mut tmp[..36 * tt];
    for j in 0..6 {
        let x = slices(dv, std::array::from_fn(|i| (6 * i + j) * xs + base), tt);
        b6(
            slices_mut(s, std::array::from_fn(|r| (6 * r + j) * tt), tt),
            x,
        );
    }
    for r in 0..6 {
        let x = slices(s, std::array::from_fn(|j| (6 * r + j) * tt), tt);
        b6(
            slices_mut(w, std::array::from_fn(|c| (6 * r + c) * tt), tt),
            x,
        );
    }
}

/// Writes the output tiles `A^T m A + bias` of the block (from `m[xi * xs + base + tile]`)
/// into `o[(4 r + c) tt + tile]`. `tmp` holds at least `24 tt` values.
#[allow(clippy::too_many_arguments)]
pub(super) fn output_transform(
    m: &[f32],
    base: usize,
    xs: usize,
    tt: usize,
    bias: f32,
    tmp: &mut [f32],
    o: &mut [f32],
) {
    // s[r][c] = (A^T m)[r][c] at (6 r + c) tt, then o[r][c'] = (s A)[r][c'] + bias.
    let s = &mut tmp[..24 * tt];
    for c in 0..6 {
        let x = slices(m, std::array::from_fn(|i| (6 * i + c) * xs + base), tt);
        at4(
            slices_mut(s, std::array::from_fn(|r| (6 * r + c) * tt), tt),
            x,
            0.0,
        );
    }
    for r in 0..4 {
        let x = slices(s, std::array::from_fn(|c| (6 * r + c) * tt), tt);
        at4(
            slices_mut(o, std::array::from_fn(|c| (4 * r + c) * tt), tt),
            x,
            bias,
        );
    }
}

/// Writes `dM = A dY A^T` of the block's tiles (from the gathered `d[(4 r + c) tt + tile]`,
/// see [`gather_outputs`]) into `m[xi * xs + base + tile]`: the adjoint of
/// [`output_transform`]. `tmp` holds at least `24 tt` values.
pub(super) fn output_adjoint(
    d: &[f32],
    tt: usize,
    tmp: &mut [f32],
    m: &mut [f32],
    base: usize,
    xs: usize,
) {
    // s[r][j] = (dY A^T)[r][j] at (6 r + j) tt, then dM[i][j] = (A s)[i][j].
    let s = &mut tmp[..24 * tt];
    for r in 0..4 {
        let x = slices(d, std::array::from_fn(|c| (4 * r + c) * tt), tt);
        a6(
            slices_mut(s, std::array::from_fn(|j| (6 * r + j) * tt), tt),
            x,
        );
    }
    for j in 0..6 {
        let x = slices(s, std::array::from_fn(|r| (6 * r + j) * tt), tt);
        a6(
            slices_mut(m, std::array::from_fn(|i| (6 * i + j) * xs + base), tt),
            x,
        );
    }
}
