//! Just enough XML for S3 answers: the `ListBucketResult` of ListObjectsV2 and the
//! `<Error>` document. S3 documents are flat (no attributes we need, no mixed content),
//! so elements are found by name and their text unescaped.

/// The text of every `<name>...</name>` element in `xml`, in order (a self-closing
/// `<name/>` gives an empty string).
pub fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}>");
    let empty = format!("<{name}/>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    loop {
        let next_open = rest.find(&open);
        let next_empty = rest.find(&empty);
        match (next_open, next_empty) {
            (Some(o), e) if e.is_none_or(|e| o < e) => {
                let after = &rest[o + open.len()..];
                let Some(end) = after.find(&close) else {
                    return out;
                };
                out.push(&after[..end]);
                rest = &after[end + close.len()..];
            }
            (_, Some(e)) => {
                out.push("");
                rest = &rest[e + empty.len()..];
            }
            _ => return out,
        }
    }
}

/// The unescaped text of the first `<name>` element.
pub fn text(xml: &str, name: &str) -> Option<String> {
    elements(xml, name).first().map(|t| unescape(t))
}

/// Replaces the predefined entities and character references; `<![CDATA[...]]>` is kept
/// verbatim.
pub fn unescape(text: &str) -> String {
    if let Some(inner) = text
        .strip_prefix("<![CDATA[")
        .and_then(|t| t.strip_suffix("]]>"))
    {
        return inner.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semi) = after.find(';').filter(|s| *s <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let entity = &after[..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes `%XX` sequences (ListObjectsV2 with `encoding-type=url`); `+` stays `+`.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix/>
<KeyCount>2</KeyCount><IsTruncated>true</IsTruncated><EncodingType>url</EncodingType>
<Contents><Key>dir/a%20b.yaml</Key><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>3</Size></Contents>
<Contents><Key>x&amp;y</Key><ETag>&#34;abc&#34;</ETag></Contents>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>"#;

    #[test]
    fn listings_are_read_element_by_element() {
        let contents = elements(LISTING, "Contents");
        assert_eq!(contents.len(), 2);
        assert_eq!(text(contents[0], "Key").as_deref(), Some("dir/a%20b.yaml"));
        assert_eq!(
            text(contents[0], "ETag").as_deref(),
            Some("\"9b2cf535f27731c974343645a3985328\"")
        );
        assert_eq!(text(contents[1], "Key").as_deref(), Some("x&y"));
        assert_eq!(text(contents[1], "ETag").as_deref(), Some("\"abc\""));
        assert_eq!(text(LISTING, "IsTruncated").as_deref(), Some("true"));
        assert_eq!(text(LISTING, "Prefix").as_deref(), Some(""));
        assert_eq!(
            text(LISTING, "NextContinuationToken").as_deref(),
            Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        );
    }

    #[test]
    fn url_encoded_keys_are_decoded() {
        assert_eq!(percent_decode("dir/a%20b.yaml"), "dir/a b.yaml");
        assert_eq!(percent_decode("%2E%2E/x"), "../x");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn broken_entities_are_kept_as_text() {
        assert_eq!(unescape("a & b &bogus; &#xZZ;"), "a & b &bogus; &#xZZ;");
        assert_eq!(unescape("<![CDATA[a&amp;b]]>"), "a&amp;b");
    }
}
