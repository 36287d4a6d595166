// SPDX-License-Identifier: BSD-2-Clause
//! bad_name: a plugin named "_bad", which nbdkit cannot take (a name
//! starts with a letter or digit): it fails to load, both ways, with a
//! message naming the name and the rule.

use nbdkit::*;

struct BadName;

impl Server for BadName {
    fn name() -> &'static str {
        "_bad"
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(BadName))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(512)
    }

    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        buf.fill(0);
        Ok(())
    }
}

plugin!(BadName {});
