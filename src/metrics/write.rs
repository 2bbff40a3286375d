//! One call per metric family: its name, help and samples, written through the
//! `prometheus-client` encoder (which adds the `pilotwatch_` prefix, the `_total` of a
//! counter, and escapes label values).

use std::fmt;

use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeLabelSet, NoLabelSet,
};
use prometheus_client::metrics::MetricType;

/// The label set of a sample that has none.
pub const NONE: [(&str, &str); 0] = [];

pub fn counter<L: EncodeLabelSet, V: EncodeCounterValue>(
    out: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, V)>,
) -> fmt::Result {
    let mut family = out.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in samples {
        family
            .encode_family(&labels)?
            .encode_counter::<NoLabelSet, V, u64>(&v, None)?;
    }
    Ok(())
}

pub fn gauge<L: EncodeLabelSet, V: EncodeGaugeValue>(
    out: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, V)>,
) -> fmt::Result {
    let mut family = out.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in samples {
        family.encode_family(&labels)?.encode_gauge(&v)?;
    }
    Ok(())
}

/// Samples are `(labels, sum, count, buckets)`, each bucket `(upper bound, observations
/// in it)`: the encoder makes them cumulative.
pub fn histogram<L: EncodeLabelSet>(
    out: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, f64, u64, Vec<(f64, u64)>)>,
) -> fmt::Result {
    let mut family = out.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for (labels, sum, count, buckets) in samples {
        family
            .encode_family(&labels)?
            .encode_histogram::<NoLabelSet>(sum, count, &buckets, None)?;
    }
    Ok(())
}

/// `<name>_info{labels} 1`.
pub fn info(
    out: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    labels: impl EncodeLabelSet,
) -> fmt::Result {
    out.encode_descriptor(name, help, None, MetricType::Info)?
        .encode_info(&labels)
}
