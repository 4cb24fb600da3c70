//! A QR code as a PNG image, written by hand: the `qrcode` crate gives the module matrix, and
//! a grey-scale PNG with stored (uncompressed) deflate blocks needs only CRC-32 and Adler-32.

use qrcode::{Color, QrCode};

/// Pixels per module.
const SCALE: usize = 6;
/// Quiet zone around the code, in modules.
const BORDER: usize = 4;

/// Renders `data` as a QR code PNG, or `None` when it is too long for a QR code.
pub(crate) fn qr_png(data: &[u8]) -> Option<Vec<u8>> {
    let code = QrCode::new(data).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * BORDER) * SCALE;
    let mut raw = Vec::with_capacity((side + 1) * side);
    for y in 0..side {
        raw.push(0); // Filter type: none.
        for x in 0..side {
            let (module_x, module_y) = (
                (x / SCALE).checked_sub(BORDER),
                (y / SCALE).checked_sub(BORDER),
            );
            let dark = match (module_x, module_y) {
                (Some(mx), Some(my)) if mx < width && my < width => {
                    colors.get(my * width + mx) == Some(&Color::Dark)
                }
                _ => false,
            };
            raw.push(if dark { 0 } else { 255 });
        }
    }
    let side = u32::try_from(side).ok()?;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey, deflate, no interlace.
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    Some(png)
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of stored deflate blocks (at most 65535 bytes each).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1_u32, 0_u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_their_published_check_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn a_qr_png_has_the_png_signature_and_a_square_size() {
        let png = qr_png(b"http://127.0.0.1:7800/q/abc").unwrap();

        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(png[16..20], png[20..24], "width equals height");
        assert!(
            png.ends_with(&[0xae, 0x42, 0x60, 0x82]),
            "IEND's CRC closes the file"
        );
    }
}
