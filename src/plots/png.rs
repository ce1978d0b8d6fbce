//! One chart as PNG: the SVG of [`super::svg::chart`], rasterised by resvg
//! (tiny-skia) at twice its size, so it stays sharp on high-density screens
//! and in a pull-request comment.
//!
//! Text needs a font: the system's fonts are loaded (on Debian,
//! `fonts-dejavu-core`). Without any, the curves are still drawn but the
//! labels are not, and [`Png::fonts`] says so.

use crate::error::{Error, PlotError, Result};

/// How much larger than the SVG's size the PNG is.
pub const SCALE: f32 = 2.0;

/// A rendered PNG.
#[derive(Debug)]
pub struct Png {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// How many font faces were found for the text (0: no labels).
    pub fonts: usize,
}

/// Rasterise an SVG document to PNG, `SCALE` times its size.
pub fn render(svg: &str) -> Result<Png> {
    use resvg::{tiny_skia, usvg};
    let refused = |reason: String| Error::Plot(PlotError::Render { reason });
    let mut opt = usvg::Options::default();
    opt.fontdb_mut().load_system_fonts();
    let fonts = opt.fontdb.len();
    let tree = usvg::Tree::from_str(svg, &opt)
        .map_err(|e| refused(format!("cannot read the chart's SVG: {e}")))?;
    let size = tree.size().to_int_size();
    let (width, height) = (
        (size.width() as f32 * SCALE).ceil() as u32,
        (size.height() as f32 * SCALE).ceil() as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| refused(format!("cannot make a {width}x{height} image")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(SCALE, SCALE),
        &mut pixmap.as_mut(),
    );
    let bytes = pixmap
        .encode_png()
        .map_err(|e| refused(format!("cannot encode the PNG: {e}")))?;
    Ok(Png {
        bytes,
        width,
        height,
        fonts,
    })
}
