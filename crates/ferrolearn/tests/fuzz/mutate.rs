//! Mutations of a valid file: bit flips, interesting bytes and integers, deleted, repeated
//! and inserted ranges, truncation, and (for text) numbers swapped for extreme ones.

use rand::Rng;

/// Bytes that change the meaning of binary headers and of JSON/CSV text.
const BYTES: &[u8] = b"\x00\x01\x7f\x80\xff0123456789-.e\"{}[],:\n\r ";
/// Integers written over 4 or 8 bytes, big- or little-endian.
const INTS: &[u64] = &[
    0,
    1,
    0x7f,
    0xff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    1 << 20,
    1 << 32,
    u64::MAX,
    i64::MAX as u64,
];
/// Numbers written over a run of digits in text.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-320",
    "NaN",
    "inf",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "0.5",
    "1000000000",
];

/// Applies 1 to 4 random mutations to `data`, keeping it under `max_len` bytes.
pub fn mutate(data: &mut Vec<u8>, rng: &mut impl Rng, max_len: usize) {
    for _ in 0..rng.gen_range(1..=4) {
        mutate_once(data, rng);
        data.truncate(max_len);
    }
}

fn mutate_once(data: &mut Vec<u8>, rng: &mut impl Rng) {
    if data.is_empty() {
        data.push(rng.gen());
        return;
    }
    let len = data.len();
    let at = rng.gen_range(0..len);
    match rng.gen_range(0..9) {
        0 => data[at] ^= 1 << rng.gen_range(0..8),
        1 => data[at] = BYTES[rng.gen_range(0..BYTES.len())],
        2 => {
            let v = INTS[rng.gen_range(0..INTS.len())];
            let bytes: Vec<u8> = match rng.gen_range(0..4) {
                0 => (v as u32).to_be_bytes().to_vec(),
                1 => (v as u32).to_le_bytes().to_vec(),
                2 => v.to_be_bytes().to_vec(),
                _ => v.to_le_bytes().to_vec(),
            };
            for (i, b) in bytes.into_iter().enumerate() {
                if let Some(slot) = data.get_mut(at + i) {
                    *slot = b;
                }
            }
        }
        3 => {
            let end = (at + rng.gen_range(1..=16)).min(len);
            data.drain(at..end);
        }
        4 => {
            let from = rng.gen_range(0..len);
            let end = (from + rng.gen_range(1..=64)).min(len);
            let piece = data[from..end].to_vec();
            data.splice(at..at, piece);
        }
        5 => data.truncate(at),
        6 => {
            let piece: Vec<u8> = (0..rng.gen_range(1..=16)).map(|_| rng.gen()).collect();
            data.splice(at..at, piece);
        }
        7 => replace_number(data, at, rng),
        _ => {
            let other = rng.gen_range(0..len);
            data.swap(at, other);
        }
    }
}

/// Replaces the run of digits at or after `at` (if any) with an extreme number.
fn replace_number(data: &mut Vec<u8>, at: usize, rng: &mut impl Rng) {
    let Some(start) = data[at..]
        .iter()
        .position(u8::is_ascii_digit)
        .map(|p| p + at)
    else {
        return;
    };
    let end = data[start..]
        .iter()
        .position(|b| !b.is_ascii_digit())
        .map_or(data.len(), |p| p + start);
    let number = NUMBERS[rng.gen_range(0..NUMBERS.len())].as_bytes().to_vec();
    data.splice(start..end, number);
}

/// Values written over a JSON node: extremes, zeros, negatives and other types.
fn json_replacement(rng: &mut impl Rng) -> serde_json::Value {
    use serde_json::json;
    match rng.gen_range(0..14) {
        0 => json!(0),
        1 => json!(-1),
        2 => json!(u64::MAX),
        3 => json!(i64::MIN),
        4 => json!(1e308),
        5 => json!(-1e-300),
        6 => json!(0.5),
        7 => json!(4_294_967_296u64),
        8 => json!(1_000_000_000),
        9 => json!(null),
        10 => json!(true),
        11 => json!("x"),
        12 => json!([]),
        _ => json!({}),
    }
}

/// Mutates a JSON document through its tree: a random node replaced (by an extreme number,
/// another type), removed from its object or array, or an array element repeated. `false`
/// when `data` is not JSON.
pub fn mutate_json(data: &mut Vec<u8>, rng: &mut impl Rng) -> bool {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return false;
    };
    for _ in 0..rng.gen_range(1..=2) {
        let count = count_nodes(&value);
        let target = rng.gen_range(0..count);
        let action = rng.gen_range(0..4);
        let mut seen = 0;
        edit_node(&mut value, target, &mut seen, action, rng);
    }
    *data = serde_json::to_vec(&value).expect("a JSON value serialises");
    true
}

fn count_nodes(v: &serde_json::Value) -> usize {
    1 + match v {
        serde_json::Value::Array(items) => items.iter().map(count_nodes).sum(),
        serde_json::Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// Applies `action` to the `target`-th node in pre-order (`seen` counts the nodes passed):
/// 0-1 replace it, 2 remove one of its children, 3 repeat one of its array elements.
fn edit_node(
    v: &mut serde_json::Value,
    target: usize,
    seen: &mut usize,
    action: u32,
    rng: &mut impl Rng,
) -> bool {
    if *seen == target {
        match (action, &mut *v) {
            (2, serde_json::Value::Object(map)) if !map.is_empty() => {
                if let Some(key) = map.keys().nth(rng.gen_range(0..map.len())).cloned() {
                    map.remove(&key);
                }
            }
            (2, serde_json::Value::Array(items)) if !items.is_empty() => {
                items.remove(rng.gen_range(0..items.len()));
            }
            (3, serde_json::Value::Array(items)) if !items.is_empty() => {
                let i = rng.gen_range(0..items.len());
                let copy = items[i].clone();
                items.insert(i, copy);
            }
            _ => *v = json_replacement(rng),
        }
        return true;
    }
    *seen += 1;
    match v {
        serde_json::Value::Array(items) => items
            .iter_mut()
            .any(|c| edit_node(c, target, seen, action, rng)),
        serde_json::Value::Object(map) => map
            .values_mut()
            .any(|c| edit_node(c, target, seen, action, rng)),
        _ => false,
    }
}
