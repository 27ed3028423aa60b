//! Which raw bytes a query value may not carry: one table, read by decoding (which notes the
//! first such byte as it goes) and by the encoding check that reports it.

use crate::decode::ByteClasses;

/// Bytes a query value may not carry raw. `( ) ; , / : @ ! $ ' *` are legal and not listed.
pub(super) fn needs_escape(b: u8) -> bool {
    NEEDS_ESCAPE[usize::from(b)]
}

/// [`needs_escape`] as a table.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b < 0x20 || b >= 0x7F;
        b += 1;
    }
    let listed = [b' ', b'"', b'<', b'>', b'\\', b'^', b'`', b'{', b'|', b'}'];
    let mut i = 0;
    while i < listed.len() {
        t[listed[i] as usize] = true;
        i += 1;
    }
    t
};

/// How decoding treats a value's bytes: it notes the first that [`needs_escape`], so that
/// finding it costs no pass of its own.
pub(super) static VALUE_BYTES: ByteClasses = ByteClasses::flagging(&NEEDS_ESCAPE);
