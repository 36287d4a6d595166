// SPDX-License-Identifier: BSD-2-Clause
//! The block map: what the overlay holds for each block, two bits a
//! block, as nbdkit's cow filter keeps it.

/// What the overlay holds for one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Nothing: the block reads through to the layer below.
    Absent,
    /// The block's data, in the overlay file.
    Allocated,
    /// The block was trimmed: it reads as zeroes, and block status
    /// reports it as a hole.
    Trimmed,
}

impl State {
    fn bits(self) -> u8 {
        match self {
            State::Absent => 0b00,
            State::Allocated => 0b01,
            State::Trimmed => 0b11,
        }
    }

    fn from_bits(bits: u8) -> State {
        match bits {
            0b00 => State::Absent,
            0b11 => State::Trimmed,
            // 0b10 is never stored.
            _ => State::Allocated,
        }
    }
}

/// Blocks per byte of the map.
const PER_BYTE: u64 = 4;

/// The state of every block, packed four to a byte.  Blocks beyond the
/// map read as [`State::Absent`] and setting them does nothing: the
/// map is sized (at the bytes' granularity, like nbdkit's bitmap) for
/// the disk before any request comes.
#[derive(Debug, Default)]
pub struct BlockMap {
    bytes: Vec<u8>,
}

impl BlockMap {
    /// Make room for `blocks` blocks.  Growing keeps every state and
    /// adds absent blocks; shrinking forgets the blocks cut off.
    pub fn resize(&mut self, blocks: u64) {
        let bytes = (blocks + PER_BYTE - 1) / PER_BYTE;
        self.bytes.resize(bytes as usize, 0);
    }

    /// Where block `n`'s two bits are: its byte and the shift in it.
    fn slot(&self, n: u64) -> Option<(usize, u32)> {
        let byte = usize::try_from(n / PER_BYTE).ok()?;
        let shift = (n % PER_BYTE) as u32 * 2;
        (byte < self.bytes.len()).then_some((byte, shift))
    }

    /// The state of block `n`.
    pub fn get(&self, n: u64) -> State {
        match self.slot(n) {
            Some((byte, shift)) => State::from_bits((self.bytes[byte] >> shift) & 0b11),
            None => State::Absent,
        }
    }

    /// Set the state of block `n`.
    pub fn set(&mut self, n: u64, state: State) {
        if let Some((byte, shift)) = self.slot(n) {
            let b = &mut self.bytes[byte];
            *b = (*b & !(0b11 << shift)) | (state.bits() << shift);
        }
    }

    /// The state of block `first` and how many blocks from it, at most
    /// `max` (at least 1), are in that same state.
    pub fn run(&self, first: u64, max: u64) -> (State, u64) {
        let state = self.get(first);
        let len = (1..max)
            .take_while(|&i| self.get(first + i) == state)
            .count() as u64;
        (state, len + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_blocks_are_absent() {
        let mut map = BlockMap::default();
        map.resize(10);
        assert!((0..10).all(|n| map.get(n) == State::Absent));
    }

    #[test]
    fn states_are_kept_per_block() {
        let mut map = BlockMap::default();
        map.resize(9);
        map.set(3, State::Allocated);
        map.set(4, State::Trimmed);
        map.set(8, State::Trimmed);
        map.set(8, State::Allocated);
        let states: Vec<_> = (0..9).map(|n| map.get(n)).collect();
        use State::*;
        assert_eq!(
            states,
            [Absent, Absent, Absent, Allocated, Trimmed, Absent, Absent, Absent, Allocated]
        );
    }

    #[test]
    fn blocks_beyond_the_map_are_absent_and_ignored() {
        let mut map = BlockMap::default();
        map.resize(4);
        map.set(4, State::Allocated);
        map.set(u64::MAX, State::Allocated);
        assert_eq!(map.get(4), State::Absent);
        assert_eq!(map.get(u64::MAX), State::Absent);
    }

    #[test]
    fn growing_keeps_states() {
        let mut map = BlockMap::default();
        map.resize(3);
        map.set(2, State::Trimmed);
        map.resize(1000);
        assert_eq!(map.get(2), State::Trimmed);
        assert_eq!(map.get(999), State::Absent);
    }

    #[test]
    fn runs_stop_at_a_change_of_state_or_max() {
        let mut map = BlockMap::default();
        map.resize(16);
        for n in 2..5 {
            map.set(n, State::Allocated);
        }
        assert_eq!(map.run(0, 16), (State::Absent, 2));
        assert_eq!(map.run(2, 16), (State::Allocated, 3));
        assert_eq!(map.run(3, 1), (State::Allocated, 1));
        assert_eq!(map.run(5, 11), (State::Absent, 11));
        // Blocks beyond the map are absent too.
        assert_eq!(map.run(5, 100), (State::Absent, 100));
    }
}
