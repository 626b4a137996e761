//! A growable sequence that never moves what it holds: it grows by whole chunks, so a push
//! costs the same at the millionth element as at the first. A single `Vec` copies everything
//! at each doubling; under a lock (an audit log, a secret written in a loop) that copy stalls
//! every other request for milliseconds.

/// Elements per full chunk. The first chunk grows like a `Vec` up to this size, so a short
/// sequence (most secrets have a few versions) holds no more memory than a `Vec` would.
const CHUNK: usize = 1024;

/// An append-only-friendly sequence: push, index, iterate; no removal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunked<T> {
    /// Every chunk but the last holds exactly `CHUNK` elements.
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self { chunks: Vec::new() }
    }
}

impl<T> Chunked<T> {
    /// Appends `item` at the end.
    pub fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(item),
            Some(_) => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(item);
                self.chunks.push(chunk);
            }
            None => self.chunks.push(vec![item]),
        }
    }

    /// How many elements there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.chunks
            .last()
            .map_or(0, |last| (self.chunks.len() - 1) * CHUNK + last.len())
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The element at `index`, mutably.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)
    }

    /// The newest element.
    #[must_use]
    pub fn last(&self) -> Option<&T> {
        self.chunks.last()?.last()
    }

    /// Every element, oldest first.
    #[must_use]
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// The elements from `start` on, found without walking the ones before it.
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = &T> {
        self.chunks
            .iter()
            .skip(start / CHUNK)
            .flatten()
            .skip(start % CHUNK)
    }
}

impl<T> FromIterator<T> for Chunked<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut chunked = Self::default();
        for item in items {
            chunked.push(item);
        }
        chunked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_and_iterates_across_chunk_boundaries() {
        let items: Chunked<usize> = (0..CHUNK * 2 + 5).collect();
        assert_eq!(items.len(), CHUNK * 2 + 5);
        assert_eq!(items.iter_from(CHUNK - 1).next(), Some(&(CHUNK - 1)));
        assert_eq!(items.iter_from(CHUNK).next(), Some(&CHUNK));
        assert_eq!(items.iter_from(CHUNK * 2 + 5).next(), None);
        assert_eq!(items.last(), Some(&(CHUNK * 2 + 4)));
        assert!(items.iter().copied().eq(0..CHUNK * 2 + 5));
        assert!(
            items
                .iter_from(CHUNK - 1)
                .copied()
                .eq(CHUNK - 1..CHUNK * 2 + 5)
        );
        assert_eq!(items.iter_from(CHUNK * 3).count(), 0);
    }

    #[test]
    fn full_chunks_are_never_reallocated() {
        let mut items: Chunked<usize> = (0..CHUNK).collect();
        let first = std::ptr::from_ref(items.iter().next().expect("first"));
        for i in 0..CHUNK * 3 {
            items.push(i);
        }
        assert!(std::ptr::eq(first, items.iter().next().expect("first")));
        *items.get_mut(CHUNK + 1).expect("second chunk") = 7;
        assert_eq!(items.iter_from(CHUNK + 1).next(), Some(&7));
        assert_eq!(items.get_mut(CHUNK * 4), None);
    }

    #[test]
    fn empty() {
        let items = Chunked::<u8>::default();
        assert!(items.is_empty());
        assert_eq!(items.len(), 0);
        assert_eq!(items.last(), None);
        assert_eq!(items.iter().count(), 0);
    }
}
