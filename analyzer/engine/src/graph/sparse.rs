//! A column with a value for some of its rows, in about a bit and a half
//! per row plus the values present: a presence bitmap, a running count of
//! the values before each 64 rows, and the values in row order. Reading a
//! row is a bit test and a popcount, no search.

/// Rows `0..len`, appended in order, each with a value or none.
#[derive(Debug, Clone)]
pub struct Sparse<T> {
    len: usize,
    /// Bit `r % 64` of word `r / 64` is set when row `r` has a value.
    words: Vec<u64>,
    /// Values before word `w`'s rows.
    ranks: Vec<u32>,
    values: Vec<T>,
}

impl<T> Default for Sparse<T> {
    fn default() -> Self {
        Sparse {
            len: 0,
            words: Vec::new(),
            ranks: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl<T: Copy> Sparse<T> {
    /// Appends the next row.
    pub fn push(&mut self, value: Option<T>) {
        let bit = self.len % 64;
        if bit == 0 {
            self.words.push(0);
            self.ranks.push(self.values.len() as u32);
        }
        if let Some(v) = value {
            *self.words.last_mut().expect("a word per 64 rows") |= 1 << bit;
            self.values.push(v);
        }
        self.len += 1;
    }

    /// The value of row `row`; none past the end.
    pub fn get(&self, row: usize) -> Option<T> {
        let word = *self.words.get(row / 64)?;
        let bit = row % 64;
        if word >> bit & 1 == 0 {
            return None;
        }
        let before = (word & ((1u64 << bit) - 1)).count_ones() as usize;
        Some(self.values[self.ranks[row / 64] as usize + before])
    }

    /// Gives back spare capacity.
    pub fn shrink(&mut self) {
        self.words.shrink_to_fit();
        self.ranks.shrink_to_fit();
        self.values.shrink_to_fit();
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
            + self.ranks.capacity() * 4
            + self.values.capacity() * std::mem::size_of::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::Sparse;

    #[test]
    fn every_row_reads_back_what_was_pushed() {
        // Runs of present and absent rows across word boundaries.
        let rows: Vec<Option<u64>> = (0..1000u64)
            .map(|r| (r % 7 == 0 || (130..260).contains(&r)).then_some(r * 3))
            .collect();
        let mut column = Sparse::default();
        for &r in &rows {
            column.push(r);
        }
        for (row, &want) in rows.iter().enumerate() {
            assert_eq!(column.get(row), want, "row {row}");
        }
        assert_eq!(column.get(rows.len()), None);
        assert_eq!(column.get(rows.len() + 64), None);
        // The values and a word and a count per 64 rows, nothing per row.
        column.shrink();
        let present = rows.iter().flatten().count();
        assert!(column.heap_bytes() <= present * 8 + 16 * 12 + 64);
    }

    #[test]
    fn an_empty_column_has_no_rows() {
        let column: Sparse<u32> = Sparse::default();
        assert_eq!(column.get(0), None);
    }
}
