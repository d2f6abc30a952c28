//! Training curves as SVG: loss (training and validation) and the validation score per
//! epoch (accuracy, or R² for a regression).

use std::path::Path;

use plotters::prelude::*;

use crate::trainer::EpochReport;

/// Draws the curves of `history` into an SVG file at `path`.
pub fn write_curves(path: &Path, history: &[EpochReport]) -> Result<(), String> {
    if history.is_empty() {
        return Err("no epochs to plot".into());
    }
    let root = SVGBackend::new(path, (900, 400)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(450);
    let epochs = history.len() as f32;
    let losses: Vec<(f32, f32)> = history.iter().map(|r| (r.epoch as f32, r.train_loss)).collect();
    let validation: Vec<(f32, f32)> =
        history.iter().filter_map(|r| r.validation.map(|v| (r.epoch as f32, v.loss))).collect();
    let top = losses.iter().chain(&validation).map(|p| p.1).filter(|v| v.is_finite()).fold(0.0f32, f32::max) * 1.1;
    let mut chart = ChartBuilder::on(&left)
        .caption("loss", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(1f32..epochs.max(2.0), 0f32..top.max(1e-6))
        .map_err(|e| e.to_string())?;
    chart.configure_mesh().x_desc("epoch").draw().map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(losses, &BLUE))
        .map_err(|e| e.to_string())?
        .label("training")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    if !validation.is_empty() {
        chart
            .draw_series(LineSeries::new(validation, &RED))
            .map_err(|e| e.to_string())?
            .label("validation")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    }
    chart.configure_series_labels().border_style(BLACK).draw().map_err(|e| e.to_string())?;

    // Accuracy for classes and multi-label targets, R² for values.
    let regression = history.iter().any(|r| r.validation.is_some_and(|v| v.r2.is_some()));
    let score = |r: &EpochReport| r.validation.and_then(|v| if regression { v.r2 } else { v.accuracy });
    let accuracy: Vec<(f32, f32)> =
        history.iter().filter_map(|r| score(r).map(|a| (r.epoch as f32, 100.0 * a))).collect();
    let caption = if regression { "validation R² (%)" } else { "validation accuracy (%)" };
    let mut chart = ChartBuilder::on(&right)
        .caption(caption, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(1f32..epochs.max(2.0), 0f32..100f32)
        .map_err(|e| e.to_string())?;
    chart.configure_mesh().x_desc("epoch").draw().map_err(|e| e.to_string())?;
    chart.draw_series(LineSeries::new(accuracy, &GREEN)).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}
