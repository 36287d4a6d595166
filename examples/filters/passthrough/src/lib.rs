// SPDX-License-Identifier: BSD-2-Clause
//! A filter that does nothing: every call passes through to the layer
//! below.
//!
//! ```text
//! nbdkit --filter=rust memory 1G rust-filter=./libfilter_passthrough.so
//! ```
//!
//! It lists no method in `filter!`, so the descriptor has only the
//! required `open` and `close`: the loader passes every other call
//! straight through, at C speed, without entering Rust.  What it costs
//! over nbdkit's own nofilter is the loader's, which makes it the
//! yardstick for the loader.  Its `open` does not even open the layer
//! below itself: the SDK does that, with the arguments `open` got.

use nbdkit::*;

/// The filter: no state, no allocation (a `Box` of a zero-sized type
/// allocates nothing).
struct Passthrough;

impl Filter for Passthrough {
    fn name() -> &'static str {
        "passthrough"
    }

    fn description() -> Option<&'static str> {
        Some("A filter that does nothing: every call passes through.")
    }

    fn open(
        _next: &mut NextOpen,
        _readonly: bool,
        _export_name: &str,
        _is_tls: bool,
    ) -> Result<Box<dyn Filter>> {
        Ok(Box::new(Passthrough))
    }
}

filter!(Passthrough {});

#[cfg(test)]
mod tests {
    use super::Passthrough;
    use nbdkit::testing::{FilterHarness, NextCall};
    use nbdkit::*;

    #[test]
    fn every_call_reaches_the_layer_below_unchanged() -> Result<()> {
        let harness = FilterHarness::<Passthrough>::new();
        harness.config("size", "1M")?;
        harness.backend().set_can_fua(FuaFlags::Emulate);
        let conn = harness.open(false)?;
        assert_eq!(conn.get_size()?, 1 << 20);
        assert_eq!(conn.can_fua()?, FuaFlags::Emulate);
        conn.pwrite(b"hello", 512, Flags::FUA)?;
        let mut buf = [0u8; 5];
        conn.pread(&mut buf, 512, Flags::empty())?;
        assert_eq!(&buf, b"hello");
        let calls = harness.backend().calls();
        assert_eq!(
            calls[0],
            NextCall::Config {
                key: "size".into(),
                value: "1M".into()
            }
        );
        assert!(calls.contains(&NextCall::Pwrite {
            count: 5,
            offset: 512,
            flags: Flags::FUA
        }));
        assert!(harness.errors().is_empty());
        Ok(())
    }

    #[test]
    fn failures_of_the_layer_below_reach_the_client() {
        let harness = FilterHarness::<Passthrough>::new();
        harness
            .backend()
            .fail(nbdkit::testing::NextOp::Pread, errno::EIO);
        let conn = harness.open(true).unwrap();
        let e = conn.pread(&mut [0u8; 8], 0, Flags::empty()).unwrap_err();
        assert_eq!(e.errno(), errno::EIO);
        assert_eq!(harness.errors().len(), 1);
    }
}
