//! `AlignedBuffer`: every way of making one starts it on a 64-byte boundary, with the length
//! and contents asked for.

use embergrad::AlignedBuffer;
use proptest::prelude::*;

fn on_cache_line(buffer: &AlignedBuffer) -> bool {
    (buffer.as_ptr() as usize).is_multiple_of(64)
}

proptest! {
    #[test]
    fn starts_on_a_cache_line_with_the_contents_asked_for(
        values in prop::collection::vec(-1e3f32..1e3, 0..200),
        grow_to in 0usize..400,
    ) {
        let zeroed = AlignedBuffer::zeroed(values.len());
        prop_assert!(on_cache_line(&zeroed));
        prop_assert_eq!(zeroed.len(), values.len());
        prop_assert!(zeroed.iter().all(|&v| v == 0.0));

        let copied = AlignedBuffer::from_slice(&values);
        prop_assert!(on_cache_line(&copied));
        prop_assert_eq!(&copied[..], &values[..]);

        let cloned = copied.clone();
        prop_assert!(on_cache_line(&cloned));
        prop_assert_eq!(&cloned, &copied);

        // Growing replaces the buffer with zeros; a length it already has keeps it as it is.
        let mut grown = copied.clone();
        grown.ensure_len(grow_to);
        prop_assert!(on_cache_line(&grown));
        if grow_to > values.len() {
            prop_assert_eq!(grown.len(), grow_to);
            prop_assert!(grown.iter().all(|&v| v == 0.0));
        } else {
            prop_assert_eq!(&grown[..], &values[..]);
        }
    }
}

#[test]
fn writes_through_the_slice_stay() {
    let mut buffer = AlignedBuffer::zeroed(37);
    for (i, v) in buffer.iter_mut().enumerate() {
        *v = i as f32;
    }
    assert_eq!(buffer[36], 36.0);
    assert_eq!(buffer.iter().sum::<f32>(), (0..37).sum::<i32>() as f32);
    assert_eq!(AlignedBuffer::default().len(), 0);
}
