//! Work split across the cores in order: used for fleets (many documents, many clusters).

/// A worker's results. A worker that panicked (a bug) takes the process down with its panic,
/// never leaving a silent gap in the output.
fn joined<R>(h: std::thread::ScopedJoinHandle<'_, Vec<R>>) -> Vec<R> {
    h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// `f` over `items`, results in order; inputs of fewer than `min` items stay on one thread.
pub fn map<T: Sync, R: Send>(items: &[T], min: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads < 2 || items.len() < min.max(2) {
        return items.iter().map(&f).collect();
    }
    let size = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(size)
            .map(|c| s.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles.into_iter().flat_map(joined).collect()
    })
}

/// As `map`, taking the items: each is dropped as soon as `f` is done with it, so a fleet's
/// inputs are released while its outputs are made.
pub fn map_owned<T: Send, R: Send>(items: Vec<T>, min: usize, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads < 2 || items.len() < min.max(2) {
        return items.into_iter().map(&f).collect();
    }
    let size = items.len().div_ceil(threads);
    let mut chunks: Vec<Vec<T>> = Vec::new();
    let mut rest = items;
    while rest.len() > size {
        let tail = rest.split_off(size);
        chunks.push(rest);
        rest = tail;
    }
    chunks.push(rest);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| s.spawn(move || c.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles.into_iter().flat_map(joined).collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled: Vec<u32> = items.iter().map(|i| i * 2).collect();
        assert_eq!(super::map(&items, 16, |i| i * 2), doubled);
        assert_eq!(super::map_owned(items, 16, |i| i * 2), doubled);
    }
}
