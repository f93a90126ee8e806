//! What a push shows on stderr while it runs, as Podman does: progress bars on a terminal,
//! plain "Copying blob ... done" lines otherwise, nothing when quiet. Knows nothing of
//! registries.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Where progress goes.
pub struct Progress {
    mode: Mode,
}

enum Mode {
    Quiet,
    Lines,
    Bars(MultiProgress),
}

/// One blob's progress: bytes of its tar while it is compressed, then bytes sent.
pub struct Bar {
    bar: Option<ProgressBar>,
    /// The short ID printed in lines mode.
    name: Option<String>,
}

impl Progress {
    /// `None`: quiet; `Some(true)`: bars (a terminal); `Some(false)`: lines.
    pub fn new(show: Option<bool>) -> Progress {
        let mode = match show {
            None => Mode::Quiet,
            Some(false) => Mode::Lines,
            Some(true) => Mode::Bars(MultiProgress::new()),
        };
        Progress { mode }
    }

    pub fn line(&self, text: &str) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("{text}"),
            Mode::Bars(m) => {
                let _ = m.println(text);
            }
        }
    }

    /// A bar for the layer `diff_id`, `total` bytes long.
    pub fn bar(&self, diff_id: &str, total: u64) -> Bar {
        let short = crate::util::short_id(diff_id);
        match &self.mode {
            Mode::Quiet => Bar { bar: None, name: None },
            Mode::Lines => Bar { bar: None, name: Some(short) },
            Mode::Bars(m) => {
                let b = m.add(ProgressBar::new(total));
                let style = ProgressStyle::with_template(
                    "Copying blob {msg} [{bar:30}] {bytes} / {total_bytes} {bytes_per_sec}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                b.set_style(style);
                b.set_message(short);
                Bar { bar: Some(b), name: None }
            }
        }
    }
}

impl Bar {
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// From now on the bar counts the `size` bytes of the compressed blob being sent.
    pub fn uploading(&self, size: u64) {
        if let Some(b) = &self.bar {
            b.set_length(size);
            b.set_position(0);
        }
    }

    /// A handle that counts bytes from another thread.
    pub fn handle(&self) -> Bar {
        Bar { bar: self.bar.clone(), name: None }
    }

    pub fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
        if let Some(n) = &self.name {
            eprintln!("Copying blob {n} done");
        }
    }
}
