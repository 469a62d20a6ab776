//! Independent random streams derived from one seed, so that work split across threads draws
//! the same numbers whatever the thread count.

use crate::rng::Rng;

/// The generator of stream `stream` under `seed`. Both inputs go through a full 64-bit mix, so
/// neighbouring streams (rows j and j + 1) are unrelated.
pub(crate) fn stream_rng(seed: u64, stream: u64) -> Rng {
    Rng::new(mix(mix(seed) ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93)))
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
