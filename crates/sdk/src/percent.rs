//! Percent-decoding for the two places the SDK reads URL text: the geturl link (strict, `+`
//! kept: base64 values contain it) and push query strings (lenient, `+` is a space).

/// The decoded bytes of `text`. With `strict`, a `%` not followed by two hex digits makes it
/// `None`; otherwise such a `%` is kept as it is.
pub(crate) fn decode_bytes(text: &str, plus_is_space: bool, strict: bool) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None if strict && bytes[index] == b'%' => return None,
            None => {
                out.push(if plus_is_space && bytes[index] == b'+' {
                    b' '
                } else {
                    bytes[index]
                });
                index += 1;
            }
        }
    }
    Some(out)
}
