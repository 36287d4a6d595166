// SPDX-License-Identifier: BSD-2-Clause
//! Small value types of the plugin and filter APIs: request flags and
//! the answers of some [`Server`](crate::Server) and
//! [`Filter`](crate::Filter) methods.

use std::fmt;
use std::ops::{
    BitAnd, BitAndAssign, BitOr, BitOrAssign, BitXor, BitXorAssign, Not, Sub, SubAssign,
};

/// Flags used by multiple [`Server`](crate::Server) methods
/// (`NBDKIT_FLAG_*`).
///
/// A set of bits with the API of a `bitflags` 1.x type: constants,
/// [`contains`](Flags::contains), [`bits`](Flags::bits),
/// [`from_bits`](Flags::from_bits), `|`, `&`, `^`, `-`, `!` and so on.
/// It only ever holds the four bits below: the SDK drops any bit it does
/// not know before it calls a method.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Flags(u32);

impl Flags {
    /// This flag is used by the [`Server::zero`](crate::Server::zero)
    /// callback.
    ///
    /// Indicates that the plugin may punch a hole instead of writing
    /// actual zeros, but only if subsequent reads from that region will
    /// return zeros.  Its absence means the client sent
    /// `NBD_CMD_FLAG_NO_HOLE`: the zeroed region should stay allocated.
    pub const MAY_TRIM: Flags = Flags(1 << 0);

    /// This flag represents Forced Unit Access semantics.
    ///
    /// It is used by the [`Server::write_at`](crate::Server::write_at),
    /// [`Server::zero`](crate::Server::zero) and
    /// [`Server::trim`](crate::Server::trim) callbacks to indicate that
    /// the plugin must not return a result until the action has landed in
    /// persistent storage.  nbdkit only sends it when
    /// [`Server::can_fua`](crate::Server::can_fua) returned
    /// [`FuaFlags::Native`].
    pub const FUA: Flags = Flags(1 << 1);

    /// Used with [`Server::extents`](crate::Server::extents) to indicate
    /// that the client is only requesting information about a single
    /// extent.  The plugin may ignore this flag, or as an optimization it
    /// may return just a single extent.
    pub const REQ_ONE: Flags = Flags(1 << 2);

    /// This flag is used by [`Server::zero`](crate::Server::zero).
    ///
    /// If supplied, the plugin must decide up front if the implementation
    /// is likely to be faster than a corresponding
    /// [`Server::write_at`](crate::Server::write_at); if not, then it must
    /// immediately fail with `ENOTSUP` or `EOPNOTSUPP` and preferably
    /// without modifying the exported image.
    pub const FAST_ZERO: Flags = Flags(1 << 3);

    const ALL_BITS: u32 = 0xf;

    /// No flags.
    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// All the flags this type knows.
    pub const fn all() -> Flags {
        Flags(Self::ALL_BITS)
    }

    /// The raw bits (`NBDKIT_FLAG_*` values).
    pub const fn bits(&self) -> u32 {
        self.0
    }

    /// The flags for `bits`, or `None` if `bits` has a bit no flag of
    /// this type stands for.
    pub const fn from_bits(bits: u32) -> Option<Flags> {
        if bits & !Self::ALL_BITS == 0 {
            Some(Flags(bits))
        } else {
            None
        }
    }

    /// The flags for `bits`, dropping any bit no flag stands for.
    pub const fn from_bits_truncate(bits: u32) -> Flags {
        Flags(bits & Self::ALL_BITS)
    }

    /// True if no flag is set.
    pub const fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// True if every flag is set.
    pub const fn is_all(&self) -> bool {
        self.0 == Self::ALL_BITS
    }

    /// True if every flag of `other` is set in `self`.
    pub const fn contains(&self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if any flag of `other` is set in `self`.
    pub const fn intersects(&self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }

    /// Set the flags of `other`.
    pub fn insert(&mut self, other: Flags) {
        self.0 |= other.0;
    }

    /// Clear the flags of `other`.
    pub fn remove(&mut self, other: Flags) {
        self.0 &= !other.0;
    }

    /// Flip the flags of `other`.
    pub fn toggle(&mut self, other: Flags) {
        self.0 ^= other.0;
    }

    /// Set (`value` true) or clear the flags of `other`.
    pub fn set(&mut self, other: Flags, value: bool) {
        if value {
            self.insert(other);
        } else {
            self.remove(other);
        }
    }
}

impl fmt::Debug for Flags {
    /// Like `bitflags`: `FUA | MAY_TRIM`, or `(empty)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Flags, &str); 4] = [
            (Flags::MAY_TRIM, "MAY_TRIM"),
            (Flags::FUA, "FUA"),
            (Flags::REQ_ONE, "REQ_ONE"),
            (Flags::FAST_ZERO, "FAST_ZERO"),
        ];
        if self.is_empty() {
            return f.write_str("(empty)");
        }
        let mut first = true;
        for (flag, name) in NAMES.iter() {
            if self.contains(*flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, other: Flags) {
        self.0 |= other.0;
    }
}

impl BitAnd for Flags {
    type Output = Flags;
    fn bitand(self, other: Flags) -> Flags {
        Flags(self.0 & other.0)
    }
}

impl BitAndAssign for Flags {
    fn bitand_assign(&mut self, other: Flags) {
        self.0 &= other.0;
    }
}

impl BitXor for Flags {
    type Output = Flags;
    fn bitxor(self, other: Flags) -> Flags {
        Flags(self.0 ^ other.0)
    }
}

impl BitXorAssign for Flags {
    fn bitxor_assign(&mut self, other: Flags) {
        self.0 ^= other.0;
    }
}

impl Sub for Flags {
    type Output = Flags;
    /// The flags of `self` that are not in `other`.
    fn sub(self, other: Flags) -> Flags {
        Flags(self.0 & !other.0)
    }
}

impl SubAssign for Flags {
    fn sub_assign(&mut self, other: Flags) {
        self.0 &= !other.0;
    }
}

impl Not for Flags {
    type Output = Flags;
    /// Every known flag that is not in `self`.
    fn not(self) -> Flags {
        Flags(!self.0 & Self::ALL_BITS)
    }
}

impl Extend<Flags> for Flags {
    fn extend<I: IntoIterator<Item = Flags>>(&mut self, iter: I) {
        for flag in iter {
            self.insert(flag);
        }
    }
}

impl FromIterator<Flags> for Flags {
    fn from_iter<I: IntoIterator<Item = Flags>>(iter: I) -> Flags {
        let mut flags = Flags::empty();
        flags.extend(iter);
        flags
    }
}

/// Return values for [`Server::can_cache`](crate::Server::can_cache)
/// (`NBDKIT_CACHE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum CacheFlags {
    /// Cache support is not advertised to the client.
    None = 0,
    /// Caching is emulated by the server calling
    /// [`Server::read_at`](crate::Server::read_at) and ignoring the
    /// results.
    Emulate = 1,
    /// The [`Server::cache`](crate::Server::cache) callback will be used.
    Native = 2,
}

impl From<CacheFlags> for i32 {
    fn from(cf: CacheFlags) -> Self {
        cf as Self
    }
}

/// Return values for [`Server::can_fua`](crate::Server::can_fua)
/// (`NBDKIT_FUA_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum FuaFlags {
    /// FUA support is not advertised to the client.
    None = 0,
    /// The [`Server::flush`](crate::Server::flush) callback must work
    /// (even if [`Server::can_flush`](crate::Server::can_flush) returns
    /// false), and FUA support is emulated by calling it after any write
    /// operation.
    Emulate = 1,
    /// The [`Server::write_at`](crate::Server::write_at),
    /// [`Server::zero`](crate::Server::zero) and
    /// [`Server::trim`](crate::Server::trim) callbacks (if implemented)
    /// must handle the flag [`Flags::FUA`], by not returning until that
    /// action has landed in persistent storage.
    Native = 2,
}

impl From<FuaFlags> for i32 {
    fn from(ff: FuaFlags) -> Self {
        ff as Self
    }
}

/// How zero requests are served (`NBDKIT_ZERO_*`): what
/// [`Filter::can_zero`](crate::Filter::can_zero) answers and
/// [`Next::can_zero`](crate::Next::can_zero) returns.
///
/// A plugin's `can_zero` answers a plain yes or no
/// ([`Server::can_zero`](crate::Server::can_zero)); nbdkit makes that
/// [`ZeroMode::Native`] or [`ZeroMode::Emulate`] for the filters above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ZeroMode {
    /// Zero requests are not advertised to the client.
    None = 0,
    /// nbdkit serves zero requests by writing buffers of zeroes
    /// (`pwrite`).
    Emulate = 1,
    /// Zero requests go to the `zero` callback.
    Native = 2,
}

impl From<ZeroMode> for i32 {
    fn from(zm: ZeroMode) -> Self {
        zm as Self
    }
}

impl ZeroMode {
    /// The mode for an `NBDKIT_ZERO_*` value; anything above
    /// `NBDKIT_ZERO_NATIVE` counts as native.
    pub(crate) fn from_raw(raw: i32) -> ZeroMode {
        match raw {
            0 => ZeroMode::None,
            1 => ZeroMode::Emulate,
            _ => ZeroMode::Native,
        }
    }
}

impl FuaFlags {
    /// The flags for an `NBDKIT_FUA_*` value; anything above
    /// `NBDKIT_FUA_NATIVE` counts as native.
    pub(crate) fn from_raw(raw: i32) -> FuaFlags {
        match raw {
            0 => FuaFlags::None,
            1 => FuaFlags::Emulate,
            _ => FuaFlags::Native,
        }
    }
}

impl CacheFlags {
    /// The flags for an `NBDKIT_CACHE_*` value; anything above
    /// `NBDKIT_CACHE_NATIVE` counts as native.
    pub(crate) fn from_raw(raw: i32) -> CacheFlags {
        match raw {
            0 => CacheFlags::None,
            1 => CacheFlags::Emulate,
            _ => CacheFlags::Native,
        }
    }
}

impl ThreadModel {
    /// The model for an `NBDKIT_THREAD_MODEL_*` value; anything above
    /// parallel counts as parallel, anything below 0 as
    /// serialize_connections.
    pub(crate) fn from_raw(raw: i32) -> ThreadModel {
        match raw {
            i32::MIN..=0 => ThreadModel::SerializeConnections,
            1 => ThreadModel::SerializeAllRequests,
            2 => ThreadModel::SerializeRequests,
            _ => ThreadModel::Parallel,
        }
    }
}

impl ExtentType {
    /// The type of an extent from its `NBDKIT_EXTENT_*` bits (other bits
    /// are ignored).
    pub(crate) fn from_bits(bits: u32) -> ExtentType {
        match bits & 3 {
            0 => ExtentType::Allocated,
            1 => ExtentType::Hole,
            2 => ExtentType::Zero,
            _ => ExtentType::HoleZero,
        }
    }
}

/// A plugin's thread safety model (`NBDKIT_THREAD_MODEL_*`), returned by
/// [`Server::thread_model`](crate::Server::thread_model).
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
#[repr(i32)]
pub enum ThreadModel {
    /// Only a single handle can be open at any time, and all requests
    /// happen from one thread.
    SerializeConnections = 0,

    /// Multiple handles can be open at the same time, but requests are
    /// serialized so that for the plugin as a whole only one
    /// open/read/write/close (etc) request will be in progress at any
    /// time.
    SerializeAllRequests = 1,

    /// Multiple handles can be open and multiple data requests can happen
    /// in parallel.  However only one request will happen per handle at a
    /// time (but requests on different handles might happen
    /// concurrently).
    SerializeRequests = 2,

    /// Multiple handles can be open and multiple data requests can happen
    /// in parallel (even on the same handle).  The server may reorder
    /// replies, answering a later request before an earlier one.
    ///
    /// All the libraries you use must be thread-safe and reentrant, and
    /// any state shared between requests needs its own synchronisation.
    Parallel = 3,
}

impl From<ThreadModel> for i32 {
    fn from(tm: ThreadModel) -> Self {
        tm as Self
    }
}

/// The kind of an extent reported with
/// [`ExtentHandle::add`](crate::ExtentHandle::add) (`NBDKIT_EXTENT_*`
/// bits).
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
#[repr(u32)]
pub enum ExtentType {
    /// A normal, allocated data extent.
    Allocated = 0,
    /// An unallocated extent (hole) which does not read back as zeroes.
    /// Only for special cases, such as emulating SCSI drives which do not
    /// guarantee that trimmed blocks read back as zeroes.
    Hole = 1,
    /// An allocated extent which is known to contain only zeroes.
    Zero = 2,
    /// An unallocated extent, a.k.a. a "hole", which reads back as
    /// zeroes.  This is the normal type of hole applicable to most disks.
    HoleZero = 3,
}

impl From<ExtentType> for u32 {
    fn from(et: ExtentType) -> Self {
        et as Self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values_are_nbdkits() {
        assert_eq!(Flags::MAY_TRIM.bits(), 1);
        assert_eq!(Flags::FUA.bits(), 2);
        assert_eq!(Flags::REQ_ONE.bits(), 4);
        assert_eq!(Flags::FAST_ZERO.bits(), 8);
        assert_eq!(Flags::all().bits(), 15);
    }

    #[test]
    fn flag_operations_work_like_bitflags() {
        let mut f = Flags::FUA | Flags::MAY_TRIM;
        assert!(f.contains(Flags::FUA));
        assert!(!f.contains(Flags::FUA | Flags::REQ_ONE));
        assert!(f.intersects(Flags::FUA | Flags::REQ_ONE));
        f.remove(Flags::FUA);
        assert_eq!(f, Flags::MAY_TRIM);
        f.set(Flags::FAST_ZERO, true);
        f.toggle(Flags::MAY_TRIM);
        assert_eq!(f, Flags::FAST_ZERO);
        assert_eq!(
            !Flags::FAST_ZERO,
            Flags::MAY_TRIM | Flags::FUA | Flags::REQ_ONE
        );
        assert_eq!(Flags::all() - Flags::FUA, !Flags::FUA);
        assert_eq!(
            (Flags::all() & Flags::REQ_ONE) ^ Flags::REQ_ONE,
            Flags::empty()
        );
        let collected: Flags = vec![Flags::FUA, Flags::REQ_ONE].into_iter().collect();
        assert_eq!(collected.bits(), 6);
        assert!(Flags::default().is_empty());
        assert!(Flags::all().is_all());
    }

    #[test]
    fn unknown_bits_are_refused_or_dropped() {
        assert_eq!(Flags::from_bits(0x12), None);
        assert_eq!(Flags::from_bits(0x3), Some(Flags::MAY_TRIM | Flags::FUA));
        assert_eq!(Flags::from_bits_truncate(0xffff_fff2), Flags::FUA);
    }

    #[test]
    fn flags_debug_names_the_flags() {
        assert_eq!(format!("{:?}", Flags::empty()), "(empty)");
        assert_eq!(
            format!("{:?}", Flags::FUA | Flags::FAST_ZERO),
            "FUA | FAST_ZERO"
        );
    }

    #[test]
    fn enum_values_are_nbdkits() {
        assert_eq!(i32::from(CacheFlags::None), 0);
        assert_eq!(i32::from(CacheFlags::Emulate), 1);
        assert_eq!(i32::from(CacheFlags::Native), 2);
        assert_eq!(i32::from(FuaFlags::None), 0);
        assert_eq!(i32::from(FuaFlags::Emulate), 1);
        assert_eq!(i32::from(FuaFlags::Native), 2);
        assert_eq!(i32::from(ThreadModel::SerializeConnections), 0);
        assert_eq!(i32::from(ThreadModel::SerializeAllRequests), 1);
        assert_eq!(i32::from(ThreadModel::SerializeRequests), 2);
        assert_eq!(i32::from(ThreadModel::Parallel), 3);
        assert_eq!(u32::from(ExtentType::Allocated), 0);
        assert_eq!(u32::from(ExtentType::Hole), 1);
        assert_eq!(u32::from(ExtentType::Zero), 2);
        assert_eq!(u32::from(ExtentType::HoleZero), 3);
        assert_eq!(i32::from(ZeroMode::None), 0);
        assert_eq!(i32::from(ZeroMode::Emulate), 1);
        assert_eq!(i32::from(ZeroMode::Native), 2);
    }

    #[test]
    fn raw_values_convert_back() {
        for z in [ZeroMode::None, ZeroMode::Emulate, ZeroMode::Native] {
            assert_eq!(ZeroMode::from_raw(z.into()), z);
        }
        for f in [FuaFlags::None, FuaFlags::Emulate, FuaFlags::Native] {
            assert_eq!(FuaFlags::from_raw(f.into()), f);
        }
        for c in [CacheFlags::None, CacheFlags::Emulate, CacheFlags::Native] {
            assert_eq!(CacheFlags::from_raw(c.into()), c);
        }
        for t in 0..4 {
            assert_eq!(i32::from(ThreadModel::from_raw(t)), t);
        }
        assert_eq!(ThreadModel::from_raw(-1), ThreadModel::SerializeConnections);
        assert_eq!(ZeroMode::from_raw(7), ZeroMode::Native);
        for e in [
            ExtentType::Allocated,
            ExtentType::Hole,
            ExtentType::Zero,
            ExtentType::HoleZero,
        ] {
            assert_eq!(ExtentType::from_bits(e.into()), e);
        }
        assert_eq!(ExtentType::from_bits(0x10 | 2), ExtentType::Zero);
    }
}
