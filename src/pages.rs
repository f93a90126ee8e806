//! Giving back the clean file pages a long-idle process touched at start-up (program and
//! library text, read-only data): the monitor, the built-in network stack and the user
//! namespace holder wait for months and need few of them. Only read-only private file
//! mappings without anonymous pages are released: they can never hold a private change,
//! however long after the listing the release happens, so nothing is lost — a page touched
//! again faults back in from the page cache.
//! A leaf: knows nothing of containers.

/// The read-only private file mappings of a /proc/PID/smaps text that hold no anonymous pages.
pub fn clean_file_mappings(smaps: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut current = None;
    for line in smaps.lines() {
        let mut f = line.split_whitespace();
        let first = f.next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
        {
            let perms = f.next().unwrap_or("");
            let inode = f.nth(2).unwrap_or("0");
            // Private, not writable, backed by a file (not [vvar]/[vdso] or anonymous memory).
            current = (perms.ends_with('p') && !perms.contains('w') && inode != "0").then_some((start, end));
        } else if first == "Anonymous:"
            && let Some(r) = current.take()
            && f.next() == Some("0")
        {
            out.push(r);
        }
    }
    out
}

/// This process's clean file mappings (empty when /proc cannot be read).
pub fn own_clean_file_mappings() -> Vec<(usize, usize)> {
    std::fs::read_to_string("/proc/self/smaps").map(|s| clean_file_mappings(&s)).unwrap_or_default()
}

/// Drops the page-table entries of `ranges` (from [`clean_file_mappings`]).
#[inline(always)]
pub fn release(ranges: &[(usize, usize)]) {
    for &(start, end) in ranges {
        // SAFETY: read-only private file mappings of ours: their pages equal the file's,
        // which they are re-read from on the next access.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_only_clean_file_mappings_are_released() {
        let smaps = "\
00400000-00500000 r-xp 00000000 08:01 1234 /usr/bin/kiste
Rss:                 400 kB
Anonymous:             0 kB
00600000-00610000 r--p 00100000 08:01 1234 /usr/bin/kiste
Anonymous:            28 kB
00610000-00620000 rw-p 00000000 08:01 1234 /usr/bin/kiste
Anonymous:             0 kB
00620000-00630000 rw-p 00000000 00:00 0
Anonymous:            64 kB
7f0000000000-7f0000001000 r--s 00000000 08:01 99 /dev/shm/x
Anonymous:             0 kB
7f0000100000-7f0000200000 r-xp 00000000 08:01 77 /usr/lib/libc.so.6
Anonymous:             0 kB
7fff0000000-7fff0002000 r-xp 00000000 00:00 0 [vdso]
Anonymous:             0 kB
";
        assert_eq!(clean_file_mappings(smaps), vec![(0x400000, 0x500000), (0x7f0000100000, 0x7f0000200000)]);
        // Our own mappings parse, and the program text is among the clean ones.
        let text = clean_file_mappings as *const () as usize;
        assert!(own_clean_file_mappings().iter().any(|&(a, b)| a <= text && text < b));
    }
}
