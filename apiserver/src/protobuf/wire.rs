//! The protobuf wire format: a message is a sequence of `(field number, wire type)` keys, each
//! followed by a varint, a fixed 64- or 32-bit value, or a length-delimited byte string.
//! Groups (wire types 3 and 4) are deprecated and never used by Kubernetes; they are refused.

/// A field value as read from the wire, before the schema gives it a meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireValue<'a> {
    /// Wire type 0: `int32`, `int64`, `uint*`, `sint*`, `bool`, `enum`.
    Varint(u64),
    /// Wire type 1: `fixed64`, `sfixed64`, `double`.
    Fixed64(u64),
    /// Wire type 2: `string`, `bytes`, embedded messages, packed repeated scalars.
    Bytes(&'a [u8]),
    /// Wire type 5: `fixed32`, `sfixed32`, `float`.
    Fixed32(u32),
}

impl WireValue<'_> {
    /// The wire type number.
    pub fn wire_type(&self) -> u8 {
        match self {
            WireValue::Varint(_) => 0,
            WireValue::Fixed64(_) => 1,
            WireValue::Bytes(_) => 2,
            WireValue::Fixed32(_) => 5,
        }
    }
}

/// The bytes are not a well-formed protobuf message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The message ends in the middle of a key or a value.
    #[error("unexpected end of data")]
    Truncated,
    /// A varint runs over ten bytes.
    #[error("varint overflows 64 bits")]
    VarintOverflow,
    /// Field number 0, or over 2^29 - 1.
    #[error("invalid field number {0}")]
    FieldNumber(u64),
    /// Wire types 3 and 4 (groups), 6 and 7.
    #[error("unsupported wire type {0}")]
    WireType(u8),
}

/// Reads a varint at the start of `data`: its value and its length.
///
/// # Errors
/// [`WireError::Truncated`] or [`WireError::VarintOverflow`].
pub fn read_varint(data: &[u8]) -> Result<(u64, usize), WireError> {
    let mut value = 0u64;
    for (index, byte) in data.iter().enumerate() {
        if index == 9 && *byte > 1 {
            return Err(WireError::VarintOverflow);
        }
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Ok((value, index + 1));
        }
        if index == 9 {
            return Err(WireError::VarintOverflow);
        }
    }
    Err(WireError::Truncated)
}

/// Iterates over the fields of one message, in wire order.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    data: &'a [u8],
    failed: bool,
}

impl<'a> Fields<'a> {
    /// The fields of the message encoded in `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            failed: false,
        }
    }

    fn next_field(&mut self) -> Result<(u32, WireValue<'a>), WireError> {
        let (key, used) = read_varint(self.data)?;
        self.data = &self.data[used..];
        let number = key >> 3;
        if number == 0 || number > (1 << 29) - 1 {
            return Err(WireError::FieldNumber(number));
        }
        let number = u32::try_from(number).map_err(|_| WireError::FieldNumber(number))?;
        let value = match key & 7 {
            0 => {
                let (value, used) = read_varint(self.data)?;
                self.data = &self.data[used..];
                WireValue::Varint(value)
            }
            1 => {
                let bytes = self.take(8)?;
                let mut array = [0u8; 8];
                array.copy_from_slice(bytes);
                WireValue::Fixed64(u64::from_le_bytes(array))
            }
            2 => {
                let (length, used) = read_varint(self.data)?;
                self.data = &self.data[used..];
                let length = usize::try_from(length).map_err(|_| WireError::Truncated)?;
                WireValue::Bytes(self.take(length)?)
            }
            5 => {
                let bytes = self.take(4)?;
                let mut array = [0u8; 4];
                array.copy_from_slice(bytes);
                WireValue::Fixed32(u32::from_le_bytes(array))
            }
            other => return Err(WireError::WireType(other as u8)),
        };
        Ok((number, value))
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], WireError> {
        if self.data.len() < length {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.data.split_at(length);
        self.data = tail;
        Ok(head)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, WireValue<'a>), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() || self.failed {
            return None;
        }
        let result = self.next_field();
        self.failed = result.is_err();
        Some(result)
    }
}

/// Iterates over the varints of a packed repeated field.
pub fn packed_varints(mut data: &[u8]) -> impl Iterator<Item = Result<u64, WireError>> + '_ {
    std::iter::from_fn(move || {
        if data.is_empty() {
            return None;
        }
        match read_varint(data) {
            Ok((value, used)) => {
                data = &data[used..];
                Some(Ok(value))
            }
            Err(error) => {
                data = &[];
                Some(Err(error))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode_including_ten_byte_negative_numbers() {
        assert_eq!(read_varint(&[0x00]), Ok((0, 1)));
        assert_eq!(read_varint(&[0x96, 0x01]), Ok((150, 2)));
        let minus_one = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(read_varint(&minus_one), Ok((u64::MAX, 10)));
        assert_eq!(read_varint(&[0x80]), Err(WireError::Truncated));
        let too_long = [0xff; 11];
        assert_eq!(read_varint(&too_long), Err(WireError::VarintOverflow));
        let overflowing = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(read_varint(&overflowing), Err(WireError::VarintOverflow));
    }

    #[test]
    fn every_wire_type_is_read_and_groups_are_refused() {
        let data = [
            0x08, 0x96, 0x01, // 1: varint 150
            0x11, 1, 0, 0, 0, 0, 0, 0, 0, // 2: fixed64 1
            0x1a, 0x02, b'h', b'i', // 3: bytes "hi"
            0x25, 2, 0, 0, 0, // 4: fixed32 2
        ];
        let fields: Vec<_> = Fields::new(&data).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            fields,
            [
                (1, WireValue::Varint(150)),
                (2, WireValue::Fixed64(1)),
                (3, WireValue::Bytes(b"hi")),
                (4, WireValue::Fixed32(2)),
            ]
        );
        let group = [0x0b];
        assert_eq!(
            Fields::new(&group).next(),
            Some(Err(WireError::WireType(3)))
        );
    }

    #[test]
    fn truncated_values_and_field_zero_are_errors() {
        assert_eq!(
            Fields::new(&[0x0a, 0x05, b'a']).next(),
            Some(Err(WireError::Truncated))
        );
        assert_eq!(
            Fields::new(&[0x11, 1, 2]).next(),
            Some(Err(WireError::Truncated))
        );
        assert_eq!(
            Fields::new(&[0x00, 0x01]).next(),
            Some(Err(WireError::FieldNumber(0)))
        );
        // After an error the iterator stops.
        let mut fields = Fields::new(&[0x0a, 0x05]);
        assert!(fields.next().is_some_and(|r| r.is_err()));
        assert!(fields.next().is_none());
    }

    #[test]
    fn packed_varints_are_split() {
        let values: Vec<_> = packed_varints(&[0x01, 0x96, 0x01, 0x03])
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(values, [1, 150, 3]);
        assert!(packed_varints(&[0x80]).any(|r| r.is_err()));
    }
}
