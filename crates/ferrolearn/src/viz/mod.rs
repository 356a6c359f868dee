//! Pictures: training curves, confusion matrices, weight templates and filters, the most
//! confident mistakes of a classifier, and k-means centres of images or patches.
//!
//! Every function takes plain data (numbers, shapes, names), not tensors or models, so that it
//! serves the neural-network half and the classic half of the crate alike, and the CLI's `plot`
//! and `visualize` commands are one call each. Every function writes a PNG atomically: the
//! picture is written to `<path>.tmp` and renamed over `<path>`, so a reader never sees half a
//! file.
//!
//! Charts are drawn with plotters using an embedded copy of DejaVu Sans, so text looks the same
//! on every machine and needs no system fonts; pixel-level pictures (weights, filters) are
//! written straight into an RGB buffer.

mod centroids;
mod confusion;
mod curves;
mod errors;
mod font;
mod output;
mod text;
mod weights;

pub use centroids::plot_centroids;
pub use confusion::{format_confusion_matrix, plot_confusion_matrix};
pub use curves::{plot_cost_curve, plot_training_curves, CurveSeries};
pub use errors::{most_confident_mistakes, plot_mistakes, Mistake};
pub use weights::{plot_filters, plot_linear_templates};

#[cfg(test)]
pub(crate) mod test_util {
    //! Temporary PNG files for the tests, and reading them back.

    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A unique path in the system temporary directory, removed when dropped unless the
    /// environment variable `FERROLEARN_KEEP_PICTURES` is set (to look at the pictures).
    pub(crate) struct TempPng(PathBuf);

    impl TempPng {
        /// A fresh path whose file name contains `name`, the process id and a counter.
        pub(crate) fn new(name: &str) -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let file = format!("ferrolearn-viz-{name}-{}-{n}.png", std::process::id());
            Self(std::env::temp_dir().join(file))
        }

        /// The path to write to.
        pub(crate) fn path(&self) -> &Path {
            &self.0
        }

        /// Reads the picture back as RGB8, panicking with the path if it is missing or invalid.
        pub(crate) fn read(&self) -> image::RgbImage {
            match image::open(&self.0) {
                Ok(picture) => picture.to_rgb8(),
                Err(e) => panic!("{}: {e}", self.0.display()),
            }
        }
    }

    impl Drop for TempPng {
        fn drop(&mut self) {
            if std::env::var_os("FERROLEARN_KEEP_PICTURES").is_none() {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    /// The number of distinct colours in `picture`.
    pub(crate) fn distinct_colours(picture: &image::RgbImage) -> usize {
        let mut colours: Vec<[u8; 3]> = picture.pixels().map(|p| p.0).collect();
        colours.sort_unstable();
        colours.dedup();
        colours.len()
    }
}
