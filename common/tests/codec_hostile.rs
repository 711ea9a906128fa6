//! A hostile length prefix is refused without allocating what it claims.
//!
//! This file is its own test binary so that its counting allocator sees only this test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use cairn_common::codec::{self, CodecError, FORMAT_VERSION, MAGIC};
use cairn_common::op::Op;

/// Records the largest single allocation made while the test runs.
struct LargestAllocation;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the only addition
// is an atomic maximum of the requested size.
unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

/// Header, then bincode's varint marker for a u64 (0xFD) and 2^40: "1 TiB follows".
fn hostile(len_prefix: u64) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    bytes.push(0xFD);
    bytes.extend_from_slice(&len_prefix.to_le_bytes());
    bytes
}

/// A 1 TiB length prefix on a string, a byte vector and a vector of ops is an error,
/// and no allocation anywhere near that size happens.
#[test]
fn huge_length_prefix_is_refused_without_allocating() {
    let payload = hostile(1 << 40);
    assert_eq!(payload.len() - MAGIC.len() - 2, 9);
    LARGEST.store(0, Ordering::Relaxed);
    assert!(matches!(
        codec::decode::<String>(&payload),
        Err(CodecError::Malformed(_))
    ));
    assert!(matches!(
        codec::decode::<Vec<u8>>(&payload),
        Err(CodecError::Malformed(_))
    ));
    assert!(matches!(
        codec::decode::<Vec<Op>>(&payload),
        Err(CodecError::Malformed(_))
    ));
    let largest = LARGEST.load(Ordering::Relaxed);
    // serde's own cautious preallocation is capped at 1 MiB; anything beyond that
    // would mean the claimed length was believed.
    assert!(
        largest <= 1 << 20,
        "decode allocated {largest} bytes for a 16-byte payload"
    );

    // A prefix just under the decode limit, with no body behind it, is refused too
    // (serde preallocates at most 1 MiB for it). Kept in this one test: a parallel
    // test would pollute the allocation maximum above.
    let payload = hostile((codec::DECODE_LIMIT as u64) - 1);
    assert!(codec::decode::<Vec<u8>>(&payload).is_err());
}
