//! Losses on the output rows of a batch. The outputs may be split into equal groups that are
//! independent models (ParallelMLPs): each group has its own loss against the same targets and
//! the total is their sum, so gradients never mix across groups.

use std::str::FromStr;

use crate::error::{invalid, Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Mean squared error over the batch and the outputs of a group.
    Mse,
    /// Softmax over the outputs of a group, then the mean negative log-likelihood.
    CrossEntropy,
}

impl FromStr for Loss {
    type Err = Error;
    fn from_str(name: &str) -> Result<Self> {
        match name {
            "mse" => Ok(Loss::Mse),
            "cross_entropy" => Ok(Loss::CrossEntropy),
            _ => invalid(format!(
                "unknown loss {name:?}; choose \"mse\" or \"cross_entropy\""
            )),
        }
    }
}

/// Targets of the whole data set; rows are picked by sample index.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    /// Row-major `samples x width` values (for `Mse`).
    Values { values: &'a [f32], width: usize },
    /// One class per sample (for `CrossEntropy`), each below the group width.
    Labels(&'a [u32]),
}

impl Targets<'_> {
    pub fn num_samples(&self) -> usize {
        match self {
            Targets::Values { values, width } => values.len() / (*width).max(1),
            Targets::Labels(labels) => labels.len(),
        }
    }
}

/// Sums over the samples seen: per group, the loss summed over samples (each sample's loss
/// being its mean over the group's outputs for MSE) and the number of correct argmax
/// predictions (cross-entropy only).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub loss_sum: Vec<f64>,
    pub correct: Vec<u64>,
    pub samples: u64,
}

impl Stats {
    pub fn new(groups: usize) -> Stats {
        Stats {
            loss_sum: vec![0.0; groups],
            correct: vec![0; groups],
            samples: 0,
        }
    }

    pub fn add(&mut self, other: &Stats) {
        for (a, b) in self.loss_sum.iter_mut().zip(&other.loss_sum) {
            *a += b;
        }
        for (a, b) in self.correct.iter_mut().zip(&other.correct) {
            *a += b;
        }
        self.samples += other.samples;
    }
}

/// Checks that targets fit the loss and the outputs.
pub fn check_targets(loss: Loss, targets: &Targets, outputs: usize, groups: usize) -> Result<()> {
    if groups == 0 || !outputs.is_multiple_of(groups) {
        return invalid(format!(
            "{outputs} outputs cannot be split into {groups} equal groups"
        ));
    }
    let width = outputs / groups;
    match (loss, targets) {
        (Loss::Mse, Targets::Values { width: w, .. }) => {
            if *w != width {
                return invalid(format!(
                    "y has {w} columns but the network has {width} outputs per model"
                ));
            }
        }
        (Loss::CrossEntropy, Targets::Labels(labels)) => {
            if let Some((i, &c)) = labels
                .iter()
                .enumerate()
                .find(|&(_, &c)| c as usize >= width)
            {
                return invalid(format!(
                    "y[{i}] = {c} is not a class of this network: with {width} outputs the labels \
                     must lie in 0..{width}"
                ));
            }
            if width < 2 {
                return invalid("cross_entropy needs at least two outputs (one per class)");
            }
        }
        (Loss::Mse, Targets::Labels(_)) => return invalid("the mse loss needs float targets"),
        (Loss::CrossEntropy, Targets::Values { .. }) => {
            return invalid("the cross_entropy loss needs integer class labels")
        }
    }
    Ok(())
}

/// Adds the loss of one batch to `stats` and, when `grad` is given, writes dL/da into the grad
/// rows of the outputs (`grad` and `act` are neuron-major with row length `batch`). The loss of
/// a group is its mean over the batch; the total loss is the sum over groups.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_batch(
    loss: Loss,
    act: &[f32],
    mut grad: Option<&mut [f32]>,
    outputs: &[u32],
    groups: usize,
    batch: usize,
    samples: &[u32],
    targets: &Targets,
    stats: &mut Stats,
) {
    let width = outputs.len() / groups;
    let mut logits = vec![0.0f64; width];
    for (b, &s) in samples.iter().enumerate() {
        let s = s as usize;
        for g in 0..groups {
            let group = &outputs[g * width..(g + 1) * width];
            for (o, &node) in group.iter().enumerate() {
                logits[o] = act[node as usize * batch + b] as f64;
            }
            match (loss, targets) {
                (Loss::Mse, Targets::Values { values, .. }) => {
                    let target = &values[s * width..(s + 1) * width];
                    let mut sum = 0.0;
                    for o in 0..width {
                        let diff = logits[o] - target[o] as f64;
                        sum += diff * diff;
                        if let Some(grad) = grad.as_deref_mut() {
                            let scale = 2.0 / (batch * width) as f64;
                            grad[group[o] as usize * batch + b] += (scale * diff) as f32;
                        }
                    }
                    stats.loss_sum[g] += sum / width as f64;
                }
                (Loss::CrossEntropy, Targets::Labels(labels)) => {
                    let label = labels[s] as usize;
                    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let total: f64 = logits.iter().map(|&l| (l - max).exp()).sum();
                    let log_total = total.ln() + max;
                    stats.loss_sum[g] += log_total - logits[label];
                    let argmax = (0..width)
                        .max_by(|&i, &j| logits[i].total_cmp(&logits[j]).then(j.cmp(&i)))
                        .unwrap_or(0);
                    stats.correct[g] += u64::from(argmax == label);
                    if let Some(grad) = grad.as_deref_mut() {
                        for o in 0..width {
                            let p = (logits[o] - log_total).exp();
                            let d = p - f64::from(u8::from(o == label));
                            grad[group[o] as usize * batch + b] += (d / batch as f64) as f32;
                        }
                    }
                }
                _ => unreachable!("targets checked by check_targets"),
            }
        }
    }
    stats.samples += samples.len() as u64;
}
