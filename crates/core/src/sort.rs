//! One small unstable sort for the crate's few sorts, instead of `slice::sort_unstable`.
//!
//! `core`'s sorts are fast but large: every element type gets its own copy of ipnsort or
//! driftsort (sorting networks, partitioning, merging), ~3–5 KB of wasm each, and the filter
//! sorts about eight types. This insertion sort (short slices, which is nearly every call
//! here: routes of one request, roles of one rule, extensions of one certificate) with a
//! heapsort beyond that costs a few hundred bytes per type and stays O(n log n) on hostile
//! input (a certificate with thousands of extensions). docs/wasm-size.md has the numbers.

use core::cmp::Ordering;

/// Longest slice sorted by insertion; longer ones are heapsorted.
const INSERTION_MAX: usize = 16;

/// Sorts `items` ascending. Unstable: equal elements may be reordered, so use it where equal
/// means indistinguishable (or the order of equals does not matter).
pub(crate) fn sort_unstable<T: Ord>(items: &mut [T]) {
    sort_unstable_by(items, |a, b| a.cmp(b));
}

/// Sorts `items` ascending by `compare`. Unstable, like [`sort_unstable`].
pub(crate) fn sort_unstable_by<T>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    let mut less = |items: &[T], a: usize, b: usize| match (items.get(a), items.get(b)) {
        (Some(x), Some(y)) => compare(x, y) == Ordering::Less,
        _ => false,
    };
    let len = items.len();
    if len <= INSERTION_MAX {
        for end in 1..len {
            let mut at = end;
            while at > 0 && less(items, at, at - 1) {
                items.swap(at, at - 1);
                at -= 1;
            }
        }
        return;
    }
    // Heapsort: build a max-heap, then move the maximum to the end, one by one.
    let mut sift_down = |items: &mut [T], mut node: usize, end: usize| loop {
        let mut child = 2 * node + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(items, child, child + 1) {
            child += 1;
        }
        if !less(items, node, child) {
            return;
        }
        items.swap(node, child);
        node = child;
    };
    for node in (0..len / 2).rev() {
        sift_down(items, node, len);
    }
    for end in (1..len).rev() {
        items.swap(0, end);
        sift_down(items, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Deterministic pseudo-random values with repeats (xorshift), no rand dependency.
    fn values(len: usize, seed: u32) -> Vec<u32> {
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state % 50
            })
            .collect()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn sorts_like_the_standard_library_on_both_sides_of_the_insertion_limit() {
        for len in [
            0,
            1,
            2,
            3,
            INSERTION_MAX - 1,
            INSERTION_MAX,
            INSERTION_MAX + 1,
            100,
            1000,
        ] {
            for seed in 1..20 {
                let mut ours = values(len, seed);
                let mut expected = ours.clone();
                expected.sort_unstable();
                sort_unstable(&mut ours);
                assert_eq!(ours, expected, "len {len} seed {seed}");
            }
        }
        let mut descending: Vec<u32> = (0..200).rev().collect();
        sort_unstable(&mut descending);
        assert!(descending.iter().copied().eq(0..200));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn sorts_by_a_key() {
        for len in [5, 40] {
            let mut pairs: Vec<(u32, usize)> = values(len, 7).into_iter().zip(0..).collect();
            sort_unstable_by(&mut pairs, |a, b| b.0.cmp(&a.0));
            assert!(pairs.windows(2).all(|w| matches!(w, [a, b] if a.0 >= b.0)));
            let mut indices: Vec<usize> = pairs.iter().map(|p| p.1).collect();
            indices.sort_unstable();
            assert!(indices.into_iter().eq(0..len), "a permutation");
        }
    }
}
