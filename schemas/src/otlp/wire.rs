//! The protobuf wire format, read in place.
//!
//! [`Fields`] walks the fields of one message without copying anything;
//! what a field holds is typed by the caller, which knows the schema
//! ([`Field::bytes`], [`Field::varint`], ...), so a field of the wrong
//! wire type is an error, as it is for prost. Unknown fields are skipped.
//! Strings are checked for UTF-8 once, where they are read.

use super::{Attr, List, Value};

/// Deepest nesting of array and key-value list values accepted. prost stops
/// at 100 nested messages in all; attribute values never come close.
pub const MAX_VALUE_DEPTH: usize = 32;

/// Why bytes are not a valid message. Small and `Copy`, so the walk's
/// results stay in registers; the message is built only when shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// A varint, length or fixed-width field runs past the end.
    Truncated,
    /// A varint longer than 64 bits.
    BadVarint,
    /// A field number of 0 or beyond 2^29.
    BadFieldNumber(u64),
    /// Wire types 6 and 7 do not exist.
    BadWireType(u8),
    /// A known field sent with another wire type than its own.
    WrongType {
        /// The field.
        field: u32,
        /// The wire type it came with.
        found: u8,
        /// The wire type it has.
        expected: u8,
    },
    /// A string that is not UTF-8.
    Utf8,
    /// A group without its end, or an end without its group.
    Group,
    /// Attribute values nested deeper than [`MAX_VALUE_DEPTH`].
    TooDeep,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = |t: u8| match t {
            0 => "varint",
            1 => "64-bit",
            2 => "length-delimited",
            _ => "32-bit",
        };
        match self {
            WireError::Truncated => f.write_str("buffer underflow: a field runs past the end"),
            WireError::BadVarint => f.write_str("invalid varint"),
            WireError::BadFieldNumber(n) => write!(f, "invalid field number {n}"),
            WireError::BadWireType(t) => write!(f, "invalid wire type {t}"),
            WireError::WrongType {
                field,
                found,
                expected,
            } => write!(
                f,
                "field {field} has wire type {}, expected {}",
                kind(*found),
                kind(*expected)
            ),
            WireError::Utf8 => f.write_str("invalid string value: data is not UTF-8 encoded"),
            WireError::Group => f.write_str("unmatched group tags"),
            WireError::TooDeep => write!(
                f,
                "attribute values nested deeper than {MAX_VALUE_DEPTH} levels"
            ),
        }
    }
}

impl std::error::Error for WireError {}

/// A field's payload, by wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: the payload bytes.
    Bytes(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

impl<'a> Field<'a> {
    fn wire_type(&self) -> u8 {
        match self {
            Field::Varint(_) => 0,
            Field::Fixed64(_) => 1,
            Field::Bytes(_) => 2,
            Field::Fixed32(_) => 5,
        }
    }

    #[cold]
    fn wrong(&self, field: u32, expected: u8) -> WireError {
        WireError::WrongType {
            field,
            found: self.wire_type(),
            expected,
        }
    }

    /// A length-delimited payload (message, bytes, string).
    #[inline]
    pub fn bytes(self, number: u32) -> Result<&'a [u8], WireError> {
        match self {
            Field::Bytes(b) => Ok(b),
            other => Err(other.wrong(number, 2)),
        }
    }

    /// A string: a length-delimited payload that is UTF-8.
    #[inline]
    pub fn str(self, number: u32) -> Result<&'a str, WireError> {
        utf8(self.bytes(number)?)
    }

    /// A varint (int32, int64, uint32, uint64, bool, enum).
    #[inline]
    pub fn varint(self, number: u32) -> Result<u64, WireError> {
        match self {
            Field::Varint(v) => Ok(v),
            other => Err(other.wrong(number, 0)),
        }
    }

    /// A fixed64 or double.
    #[inline]
    pub fn fixed64(self, number: u32) -> Result<u64, WireError> {
        match self {
            Field::Fixed64(v) => Ok(v),
            other => Err(other.wrong(number, 1)),
        }
    }

    /// A fixed32.
    #[inline]
    pub fn fixed32(self, number: u32) -> Result<u32, WireError> {
        match self {
            Field::Fixed32(v) => Ok(v),
            other => Err(other.wrong(number, 5)),
        }
    }
}

/// Bytes as UTF-8 text, or the error prost gives for them.
#[inline]
pub fn utf8(bytes: &[u8]) -> Result<&str, WireError> {
    simdutf8::basic::from_utf8(bytes).map_err(|_| WireError::Utf8)
}

/// The fields of one message, in the order they were written.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    /// The fields of the message `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Fields { rest: bytes }
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, WireError> {
        // Tags and most lengths are one byte.
        if let Some((&byte, rest)) = self.rest.split_first()
            && byte < 0x80
        {
            self.rest = rest;
            return Ok(u64::from(byte));
        }
        self.long_varint()
    }

    fn long_varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for (i, &byte) in self.rest.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                if i == 9 && byte > 1 {
                    break;
                }
                self.rest = &self.rest[i + 1..];
                return Ok(value);
            }
        }
        Err(if self.rest.len() < 10 {
            WireError::Truncated
        } else {
            WireError::BadVarint
        })
    }

    #[inline]
    fn chunk(&mut self, n: u64) -> Result<&'a [u8], WireError> {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > self.rest.len() {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// One field, or `None` for a group (wire types 3 and 4), which is
    /// skipped whole.
    #[inline]
    fn field(&mut self) -> Result<(u32, Option<Field<'a>>), WireError> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3)
            .ok()
            .filter(|&n| n > 0 && n <= 0x1fff_ffff)
            .ok_or(WireError::BadFieldNumber(key >> 3))?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => {
                let b = self.chunk(8)?;
                Field::Fixed64(u64::from_le_bytes(b.try_into().expect("8 bytes")))
            }
            2 => {
                let len = self.varint()?;
                Field::Bytes(self.chunk(len)?)
            }
            5 => {
                let b = self.chunk(4)?;
                Field::Fixed32(u32::from_le_bytes(b.try_into().expect("4 bytes")))
            }
            3 => {
                self.skip_group(number, 0)?;
                return Ok((number, None));
            }
            other => return Err(WireError::BadWireType(other as u8)),
        };
        Ok((number, Some(field)))
    }

    fn skip_group(&mut self, number: u32, depth: usize) -> Result<(), WireError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(WireError::TooDeep);
        }
        loop {
            if self.rest.is_empty() {
                return Err(WireError::Group);
            }
            let key = self.varint()?;
            let inner = u32::try_from(key >> 3).unwrap_or(0);
            match key & 7 {
                4 if inner == number => return Ok(()),
                4 => return Err(WireError::Group),
                3 => self.skip_group(inner, depth + 1)?,
                0 => {
                    self.varint()?;
                }
                1 => {
                    self.chunk(8)?;
                }
                2 => {
                    let len = self.varint()?;
                    self.chunk(len)?;
                }
                5 => {
                    self.chunk(4)?;
                }
                other => return Err(WireError::BadWireType(other as u8)),
            }
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Field<'a>), WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        while !self.rest.is_empty() {
            match self.field() {
                Ok((number, Some(field))) => return Some(Ok((number, field))),
                Ok((_, None)) => continue,
                Err(e) => {
                    self.rest = &[];
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// The payloads of every length-delimited field `number` of a message that
/// was already checked; stops quietly at anything malformed.
pub fn repeated(message: &[u8], number: u32) -> impl Iterator<Item = &[u8]> {
    Fields::new(message)
        .map_while(Result::ok)
        .filter_map(move |(n, field)| match field {
            Field::Bytes(b) if n == number => Some(b),
            _ => None,
        })
}

/// Reads an `AnyValue` message. Arrays and key-value lists are checked all
/// the way down (so reading them later cannot fail) and kept as bytes.
pub fn any_value(bytes: &[u8], depth: usize) -> Result<Value<'_>, WireError> {
    let mut value = Value::Empty;
    for field in Fields::new(bytes) {
        let (number, field) = field?;
        value = match number {
            1 => Value::Str(field.str(number)?),
            2 => Value::Bool(field.varint(number)? != 0),
            3 => Value::Int(field.varint(number)? as i64),
            4 => Value::Double(f64::from_bits(field.fixed64(number)?)),
            5 => {
                let list = field.bytes(number)?;
                check_list(list, depth, false)?;
                Value::Array(List::Wire(list))
            }
            6 => {
                let list = field.bytes(number)?;
                check_list(list, depth, true)?;
                Value::KvList(List::Wire(list))
            }
            7 => Value::Bytes(field.bytes(number)?),
            8 => Value::StrIndex(field.varint(number)? as i32),
            _ => continue,
        };
    }
    Ok(value)
}

/// Reads a `KeyValue` message.
#[inline]
pub fn key_value(bytes: &[u8], depth: usize) -> Result<Attr<'_>, WireError> {
    match usual_key_value(bytes) {
        Some(attr) => Ok(attr),
        None => any_key_value(bytes, depth),
    }
}

/// The shape every exporter writes, read without the general loop: the key
/// (field 1), then the value (field 2) holding one string, int, bool or
/// double field and nothing after it. `None` for anything else, which the
/// general reader takes (and judges).
#[inline]
fn usual_key_value(bytes: &[u8]) -> Option<Attr<'_>> {
    let mut f = Fields::new(bytes);
    let (&0x0a, rest) = bytes.split_first()? else {
        return None;
    };
    f.rest = rest;
    let len = f.varint().ok()?;
    let key = utf8(f.chunk(len).ok()?).ok()?;
    let (&0x12, rest) = f.rest.split_first()? else {
        return None;
    };
    f.rest = rest;
    let len = f.varint().ok()?;
    let mut v = Fields::new(f.chunk(len).ok()?);
    if !f.rest.is_empty() {
        return None;
    }
    let (&tag, rest) = v.rest.split_first()?;
    v.rest = rest;
    let value = match tag {
        0x0a => {
            let len = v.varint().ok()?;
            Value::Str(utf8(v.chunk(len).ok()?).ok()?)
        }
        0x10 => Value::Bool(v.varint().ok()? != 0),
        0x18 => Value::Int(v.varint().ok()? as i64),
        0x21 => Value::Double(f64::from_bits(u64::from_le_bytes(
            v.chunk(8).ok()?.try_into().ok()?,
        ))),
        _ => return None,
    };
    v.rest.is_empty().then_some(Attr { key, value })
}

fn any_key_value(bytes: &[u8], depth: usize) -> Result<Attr<'_>, WireError> {
    let mut attr = Attr {
        key: "",
        value: Value::Empty,
    };
    for field in Fields::new(bytes) {
        let (number, field) = field?;
        match number {
            1 => attr.key = field.str(number)?,
            2 => attr.value = any_value(field.bytes(number)?, depth)?,
            3 => {
                field.varint(number)?;
            }
            _ => {}
        }
    }
    Ok(attr)
}

/// Checks an `ArrayValue` (`pairs` false) or `KeyValueList` message.
fn check_list(list: &[u8], depth: usize, pairs: bool) -> Result<(), WireError> {
    if depth >= MAX_VALUE_DEPTH {
        return Err(WireError::TooDeep);
    }
    for field in Fields::new(list) {
        let (number, field) = field?;
        if number != 1 {
            continue;
        }
        let element = field.bytes(number)?;
        if pairs {
            key_value(element, depth + 1)?;
        } else {
            any_value(element, depth + 1)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value as V};
    use prost::Message as _;

    use super::*;

    #[test]
    fn reads_what_prost_writes() {
        let kv = KeyValue {
            key: "causet.lamport".into(),
            value: Some(AnyValue {
                value: Some(V::IntValue(-7)),
            }),
            ..Default::default()
        };
        let bytes = kv.encode_to_vec();
        let attr = key_value(&bytes, 0).expect("valid");
        assert_eq!(attr.key, "causet.lamport");
        assert_eq!(attr.value, Value::Int(-7));
    }

    #[test]
    fn malformed_bytes_are_errors_not_panics() {
        // Truncated length, bad wire type, overlong varint, bad UTF-8.
        for bytes in [
            &[0x0a, 0x05, b'a'][..],
            &[0x0f][..],
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ][..],
            &[0x0a, 0x01, 0xff][..],
        ] {
            assert!(key_value(bytes, 0).is_err(), "{bytes:?} should not parse");
        }
        // A string field sent as a varint is the wrong wire type.
        let err = key_value(&[0x08, 0x01], 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "field 1 has wire type varint, expected length-delimited"
        );
    }

    #[test]
    fn unknown_fields_and_groups_are_skipped() {
        // field 9 varint, field 10 group holding a varint, then key "k".
        let bytes = [0x48, 0x01, 0x53, 0x08, 0x02, 0x54, 0x0a, 0x01, b'k'];
        assert_eq!(key_value(&bytes, 0).expect("valid").key, "k");
    }

    #[test]
    fn nesting_is_bounded() {
        let mut value = AnyValue {
            value: Some(V::IntValue(1)),
        };
        for _ in 0..=MAX_VALUE_DEPTH {
            value = AnyValue {
                value: Some(V::ArrayValue(
                    opentelemetry_proto::tonic::common::v1::ArrayValue {
                        values: vec![value],
                    },
                )),
            };
        }
        let bytes = value.encode_to_vec();
        assert!(any_value(&bytes, 0).is_err());
    }
}
