//! The crate's test: the C example's label counts, an error path, a cancelled run and
//! the ABI layout. Environment from ctest: SWU_TEST_WEIGHTS (golden net_f12),
//! SWU_TEST_CT (the phantom), SWU_TEST_LABELS (the C example's output for it).
use std::collections::HashSet;
use std::ops::ControlFlow;

use swinunetr::{Geometry, InferParams, Model, ModelParams, Stage, Status, Volume};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set (run this test through ctest)"))
}

fn model() -> Model {
    let m = Model::new(&ModelParams { threads: 2, ..Default::default() }).unwrap();
    m.load_weights(env("SWU_TEST_WEIGHTS")).unwrap();
    m
}

fn counts(labels: impl Iterator<Item = usize>) -> Vec<u64> {
    let mut c = vec![0u64; 14];
    labels.for_each(|l| c[l] += 1);
    c
}

#[test]
fn abi_matches_the_library() {
    swinunetr::ensure_compatible().unwrap();
    assert_eq!(swinunetr::abi::layout_mismatches(true), Vec::<String>::new());
}

#[test]
fn segmentation_matches_the_c_example() {
    swinunetr::load_backends(None).unwrap();
    let names: Vec<String> = swinunetr::backends().unwrap().into_iter().filter(|b| b.loaded).map(|b| b.name).collect();
    println!("swinunetr {}, backends {names:?}", swinunetr::version());
    // A uint8 label file reads back as uint8.
    let expected = counts(Volume::read(env("SWU_TEST_LABELS")).unwrap().voxels::<u8>().unwrap().iter().map(|&l| l as usize));

    let model = model();
    assert_eq!(model.info().unwrap().feature_size, 12);
    let ct = Volume::read(env("SWU_TEST_CT")).unwrap();
    // The CT as int16 HU in our own buffer, borrowed (not copied) by the wrapped volume.
    let hu: Vec<i16> = ct.voxels::<f32>().unwrap().iter().map(|&v| v as i16).collect();
    let wrapped = Volume::wrap(&hu, ct.size(), &ct.geometry()).unwrap();
    assert_eq!(wrapped.voxels::<i16>().unwrap().as_ptr(), hu.as_ptr());
    let mut stages = HashSet::new();
    let labels = model
        .segment_with_progress(&wrapped, &InferParams::default(), |stage, _, _| {
            stages.insert(stage);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(stages.len(), 3);
    assert_eq!(labels.size(), ct.size());
    let got = counts(labels.voxels::<u8>().unwrap().iter().map(|&l| l as usize));
    println!("label counts {got:?}");
    assert_eq!(got, expected, "Rust counts differ from the C example's");
    assert!(got.iter().filter(|&&c| c > 0).count() > 1);

    let (labels2, probabilities) = model.segment_with_probabilities(&wrapped, &InferParams::default()).unwrap();
    assert_eq!(probabilities.channels(), 14);
    assert_eq!(labels2.channels(), 1);
    let p = probabilities.voxels::<f32>().unwrap();
    let l = labels2.voxels::<u8>().unwrap();
    let n = l.len();
    assert_eq!(p.len(), 14 * n);
    for v in 0..n {
        let (mut best, mut sum) = (0usize, 0f64);
        for c in 0..14 {
            sum += p[c * n + v] as f64;
            if p[c * n + v] > p[best * n + v] {
                best = c;
            }
        }
        assert!((sum - 1.0).abs() < 1e-5, "probabilities at voxel {v} sum to {sum}");
        assert_eq!(best, l[v] as usize, "the label at voxel {v} is not the argmax");
    }
}

#[test]
fn forward_gives_finite_logits() {
    let model = model();
    let x: Vec<f32> = (0..32 * 32 * 32).map(|i| (i % 97) as f32 / 97.0).collect();
    let y = model.forward(&x, [1, 1, 32, 32, 32]).unwrap();
    assert_eq!(y.len(), 14 * 32 * 32 * 32);
    assert!(y.iter().all(|v| v.is_finite()));
    let mut small = vec![0f32; 10];
    assert_eq!(model.forward_into(&x, [1, 1, 32, 32, 32], &mut small).unwrap_err().status, Status::BufferTooSmall);
}

#[test]
fn errors_carry_status_and_message() {
    let e = Volume::read("/nonexistent/ct.nii.gz").err().unwrap();
    assert_eq!(e.status, Status::Io);
    assert!(e.message.contains("/nonexistent/ct.nii.gz") && e.message.contains("does not exist"), "{e}");
    let e = Model::new(&ModelParams { backend: "no-such-backend".into(), ..Default::default() }).err().unwrap();
    assert_eq!(e.status, Status::Backend);
    assert!(e.message.contains("no-such-backend"), "{e}");
    let e = Volume::wrap(&[0i16; 7], [2, 2, 2], &Geometry::default()).err().unwrap();
    assert_eq!(e.status, Status::InvalidArgument);
}

#[test]
fn progress_closure_cancels() {
    let model = model();
    let hu: Vec<i16> = (0..40 * 30 * 20).map(|i| ((i * 37) % 400 - 100) as i16).collect();
    let image = Volume::wrap(&hu, [40, 30, 20], &Geometry { spacing: [3.0; 3], ..Default::default() }).unwrap();
    let mut last = None;
    let e = model
        .segment_with_progress(&image, &InferParams::default(), |stage, _, _| {
            last = Some(stage);
            if stage == Stage::Network {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .err()
        .unwrap();
    assert_eq!(e.status, Status::Cancelled);
    assert!(e.message.contains("cancelled"));
    assert_eq!(last, Some(Stage::Network));
    // A panic in the closure cancels the run and comes out of the call unchanged.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = model.segment_with_progress(&image, &InferParams::default(), |_, _, _| panic!("stop here"));
    }));
    assert_eq!(*caught.unwrap_err().downcast::<&str>().unwrap(), "stop here");
}
