//! Line charts of training progress: loss and accuracy per epoch, and the cost per iteration of
//! gradient descent.

use std::ops::Range;
use std::path::Path;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordusize;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;
use serde::{Deserialize, Serialize};

use super::font::{ensure_registered, FAMILY};
use super::output::{Area, Canvas, DrawResult};
use super::text::{draw_text, text_width, Direction};
use crate::{Error, Result};

/// Colour of training series (the first colour of matplotlib's default cycle, so the pictures
/// read like the ones in most tutorials).
const TRAIN_COLOUR: RGBColor = RGBColor(31, 119, 180);
/// Colour of validation series (matplotlib's second default colour).
const VAL_COLOUR: RGBColor = RGBColor(255, 127, 14);
/// Series with at most this many points get a marker on each point, so that a short run, and
/// above all a single epoch, is visible.
const MAX_MARKED_POINTS: usize = 40;

/// Per-epoch metrics of one training run: the input of [`plot_training_curves`].
///
/// Every present series has one value per entry of `epochs`. Validation series are optional
/// (a run without a validation split), and so is accuracy (a regression model has none).
/// Non-finite values (a loss that diverged to NaN or infinity) are left out of the lines rather
/// than refused, so a diverging run can still be looked at.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CurveSeries {
    /// Epoch numbers, one per recorded value, usually `1..=n`.
    pub epochs: Vec<usize>,
    /// Mean training loss in each epoch.
    pub train_loss: Vec<f64>,
    /// Validation loss after each epoch, when there is a validation set.
    pub val_loss: Option<Vec<f64>>,
    /// Training accuracy in each epoch (a fraction or a percentage, plotted as given).
    pub train_acc: Option<Vec<f64>>,
    /// Validation accuracy after each epoch.
    pub val_acc: Option<Vec<f64>>,
}

impl CurveSeries {
    /// Checks that there is at least one epoch and that every series has one value per epoch.
    fn validate(&self) -> Result<()> {
        if self.epochs.is_empty() {
            return Err(Error::InvalidData(
                "training curves need at least one epoch, got none".to_string(),
            ));
        }
        let series = [
            ("train_loss", Some(&self.train_loss)),
            ("val_loss", self.val_loss.as_ref()),
            ("train_acc", self.train_acc.as_ref()),
            ("val_acc", self.val_acc.as_ref()),
        ];
        for (name, values) in series {
            if let Some(values) = values {
                if values.len() != self.epochs.len() {
                    return Err(Error::InvalidData(format!(
                        "{name} has {} values but epochs has {}",
                        values.len(),
                        self.epochs.len()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Pairs each value of `values` with its epoch.
    fn points(&self, values: &[f64]) -> Vec<(usize, f64)> {
        self.epochs
            .iter()
            .copied()
            .zip(values.iter().copied())
            .collect()
    }
}

/// Draws the loss per epoch and the accuracy per epoch side by side, training and validation
/// lines in each, and writes the chart to `path` as a PNG.
///
/// The picture is 1200 x 480 pixels with both panels, or 640 x 480 with the loss panel alone
/// when `series` holds no accuracy. `title` goes above the panels.
///
/// # Errors
/// `InvalidData` when there are no epochs, a series' length differs from the number of epochs,
/// or a panel has no finite value at all; `Io` when the file cannot be written.
pub fn plot_training_curves(
    path: impl AsRef<Path>,
    series: &CurveSeries,
    title: &str,
) -> Result<()> {
    let path = path.as_ref();
    series.validate()?;
    ensure_registered()?;

    let mut loss = Panel::new("loss", "epoch", "loss", Corner::UpperRight).log_when_wide();
    loss.push(
        Some("train"),
        TRAIN_COLOUR,
        series.points(&series.train_loss),
    );
    if let Some(values) = &series.val_loss {
        loss.push(Some("validation"), VAL_COLOUR, series.points(values));
    }
    let mut accuracy = Panel::new("accuracy", "epoch", "accuracy", Corner::LowerRight);
    if let Some(values) = &series.train_acc {
        accuracy.push(Some("train"), TRAIN_COLOUR, series.points(values));
    }
    if let Some(values) = &series.val_acc {
        accuracy.push(Some("validation"), VAL_COLOUR, series.points(values));
    }
    let mut panels = vec![loss];
    if !accuracy.lines.is_empty() {
        panels.push(accuracy);
    }
    let ranges = panels
        .iter()
        .map(Panel::ranges)
        .collect::<Result<Vec<_>>>()?;

    let width: u64 = if panels.len() == 2 { 1200 } else { 640 };
    let mut canvas = Canvas::new(width, 480, [255, 255, 255])?;
    canvas.draw_with(path, |root| {
        let body = draw_title(root, title)?;
        let areas = body.split_evenly((1, panels.len()));
        for ((panel, ranges), area) in panels.iter().zip(&ranges).zip(&areas) {
            panel.draw(area, ranges)?;
        }
        Ok(())
    })?;
    canvas.save_png(path)
}

/// Draws the cost after each iteration of gradient descent (iterations numbered from 0, as
/// `plt.plot(costs)` does) and writes the 800 x 500 chart to `path` as a PNG.
///
/// This is the classic picture for checking a learning rate: a smooth fall means it is sound,
/// a flat line that it is too small, a rising or jagged line that it is too large.
///
/// # Errors
/// `InvalidData` when `costs` is empty or holds no finite value; `Io` when the file cannot be
/// written.
pub fn plot_cost_curve(path: impl AsRef<Path>, title: &str, costs: &[f64]) -> Result<()> {
    let path = path.as_ref();
    if costs.is_empty() {
        return Err(Error::InvalidData(
            "a cost curve needs at least one cost, got none".to_string(),
        ));
    }
    ensure_registered()?;
    let mut panel = Panel::new("", "iteration", "cost", Corner::UpperRight).log_when_wide();
    panel.push(
        None,
        TRAIN_COLOUR,
        costs.iter().copied().enumerate().collect(),
    );
    let ranges = panel.ranges()?;

    let mut canvas = Canvas::new(800, 500, [255, 255, 255])?;
    canvas.draw_with(path, |root| {
        let body = draw_title(root, title)?;
        panel.draw(&body, &ranges)
    })?;
    canvas.save_png(path)
}

/// Writes `title` centred in a band at the top of `root` and returns the area below it.
fn draw_title<'a>(
    root: &Area<'a>,
    title: &str,
) -> std::result::Result<Area<'a>, Box<dyn std::error::Error>> {
    let (band, body) = root.split_vertically(48);
    let (width, height) = band.dim_in_pixel();
    let centre = (width as i32 / 2, height as i32 / 2 + 4);
    draw_text(
        &band,
        title,
        24.0,
        BLACK,
        centre,
        HPos::Center,
        Direction::Across,
    )?;
    Ok(body)
}

/// One line of a chart: a label for the legend (none for a chart with a single line), a colour
/// and its points in data coordinates.
struct Line<'a> {
    /// Legend entry.
    label: Option<&'a str>,
    /// Line and marker colour.
    colour: RGBColor,
    /// `(x, y)` points in order; points with a non-finite `y` break the line.
    points: Vec<(usize, f64)>,
}

/// A chart of lines over an integer x axis (epoch or iteration).
struct Panel<'a> {
    /// Caption above the plot area (empty for none).
    caption: &'a str,
    /// Label of the x axis.
    x_desc: &'a str,
    /// Label of the y axis.
    y_desc: &'a str,
    /// Where the legend goes, chosen where the lines usually are not.
    legend: Corner,
    /// The lines, drawn in order.
    lines: Vec<Line<'a>>,
    /// Whether a y range spanning more than [`LOG_AXIS_SPAN`] is drawn on a log axis (losses
    /// and costs, not accuracies).
    log_scaled: bool,
}

/// A loss panel whose finite values span more than this factor (a diverging run) gets a
/// logarithmic y axis, so the early epochs stay readable beside the blown-up ones.
const LOG_AXIS_SPAN: f64 = 100.0;

/// The x and y ranges of a panel's axes.
struct Ranges {
    /// Range of the x axis.
    x: std::ops::Range<usize>,
    /// Range of the y axis.
    y: std::ops::Range<f64>,
    /// Whether the y axis is logarithmic.
    log: bool,
}

impl<'a> Panel<'a> {
    /// A panel without lines.
    fn new(caption: &'a str, x_desc: &'a str, y_desc: &'a str, legend: Corner) -> Self {
        Self {
            caption,
            x_desc,
            y_desc,
            legend,
            lines: Vec::new(),
            log_scaled: false,
        }
    }

    /// The same panel, drawn on a log axis when its values span orders of magnitude.
    fn log_when_wide(self) -> Self {
        Self {
            log_scaled: true,
            ..self
        }
    }

    /// Adds a line.
    fn push(&mut self, label: Option<&'a str>, colour: RGBColor, points: Vec<(usize, f64)>) {
        self.lines.push(Line {
            label,
            colour,
            points,
        });
    }

    /// Axis ranges that hold every finite point with a margin, and are never empty (a single
    /// point or a constant series still gets a readable axis).
    fn ranges(&self) -> Result<Ranges> {
        let points = self.lines.iter().flat_map(|line| &line.points);
        let (mut x_min, mut x_max) = (usize::MAX, 0);
        let (mut y_min, mut y_max) = (f64::INFINITY, f64::NEG_INFINITY);
        for &(x, y) in points.filter(|(_, y)| y.is_finite()) {
            x_min = x_min.min(x);
            x_max = x_max.max(x);
            y_min = y_min.min(y);
            y_max = y_max.max(y);
        }
        if x_min > x_max {
            return Err(Error::InvalidData(format!(
                "the {} chart has no finite value to plot",
                self.y_desc
            )));
        }
        let x = if x_min == x_max {
            x_min.saturating_sub(1)..x_max + 1
        } else {
            x_min..x_max
        };
        if self.log_scaled && y_min > 0.0 && y_max / y_min > LOG_AXIS_SPAN {
            return Ok(Ranges {
                x,
                y: y_min / 1.25..y_max * 1.25,
                log: true,
            });
        }
        let pad = if y_max > y_min {
            0.05 * (y_max - y_min)
        } else {
            (0.1 * y_max.abs()).max(0.5)
        };
        Ok(Ranges {
            x,
            y: y_min - pad..y_max + pad,
            log: false,
        })
    }

    /// Draws the panel into `area` over `ranges`.
    ///
    /// plotters draws the grid, the lines and the tick labels (digits, which its text layout
    /// handles well); the caption, axis titles and legend are drawn with [`draw_text`].
    fn draw(&self, area: &Area<'_>, ranges: &Ranges) -> DrawResult {
        let mut builder = ChartBuilder::on(area);
        builder
            .margin(16)
            .margin_top(if self.caption.is_empty() { 16 } else { 44 })
            .x_label_area_size(52)
            .y_label_area_size(76);
        let (xs, ys) = if ranges.log {
            let y = (ranges.y.clone()).log_scale();
            self.draw_lines(builder.build_cartesian_2d(ranges.x.clone(), y)?)?
        } else {
            self.draw_lines(builder.build_cartesian_2d(ranges.x.clone(), ranges.y.clone())?)?
        };
        self.draw_labels(area, xs, ys)
    }

    /// Draws the grid, tick labels and lines into `chart`; returns the plot's pixel ranges.
    fn draw_lines<Y>(
        &self,
        mut chart: ChartContext<'_, BitMapBackend<'_>, Cartesian2d<RangedCoordusize, Y>>,
    ) -> std::result::Result<PixelRanges, Box<dyn std::error::Error>>
    where
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .x_labels(10)
            .y_labels(8)
            .label_style((FAMILY, 14))
            .bold_line_style(RGBColor(220, 220, 220))
            .light_line_style(TRANSPARENT)
            .draw()?;
        for line in &self.lines {
            let style = line.colour.stroke_width(2);
            for run in finite_runs(&line.points) {
                chart.draw_series(LineSeries::new(run.iter().copied(), style))?;
            }
            if line.points.len() <= MAX_MARKED_POINTS {
                let finite = line.points.iter().filter(|(_, y)| y.is_finite());
                chart.draw_series(finite.map(|&p| Circle::new(p, 3, line.colour.filled())))?;
            }
        }

        Ok(chart.plotting_area().get_pixel_range())
    }

    /// Draws the caption, axis titles and legend around the plot at pixel ranges `xs`, `ys`.
    fn draw_labels(&self, area: &Area<'_>, xs: Range<i32>, ys: Range<i32>) -> DrawResult {
        // The plot's edges, relative to `area`.
        let (base_x, base_y) = area.get_base_pixel();
        let plot = Rect {
            left: xs.start - base_x,
            right: xs.end - base_x,
            top: ys.start - base_y,
            bottom: ys.end - base_y,
        };
        let middle = ((plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2);
        if !self.caption.is_empty() {
            let at = (middle.0, plot.top - 24);
            draw_text(
                area,
                self.caption,
                20.0,
                BLACK,
                at,
                HPos::Center,
                Direction::Across,
            )?;
        }
        let x_at = (middle.0, plot.bottom + 40);
        draw_text(
            area,
            self.x_desc,
            16.0,
            BLACK,
            x_at,
            HPos::Center,
            Direction::Across,
        )?;
        let y_at = (plot.left - 64, middle.1);
        draw_text(
            area,
            self.y_desc,
            16.0,
            BLACK,
            y_at,
            HPos::Center,
            Direction::Up,
        )?;
        self.draw_legend(area, &plot)
    }

    /// Draws a box in a corner of `plot` naming each labelled line beside a sample of it.
    fn draw_legend(&self, area: &Area<'_>, plot: &Rect) -> DrawResult {
        const SIZE: f64 = 14.0;
        const ROW: i32 = 22;
        const SAMPLE: i32 = 24;
        const INSET: i32 = 12;
        let labelled: Vec<(&str, RGBColor)> = self
            .lines
            .iter()
            .filter_map(|line| line.label.map(|label| (label, line.colour)))
            .collect();
        if labelled.is_empty() {
            return Ok(());
        }
        let mut widest = 0;
        for (label, _) in &labelled {
            widest = widest.max(text_width(label, SIZE)? as i32);
        }
        let width = 10 + SAMPLE + 8 + widest + 12;
        let height = ROW * labelled.len() as i32 + 6;
        let x0 = plot.right - INSET - width;
        let y0 = match self.legend {
            Corner::UpperRight => plot.top + INSET,
            Corner::LowerRight => plot.bottom - INSET - height,
        };
        area.draw(&Rectangle::new(
            [(x0, y0), (x0 + width, y0 + height)],
            WHITE.mix(0.9).filled(),
        ))?;
        area.draw(&Rectangle::new(
            [(x0, y0), (x0 + width, y0 + height)],
            RGBColor(200, 200, 200),
        ))?;
        for (k, (label, colour)) in labelled.iter().enumerate() {
            let y = y0 + 3 + ROW * k as i32 + ROW / 2;
            let sample = vec![(x0 + 10, y), (x0 + 10 + SAMPLE, y)];
            area.draw(&PathElement::new(sample, colour.stroke_width(2)))?;
            let at = (x0 + 10 + SAMPLE + 8, y);
            draw_text(area, label, SIZE, BLACK, at, HPos::Left, Direction::Across)?;
        }
        Ok(())
    }
}

/// The x and y pixel ranges of a chart's plotting area.
type PixelRanges = (Range<i32>, Range<i32>);

/// A rectangle in pixels.
struct Rect {
    /// Left edge.
    left: i32,
    /// Right edge.
    right: i32,
    /// Top edge.
    top: i32,
    /// Bottom edge.
    bottom: i32,
}

/// The corner of a chart that holds its legend, chosen where the lines usually are not.
#[derive(Debug, Clone, Copy)]
enum Corner {
    /// Top right: for falling curves such as losses.
    UpperRight,
    /// Bottom right: for rising curves such as accuracies.
    LowerRight,
}

/// Splits `points` into the maximal runs of consecutive points with a finite `y`.
fn finite_runs(points: &[(usize, f64)]) -> Vec<&[(usize, f64)]> {
    points
        .split(|(_, y)| !y.is_finite())
        .filter(|run| !run.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::test_util::{distinct_colours, TempPng};

    fn history(epochs: usize) -> CurveSeries {
        let e: Vec<f64> = (1..=epochs).map(|e| e as f64).collect();
        CurveSeries {
            epochs: (1..=epochs).collect(),
            train_loss: e.iter().map(|e| 2.3 / e).collect(),
            val_loss: Some(e.iter().map(|e| 2.4 / e + 0.02 * e).collect()),
            train_acc: Some(e.iter().map(|e| 1.0 - 0.9 / e).collect()),
            val_acc: Some(e.iter().map(|e| 0.97 - 0.9 / e).collect()),
        }
    }

    /// Whether `picture` has a pixel close to `colour` (antialiasing blends line edges).
    fn has_colour(picture: &image::RgbImage, colour: RGBColor) -> bool {
        picture.pixels().any(|p| {
            let [r, g, b] = p.0;
            r.abs_diff(colour.0) < 8 && g.abs_diff(colour.1) < 8 && b.abs_diff(colour.2) < 8
        })
    }

    #[test]
    fn training_curves_have_two_panels_with_train_and_validation_lines() {
        let png = TempPng::new("curves");
        plot_training_curves(png.path(), &history(12), "MLP on MNIST").expect("plot");
        let picture = png.read();
        assert_eq!(picture.dimensions(), (1200, 480));
        let (left, right) = (
            image::imageops::crop_imm(&picture, 0, 0, 600, 480).to_image(),
            image::imageops::crop_imm(&picture, 600, 0, 600, 480).to_image(),
        );
        for panel in [&left, &right] {
            assert!(has_colour(panel, TRAIN_COLOUR));
            assert!(has_colour(panel, VAL_COLOUR));
        }
    }

    #[test]
    fn missing_validation_and_accuracy_give_one_panel_without_validation_colour() {
        let png = TempPng::new("curves-train-only");
        let mut series = history(5);
        series.val_loss = None;
        series.train_acc = None;
        series.val_acc = None;
        plot_training_curves(png.path(), &series, "train only").expect("plot");
        let picture = png.read();
        assert_eq!(picture.dimensions(), (640, 480));
        assert!(has_colour(&picture, TRAIN_COLOUR));
        assert!(!has_colour(&picture, VAL_COLOUR));
    }

    #[test]
    fn a_single_epoch_is_drawn_as_markers() {
        let png = TempPng::new("curves-one-epoch");
        plot_training_curves(png.path(), &history(1), "one epoch").expect("plot");
        let picture = png.read();
        assert_eq!(picture.dimensions(), (1200, 480));
        assert!(has_colour(&picture, TRAIN_COLOUR));
        assert!(has_colour(&picture, VAL_COLOUR));
    }

    #[test]
    fn a_diverging_loss_is_plotted_up_to_the_first_nan() {
        let png = TempPng::new("curves-nan");
        let mut series = history(6);
        series.train_loss[4] = f64::NAN;
        series.train_loss[5] = f64::INFINITY;
        plot_training_curves(png.path(), &series, "diverged").expect("plot");
        assert!(has_colour(&png.read(), TRAIN_COLOUR));
    }

    #[test]
    fn a_loss_blowing_up_by_orders_of_magnitude_gets_a_log_axis() {
        let blown: Vec<(usize, f64)> = vec![(1, 2.3), (2, 1.9), (3, 40.0), (4, 5.0e4)];
        let mut loss = Panel::new("loss", "epoch", "loss", Corner::UpperRight).log_when_wide();
        loss.push(Some("train"), TRAIN_COLOUR, blown.clone());
        let ranges = loss.ranges().expect("ranges");
        assert!(ranges.log);
        assert!(ranges.y.start < 1.9 && ranges.y.end > 5.0e4);
        // A loss within two orders of magnitude, and any accuracy, stay linear.
        let mut tame = Panel::new("loss", "epoch", "loss", Corner::UpperRight).log_when_wide();
        tame.push(
            None,
            TRAIN_COLOUR,
            history(10).points(&history(10).train_loss),
        );
        assert!(!tame.ranges().expect("ranges").log);
        let mut accuracy = Panel::new("accuracy", "epoch", "accuracy", Corner::LowerRight);
        accuracy.push(None, TRAIN_COLOUR, blown);
        assert!(!accuracy.ranges().expect("ranges").log);

        let png = TempPng::new("curves-log");
        let mut series = history(4);
        series.train_loss = vec![2.3, 1.9, 40.0, 5.0e4];
        plot_training_curves(png.path(), &series, "diverging").expect("plot");
        assert!(has_colour(&png.read(), TRAIN_COLOUR));
    }

    #[test]
    fn mismatched_lengths_name_the_series_and_both_sizes() {
        let mut series = history(4);
        series.val_acc = Some(vec![0.5; 3]);
        let err = plot_training_curves(TempPng::new("never").path(), &series, "")
            .expect_err("length mismatch");
        assert!(matches!(err, Error::InvalidData(_)));
        assert_eq!(
            err.to_string(),
            "invalid data: val_acc has 3 values but epochs has 4"
        );
        let empty = CurveSeries::default();
        assert!(matches!(
            plot_training_curves(TempPng::new("never").path(), &empty, ""),
            Err(Error::InvalidData(_))
        ));
    }

    #[test]
    fn cost_curve_is_drawn_and_refuses_empty_or_all_nan_input() {
        let png = TempPng::new("cost");
        let costs: Vec<f64> = (0..500)
            .map(|i| 0.5 + 10.0 * (-(i as f64) / 60.0).exp())
            .collect();
        plot_cost_curve(png.path(), "gradient descent, lr = 0.01", &costs).expect("plot");
        let picture = png.read();
        assert_eq!(picture.dimensions(), (800, 500));
        assert!(has_colour(&picture, TRAIN_COLOUR));
        assert!(distinct_colours(&picture) > 10);

        let never = TempPng::new("never");
        assert!(matches!(
            plot_cost_curve(never.path(), "", &[]),
            Err(Error::InvalidData(_))
        ));
        let err = plot_cost_curve(never.path(), "", &[f64::NAN]).expect_err("nothing finite");
        assert!(err.to_string().contains("no finite value"), "{err}");
        assert!(!never.path().exists());
    }

    #[test]
    fn finite_runs_split_at_non_finite_values() {
        let points = [
            (0, 1.0),
            (1, f64::NAN),
            (2, 2.0),
            (3, 3.0),
            (4, f64::INFINITY),
        ];
        let runs = finite_runs(&points);
        assert_eq!(runs, vec![&points[0..1], &points[2..4]]);
    }
}
