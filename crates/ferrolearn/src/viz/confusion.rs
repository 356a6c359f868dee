//! Confusion matrices: a heatmap picture and an aligned text table.
//!
//! Both take the matrix as rows of counts, row = true class and column = predicted class (the
//! convention of scikit-learn's `confusion_matrix`), with one name per class.

use std::path::Path;

use plotters::style::text_anchor::HPos;
use plotters::style::RGBColor;

use super::output::Canvas;
use super::text::{draw_text, text_width, Direction};
use crate::{Error, Result};

/// Outer margin of the picture, in pixels.
const PAD: u32 = 16;
/// Gap between the grid, its labels and the axis titles.
const GAP: u32 = 8;
/// Height of the band that holds the title.
const TITLE_BAND: u32 = 52;
/// Font size of the title.
const TITLE_SIZE: f64 = 22.0;
/// Font size of the axis titles ("true class", "predicted class").
const AXIS_SIZE: f64 = 16.0;
/// Largest font size of class names (smaller when cells are small).
const NAME_SIZE: f64 = 15.0;
/// Font size of the colour bar's tick labels.
const TICK_SIZE: f64 = 13.0;
/// Width of the colour bar, and its distance from the grid.
const BAR_WIDTH: u32 = 18;
/// Distance between the grid and the colour bar.
const BAR_GAP: u32 = 24;
/// Colour of the frames around the grid and the colour bar.
const FRAME: [u8; 3] = [140, 140, 140];
/// Colour of the labels.
const INK: RGBColor = RGBColor(30, 30, 30);
/// The colour ramp of the heatmap, from a count of zero to the largest count: a blue so pale
/// that an empty cell still stands out from the white page, through a middle blue, to navy.
const RAMP: [[f64; 3]; 3] = [
    [247.0, 251.0, 255.0],
    [107.0, 174.0, 214.0],
    [8.0, 48.0, 107.0],
];

/// Checks that `matrix` is square with one row and one column per class name.
fn check_shape(matrix: &[Vec<usize>], n_names: usize) -> Result<()> {
    if n_names == 0 {
        return Err(Error::InvalidData(
            "a confusion matrix needs at least one class, got 0 class names".to_string(),
        ));
    }
    if matrix.len() != n_names {
        return Err(Error::InvalidData(format!(
            "the confusion matrix has {} rows but there are {n_names} class names",
            matrix.len()
        )));
    }
    for (i, row) in matrix.iter().enumerate() {
        if row.len() != n_names {
            return Err(Error::InvalidData(format!(
                "row {i} of the confusion matrix has {} columns but there are {n_names} class names",
                row.len()
            )));
        }
    }
    Ok(())
}

/// Formats a confusion matrix as an aligned text table for a terminal: a header row of
/// predicted class names, then one row per true class, counts right-aligned.
///
/// ```text
/// true \ predicted  cat  dog  bird
/// cat                 5    1     0
/// dog                 0    7     2
/// bird                1    0     9
/// ```
/// Every line ends with a newline. Widths count characters, so names in scripts whose
/// characters are wider than one terminal column will not line up.
///
/// # Errors
/// `InvalidData` when the matrix is not square with one row and column per class name.
pub fn format_confusion_matrix<S: AsRef<str>>(
    matrix: &[Vec<usize>],
    class_names: &[S],
) -> Result<String> {
    check_shape(matrix, class_names.len())?;
    const CORNER: &str = "true \\ predicted";
    let names: Vec<&str> = class_names.iter().map(AsRef::as_ref).collect();
    let first = names
        .iter()
        .map(|name| name.chars().count())
        .fold(CORNER.len(), usize::max);
    let widths: Vec<usize> = (0..names.len())
        .map(|j| {
            let widest_count = matrix
                .iter()
                .map(|row| row[j].to_string().len())
                .max()
                .unwrap_or(1);
            widest_count.max(names[j].chars().count())
        })
        .collect();

    let mut table = format!("{CORNER:<first$}");
    for (name, width) in names.iter().zip(&widths) {
        table.push_str(&format!("  {name:>width$}"));
    }
    table.push('\n');
    for (name, row) in names.iter().zip(matrix) {
        table.push_str(&format!("{name:<first$}"));
        for (count, width) in row.iter().zip(&widths) {
            table.push_str(&format!("  {count:>width$}"));
        }
        table.push('\n');
    }
    Ok(table)
}

/// Draws a confusion matrix as a heatmap and writes it to `path` as a PNG.
///
/// Each cell is shaded on a white-to-navy ramp by its count relative to the largest count in
/// the matrix (raw counts, as scikit-learn's `ConfusionMatrixDisplay` does) and shows the
/// count in black or white, whichever reads better on the cell. True classes label the rows
/// (top to bottom), predicted classes the columns; column names turn vertical when they are
/// wider than a cell. A colour bar on the right gives the scale.
///
/// Cells are 72 pixels for a few classes, shrinking to 14 pixels for a hundred or more;
/// counts are left out of cells too small to hold them legibly.
///
/// # Errors
/// `InvalidData` when the matrix is not square with one row and column per class name, or the
/// picture would exceed 100 million pixels; `Io` when the file cannot be written.
pub fn plot_confusion_matrix<S: AsRef<str>>(
    path: impl AsRef<Path>,
    matrix: &[Vec<usize>],
    class_names: &[S],
    title: &str,
) -> Result<()> {
    let path = path.as_ref();
    check_shape(matrix, class_names.len())?;
    let names: Vec<&str> = class_names.iter().map(AsRef::as_ref).collect();
    let max = matrix.iter().flatten().copied().max().unwrap_or(0);
    let layout = Layout::new(&names, max, title)?;

    let mut canvas = Canvas::new(layout.width.into(), layout.height.into(), [255, 255, 255])?;
    for (i, row) in matrix.iter().enumerate() {
        for (j, &count) in row.iter().enumerate() {
            let x = layout.grid_x + j as u32 * layout.cell;
            let y = layout.grid_y + i as u32 * layout.cell;
            canvas.fill(x, y, layout.cell, layout.cell, cell_colour(count, max));
        }
    }
    let side = layout.side;
    frame(&mut canvas, layout.grid_x, layout.grid_y, side, side);
    for row in 0..side {
        let t = 1.0 - f64::from(row) / f64::from(side - 1).max(1.0);
        canvas.fill(layout.bar_x, layout.grid_y + row, BAR_WIDTH, 1, ramp(t));
    }
    frame(&mut canvas, layout.bar_x, layout.grid_y, BAR_WIDTH, side);
    for (_, y) in layout.ticks(max) {
        canvas.fill(layout.bar_x + BAR_WIDTH, y, 4, 1, FRAME);
    }

    canvas.draw_with(path, |area| {
        let cell = layout.cell as i32;
        let side = layout.side as i32;
        let (grid_x, grid_y) = (layout.grid_x as i32, layout.grid_y as i32);
        let centre = |k: usize| cell * k as i32 + cell / 2;
        let title_at = (layout.width as i32 / 2, TITLE_BAND as i32 / 2);
        draw_text(
            area,
            title,
            TITLE_SIZE,
            INK,
            title_at,
            HPos::Center,
            Direction::Across,
        )?;

        if let Some(size) = layout.count_size {
            for (i, row) in matrix.iter().enumerate() {
                for (j, &count) in row.iter().enumerate() {
                    let [r, g, b] = text_colour(cell_colour(count, max));
                    let at = (grid_x + centre(j), grid_y + centre(i));
                    let text = count.to_string();
                    draw_text(
                        area,
                        &text,
                        size,
                        RGBColor(r, g, b),
                        at,
                        HPos::Center,
                        Direction::Across,
                    )?;
                }
            }
        }

        let names_right = grid_x - GAP as i32;
        let below = grid_y + side + GAP as i32;
        for (k, name) in names.iter().enumerate() {
            let row_at = (names_right, grid_y + centre(k));
            draw_text(
                area,
                name,
                layout.name_size,
                INK,
                row_at,
                HPos::Right,
                Direction::Across,
            )?;
            if layout.columns_upright {
                let at = (grid_x + centre(k), below);
                draw_text(
                    area,
                    name,
                    layout.name_size,
                    INK,
                    at,
                    HPos::Right,
                    Direction::Up,
                )?;
            } else {
                let at = (grid_x + centre(k), below + layout.name_size as i32 / 2);
                draw_text(
                    area,
                    name,
                    layout.name_size,
                    INK,
                    at,
                    HPos::Center,
                    Direction::Across,
                )?;
            }
        }

        let grid_middle = grid_x + side / 2;
        let predicted_at = (grid_middle, layout.axis_title_y as i32);
        draw_text(
            area,
            "predicted class",
            AXIS_SIZE,
            INK,
            predicted_at,
            HPos::Center,
            Direction::Across,
        )?;
        let true_at = ((PAD as f64 + AXIS_SIZE / 2.0) as i32, grid_y + side / 2);
        draw_text(
            area,
            "true class",
            AXIS_SIZE,
            INK,
            true_at,
            HPos::Center,
            Direction::Up,
        )?;

        let tick_x = (layout.bar_x + BAR_WIDTH + 7) as i32;
        for (value, y) in layout.ticks(max) {
            let text = value.to_string();
            draw_text(
                area,
                &text,
                TICK_SIZE,
                INK,
                (tick_x, y as i32),
                HPos::Left,
                Direction::Across,
            )?;
        }
        Ok(())
    })?;
    canvas.save_png(path)
}

/// Where everything in the heatmap picture goes, in pixels.
struct Layout {
    /// Side of one cell.
    cell: u32,
    /// Side of the whole grid.
    side: u32,
    /// Left edge of the grid.
    grid_x: u32,
    /// Top edge of the grid.
    grid_y: u32,
    /// Left edge of the colour bar.
    bar_x: u32,
    /// Font size of the counts, or `None` when cells are too small for them.
    count_size: Option<f64>,
    /// Font size of the class names.
    name_size: f64,
    /// Whether column names are drawn vertically (reading upwards) because they are wider
    /// than a cell.
    columns_upright: bool,
    /// Middle of the "predicted class" axis title.
    axis_title_y: u32,
    /// Width of the picture.
    width: u32,
    /// Height of the picture.
    height: u32,
}

impl Layout {
    /// Lays out a heatmap for `names` whose largest count is `max`, measuring the text.
    fn new(names: &[&str], max: usize, title: &str) -> Result<Self> {
        let n = names.len() as u32;
        let cell = (560 / n).clamp(14, 72);
        let name_size = NAME_SIZE.min(0.8 * f64::from(cell)).max(9.0);
        let mut widest_name = 0;
        for name in names {
            widest_name = widest_name.max(text_width(name, name_size)?);
        }

        // A digit of DejaVu Sans is 0.64 of the font size wide: the counts take at most 30% of
        // the cell's height and 85% of its width, and are left out below 8 pixels.
        let digits = max.to_string().len() as f64;
        let count_size = (0.3 * f64::from(cell)).min(0.85 * f64::from(cell) / (0.64 * digits));
        let count_size = (count_size >= 8.0).then_some(count_size.floor());

        let columns_upright = widest_name + 6 > cell;
        let column_labels = if columns_upright {
            widest_name
        } else {
            name_size.ceil() as u32
        };

        let axis = AXIS_SIZE.ceil() as u32;
        let grid_x = PAD + axis + GAP + widest_name + GAP;
        let grid_y = TITLE_BAND;
        let side = n * cell;
        let bar_x = grid_x + side + BAR_GAP;
        let widest_tick = text_width(&max.to_string(), TICK_SIZE)?;
        let width = (bar_x + BAR_WIDTH + 7 + widest_tick + PAD)
            .max(text_width(title, TITLE_SIZE)? + 2 * PAD);
        let axis_title_y = grid_y + side + GAP + column_labels + 2 * GAP + axis / 2;
        let height = axis_title_y + axis / 2 + PAD;
        Ok(Self {
            cell,
            side,
            grid_x,
            grid_y,
            bar_x,
            count_size,
            name_size,
            columns_upright,
            axis_title_y,
            width,
            height,
        })
    }

    /// The labelled values of the colour bar (zero, the middle and the largest count, without
    /// repeats) and the row of each.
    fn ticks(&self, max: usize) -> Vec<(usize, u32)> {
        let bottom = self.grid_y + self.side - 1;
        let mut values = vec![0, max / 2, max];
        values.dedup();
        values
            .into_iter()
            .map(|v| {
                let t = if max == 0 { 0.0 } else { v as f64 / max as f64 };
                (v, bottom - (t * f64::from(self.side - 1)).round() as u32)
            })
            .collect()
    }
}

/// The colour of a cell holding `count` when the largest count is `max`.
fn cell_colour(count: usize, max: usize) -> [u8; 3] {
    if max == 0 {
        ramp(0.0)
    } else {
        ramp(count as f64 / max as f64)
    }
}

/// The heatmap colour at `t` in `[0, 1]`, interpolated linearly between the stops of [`RAMP`].
fn ramp(t: f64) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0) * (RAMP.len() - 1) as f64;
    let low = (t.floor() as usize).min(RAMP.len() - 2);
    let frac = t - low as f64;
    let (a, b) = (RAMP[low], RAMP[low + 1]);
    [0, 1, 2].map(|c| (a[c] + frac * (b[c] - a[c])).round() as u8)
}

/// Black-ish or white text, whichever contrasts with `background` (by its relative luminance).
fn text_colour(background: [u8; 3]) -> [u8; 3] {
    let [r, g, b] = background.map(f64::from);
    let luminance = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255.0;
    if luminance < 0.5 {
        [255, 255, 255]
    } else {
        [30, 30, 30]
    }
}

/// Draws a one-pixel frame just outside the rectangle at `(x, y)` of size `w` x `h`.
fn frame(canvas: &mut Canvas, x: u32, y: u32, w: u32, h: u32) {
    canvas.fill(x - 1, y - 1, w + 2, 1, FRAME);
    canvas.fill(x - 1, y + h, w + 2, 1, FRAME);
    canvas.fill(x - 1, y, 1, h, FRAME);
    canvas.fill(x + w, y, 1, h, FRAME);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::test_util::TempPng;

    fn pets() -> (Vec<Vec<usize>>, Vec<String>) {
        let matrix = vec![vec![5, 1, 0], vec![0, 7, 2], vec![1, 0, 19]];
        let names = ["cat", "dog", "bird"].map(String::from).to_vec();
        (matrix, names)
    }

    #[test]
    fn text_table_is_aligned() {
        let (matrix, names) = pets();
        let table = format_confusion_matrix(&matrix, &names).expect("square");
        assert_eq!(
            table,
            "true \\ predicted  cat  dog  bird\n\
             cat                 5    1     0\n\
             dog                 0    7     2\n\
             bird                1    0    19\n"
        );
    }

    #[test]
    fn text_table_widens_columns_for_long_counts_and_names() {
        let matrix = vec![vec![12345, 0], vec![3, 4]];
        let table =
            format_confusion_matrix(&matrix, &["a", "a very long class name"]).expect("square");
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "true \\ predicted            a  a very long class name"
        );
        assert_eq!(
            lines[1],
            "a                       12345                       0"
        );
        assert_eq!(
            lines[2],
            "a very long class name      3                       4"
        );
    }

    #[test]
    fn shape_errors_name_both_sizes() {
        let (matrix, names) = pets();
        let err = format_confusion_matrix(&matrix[..2], &names).expect_err("two rows");
        assert_eq!(
            err.to_string(),
            "invalid data: the confusion matrix has 2 rows but there are 3 class names"
        );
        let mut ragged = matrix.clone();
        ragged[1].pop();
        let never = TempPng::new("never");
        let err = plot_confusion_matrix(never.path(), &ragged, &names, "").expect_err("ragged");
        assert_eq!(
            err.to_string(),
            "invalid data: row 1 of the confusion matrix has 2 columns but there are 3 class names"
        );
        let none: [&str; 0] = [];
        assert!(matches!(
            plot_confusion_matrix(never.path(), &[], &none, ""),
            Err(Error::InvalidData(_))
        ));
        assert!(!never.path().exists());
    }

    #[test]
    fn heatmap_shades_cells_by_count_and_writes_counts() {
        let (matrix, names) = pets();
        let png = TempPng::new("confusion");
        plot_confusion_matrix(png.path(), &matrix, &names, "pets").expect("plot");
        let picture = png.read();
        let layout = Layout::new(&["cat", "dog", "bird"], 19, "pets").expect("layout");
        assert_eq!(picture.dimensions(), (layout.width, layout.height));
        // A cell's corner, clear of its count.
        let corner = |i: u32, j: u32| {
            let x = layout.grid_x + j * layout.cell + 2;
            let y = layout.grid_y + i * layout.cell + 2;
            picture.get_pixel(x, y).0
        };
        assert_eq!(corner(2, 2), ramp(1.0));
        assert_eq!(corner(0, 2), ramp(0.0));
        assert_ne!(corner(2, 2), corner(0, 2));
        assert_eq!(corner(1, 1), cell_colour(7, 19));
        // The darkest cell carries its count in white.
        let (x0, y0) = (
            layout.grid_x + 2 * layout.cell,
            layout.grid_y + 2 * layout.cell,
        );
        let white_text = (x0..x0 + layout.cell)
            .flat_map(|x| (y0..y0 + layout.cell).map(move |y| (x, y)))
            .filter(|&(x, y)| picture.get_pixel(x, y).0 == [255, 255, 255])
            .count();
        assert!(
            white_text > 10,
            "{white_text} white pixels in the darkest cell"
        );
        assert!(layout.count_size.is_some());
        assert!(!layout.columns_upright);
    }

    #[test]
    fn long_names_turn_upright_and_many_classes_drop_counts() {
        let long: Vec<String> = [
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ]
        .map(String::from)
        .to_vec();
        let matrix: Vec<Vec<usize>> = (0..10)
            .map(|i| {
                (0..10)
                    .map(|j| if i == j { 900 } else { (i * 7 + j * 3) % 20 })
                    .collect()
            })
            .collect();
        let png = TempPng::new("confusion-cifar");
        plot_confusion_matrix(png.path(), &matrix, &long, "CIFAR-10").expect("plot");
        let names: Vec<&str> = long.iter().map(String::as_str).collect();
        let layout = Layout::new(&names, 900, "CIFAR-10").expect("layout");
        assert!(layout.columns_upright);
        assert_eq!(png.read().dimensions(), (layout.width, layout.height));

        let many: Vec<String> = (0..100).map(|k| format!("c{k}")).collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        let layout = Layout::new(&names, 50, "CIFAR-100").expect("layout");
        assert_eq!(layout.cell, 14);
        assert_eq!(layout.count_size, None);
    }

    #[test]
    fn ramp_runs_from_pale_to_navy_and_text_contrasts() {
        assert_eq!(ramp(0.0), [247, 251, 255]);
        assert_eq!(ramp(0.5), [107, 174, 214]);
        assert_eq!(ramp(1.0), [8, 48, 107]);
        assert_eq!(text_colour(ramp(0.0)), [30, 30, 30]);
        assert_eq!(text_colour(ramp(1.0)), [255, 255, 255]);
        assert_eq!(cell_colour(3, 0), ramp(0.0));
    }
}
