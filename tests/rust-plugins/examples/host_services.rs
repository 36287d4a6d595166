// SPDX-License-Identifier: BSD-2-Clause
//! host_services: a 1 MiB disk of zeroes whose configuration calls
//! nbdkit's services, for direct.bats to compare the two ways of loading.
//!
//! Its name has an underscore, which nbdkit refuses in a plugin's name:
//! loaded directly, nbdkit knows it as "host-services".
//!
//!   probability=P   logs "host_services: probability P = VALUE" (nbdkit
//!                   -v), parsed with nbdkit::parse_probability, which
//!                   nbdkit 1.32 lacks (the loader and the SDK each
//!                   carry a port); an error stops nbdkit
//!   disconnect=BOOL each pread first calls nbdkit::disconnect(false),
//!                   which nbdkit 1.32 lacks (it logs why)
//!
//! config_complete logs "host_services: nbdkit_version VERSION", VERSION
//! being "unknown" when the plugin does not know it (loaded directly).

use nbdkit::*;
use std::sync::atomic::{AtomicBool, Ordering};

static DISCONNECT: AtomicBool = AtomicBool::new(false);

struct HostServices;

impl Server for HostServices {
    fn name() -> &'static str {
        "host_services"
    }

    fn config(key: &str, value: &str) -> Result<()> {
        match key {
            "probability" => {
                let p = parse_probability("probability", value)?;
                debug!("host_services: probability {value} = {p}");
                Ok(())
            }
            "disconnect" => {
                DISCONNECT.store(parse_bool(value)?, Ordering::SeqCst);
                Ok(())
            }
            _ => Err(Error::new(
                errno::EINVAL,
                format!("host_services: unknown parameter {key}"),
            )),
        }
    }

    fn config_complete() -> Result<()> {
        debug!(
            "host_services: nbdkit_version {}",
            nbdkit_version().unwrap_or("unknown")
        );
        Ok(())
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(HostServices))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(1 << 20)
    }

    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        if DISCONNECT.load(Ordering::SeqCst) {
            disconnect(false);
        }
        buf.fill(0);
        Ok(())
    }
}

plugin!(HostServices {
    config,
    config_complete
});
