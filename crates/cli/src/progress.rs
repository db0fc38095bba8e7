//! Progress bars on a terminal; nothing when stderr is not one.

use std::io::IsTerminal;

use custody_engine::table::Format;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Bar {
    bar: ProgressBar,
    bytes: bool,
}

impl Bar {
    fn new(bytes: bool) -> Bar {
        let bar = ProgressBar::hidden();
        if std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        Bar { bar, bytes }
    }

    pub fn bytes() -> Bar {
        Bar::new(true)
    }

    pub fn records() -> Bar {
        Bar::new(false)
    }

    /// For reading `file`: progress counts bytes of a CSV file, rows of a
    /// Parquet one (as the engine's readers report it).
    pub fn reading(file: &std::path::Path, format: Option<Format>) -> Bar {
        match Format::of(file, format) {
            Format::Csv => Bar::bytes(),
            Format::Parquet => Bar::records(),
        }
    }
}

impl custody_engine::Progress for Bar {
    fn start(&self, what: &str, total: Option<u64>) {
        self.bar.reset();
        self.bar.set_message(what.to_string());
        let style = match (total, self.bytes) {
            (Some(t), true) => {
                self.bar.set_length(t);
                "{msg:12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
            }
            (Some(t), false) => {
                self.bar.set_length(t);
                "{msg:12} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}"
            }
            (None, _) => "{spinner} {msg:12} {human_pos} records {per_sec}",
        };
        self.bar.set_style(
            ProgressStyle::with_template(style)
                .expect("valid template")
                .progress_chars("=> "),
        );
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
