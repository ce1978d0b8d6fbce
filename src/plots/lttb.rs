//! Downsampling a curve for drawing: Largest-Triangle-Three-Buckets (LTTB,
//! Sveinn Steinarsson, "Downsampling Time Series for Visual
//! Representation", 2013), plus the curve's extremes.
//!
//! A chart is a few hundred pixels wide, so 20,000 steps of a loss curve
//! are mostly ink on top of ink. Keeping every n-th point would lose spikes
//! and could drop the last step; LTTB instead cuts the points between the
//! first and the last into buckets and keeps, in each, the point that forms
//! the largest triangle with the point kept before it and the average of
//! the next bucket. That keeps what the eye sees: turns, spikes and
//! plateaus.
//!
//! On top of LTTB, [`downsample`] guarantees what a reader checks first:
//! - the first and the last point are always kept (never the tail dropped);
//! - the smallest and the largest value are kept (the best loss, the spike);
//! - the result has at most `max` points, in their original order, and
//!   every one of them is an input point.

/// Indices of the points to keep, ascending: at most `max` of them (`max`
/// counts as 4 when it is lower: first, last, lowest and highest), always
/// the first and the last, and the lowest and highest `y`. Points must be
/// finite and in `x` order; with `max >= len` every index is returned.
pub fn downsample(points: &[(f64, f64)], max: usize) -> Vec<usize> {
    let max = max.max(4);
    let n = points.len();
    if n <= max {
        return (0..n).collect();
    }
    // Two slots may be needed for the extremes; LTTB gets the rest (at
    // least first and last).
    let mut keep = lttb(points, max.saturating_sub(2).max(2));
    for extreme in [argmin(points), argmax(points)] {
        if let Err(at) = keep.binary_search(&extreme) {
            keep.insert(at, extreme);
        }
    }
    keep
}

/// Plain LTTB: indices of `threshold` points (first and last included),
/// or all of them when there are no more than `threshold`.
pub fn lttb(points: &[(f64, f64)], threshold: usize) -> Vec<usize> {
    let n = points.len();
    if threshold >= n || threshold < 3 {
        if threshold >= n {
            return (0..n).collect();
        }
        // 2 (or fewer) points: the ends.
        return match n {
            0 => vec![],
            1 => vec![0],
            _ => vec![0, n - 1],
        };
    }
    let mut keep = Vec::with_capacity(threshold);
    keep.push(0);
    // Buckets over points[1..n-1], `threshold - 2` of them.
    let every = (n - 2) as f64 / (threshold - 2) as f64;
    let mut a = 0usize;
    for i in 0..threshold - 2 {
        let start = (i as f64 * every) as usize + 1;
        let end = (((i + 1) as f64 * every) as usize + 1).min(n - 1);
        // Average of the next bucket (the last point for the last bucket).
        let next_start = end;
        let next_end = ((((i + 2) as f64) * every) as usize + 1).min(n);
        let (avg_x, avg_y) = if i + 1 < threshold - 2 && next_end > next_start {
            let slice = &points[next_start..next_end];
            let len = slice.len() as f64;
            let (sx, sy) = slice
                .iter()
                .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
            (sx / len, sy / len)
        } else {
            points[n - 1]
        };
        let (ax, ay) = points[a];
        let mut best = start;
        let mut best_area = -1.0;
        for (j, &(x, y)) in points
            .iter()
            .enumerate()
            .take(end.max(start + 1))
            .skip(start)
        {
            let area = ((ax - avg_x) * (y - ay) - (ax - x) * (avg_y - ay)).abs();
            if area > best_area {
                best_area = area;
                best = j;
            }
        }
        keep.push(best);
        a = best;
    }
    keep.push(n - 1);
    keep
}

fn argmin(points: &[(f64, f64)]) -> usize {
    let mut best = 0;
    for (i, p) in points.iter().enumerate() {
        if p.1 < points[best].1 {
            best = i;
        }
    }
    best
}

fn argmax(points: &[(f64, f64)]) -> usize {
    let mut best = 0;
    for (i, p) in points.iter().enumerate() {
        if p.1 > points[best].1 {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn curve(n: usize) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| (i as f64, 2.0 * (-(i as f64) / 3000.0).exp() + 0.1))
            .collect()
    }

    #[test]
    fn short_series_are_kept_whole() {
        assert_eq!(downsample(&[], 10), Vec::<usize>::new());
        assert_eq!(downsample(&[(0.0, 1.0)], 10), vec![0]);
        assert_eq!(downsample(&curve(10), 10), (0..10).collect::<Vec<_>>());
        assert_eq!(downsample(&curve(2), 0), vec![0, 1]);
        assert_eq!(downsample(&curve(9), 0), vec![0, 8]);
    }

    #[test]
    fn a_long_curve_keeps_its_ends_and_is_bounded() {
        let pts = curve(20_000);
        let keep = downsample(&pts, 1000);
        assert!(keep.len() <= 1000 && keep.len() >= 990, "{}", keep.len());
        assert_eq!(keep[0], 0);
        assert_eq!(*keep.last().unwrap(), 19_999);
    }

    #[test]
    fn a_single_spike_survives() {
        // Flat at 1.0 with one spike at step 12,345 and one dip at 7,777.
        let mut pts: Vec<(f64, f64)> = (0..20_000).map(|i| (i as f64, 1.0)).collect();
        pts[12_345].1 = 50.0;
        pts[7_777].1 = -3.0;
        let keep = downsample(&pts, 100);
        assert!(keep.contains(&12_345) && keep.contains(&7_777), "{keep:?}");
    }

    #[test]
    fn the_shape_of_a_wave_is_kept() {
        // 5 periods of a sine over 20,000 steps, down to 200 points: drawn
        // as straight lines between the points kept, the curve stays
        // within 2% of its amplitude everywhere.
        let pts: Vec<(f64, f64)> = (0..20_000)
            .map(|i| {
                (
                    i as f64,
                    (i as f64 * std::f64::consts::TAU * 5.0 / 20_000.0).sin(),
                )
            })
            .collect();
        let keep = downsample(&pts, 200);
        let mut worst: f64 = 0.0;
        for w in keep.windows(2) {
            let ((x0, y0), (x1, y1)) = (pts[w[0]], pts[w[1]]);
            for &(x, y) in &pts[w[0]..=w[1]] {
                let line = y0 + (y1 - y0) * (x - x0) / (x1 - x0);
                worst = worst.max((line - y).abs());
            }
        }
        assert!(worst < 0.02, "{worst}");
    }

    proptest! {
        #[test]
        fn downsample_invariants(
            ys in proptest::collection::vec(-1e6f64..1e6, 0..600),
            max in 0usize..80,
        ) {
            let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, y)| (i as f64 * 1.5, *y)).collect();
            let keep = downsample(&pts, max);
            let n = pts.len();
            // Bounded, ordered, unique, in range.
            prop_assert!(keep.len() <= n.min(max.max(4)));
            prop_assert!(keep.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(keep.iter().all(|&i| i < n));
            if n > 0 {
                // First and last always kept.
                prop_assert_eq!(keep[0], 0);
                prop_assert_eq!(*keep.last().unwrap(), n - 1);
                // Extremes kept: same min and max as the input.
                let lo = ys.iter().cloned().fold(f64::INFINITY, f64::min);
                let hi = ys.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let klo = keep.iter().map(|&i| pts[i].1).fold(f64::INFINITY, f64::min);
                let khi = keep.iter().map(|&i| pts[i].1).fold(f64::NEG_INFINITY, f64::max);
                prop_assert_eq!(lo, klo);
                prop_assert_eq!(hi, khi);
            }
            if n > 2 && max >= 4 {
                // It does not collapse: it uses its budget.
                prop_assert!(keep.len() >= n.min(max - 2).min(n));
            }
        }

        #[test]
        fn lttb_keeps_exactly_threshold_points(
            n in 3usize..2000,
            threshold in 3usize..200,
        ) {
            let pts: Vec<(f64, f64)> = (0..n).map(|i| (i as f64, ((i * 7919) % 101) as f64)).collect();
            let keep = lttb(&pts, threshold);
            prop_assert_eq!(keep.len(), threshold.min(n));
            prop_assert!(keep.windows(2).all(|w| w[0] < w[1]));
            prop_assert_eq!(keep[0], 0);
            prop_assert_eq!(*keep.last().unwrap(), n - 1);
        }

        #[test]
        fn a_monotone_curve_stays_monotone(n in 2usize..3000, max in 2usize..100) {
            let pts = curve(n);
            let keep = downsample(&pts, max);
            prop_assert!(keep.windows(2).all(|w| pts[w[0]].1 >= pts[w[1]].1));
        }
    }
}
