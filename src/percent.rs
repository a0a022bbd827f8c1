//! Percent-encoding for the URLs this task builds, and decoding for the ones it reads (report-task
//! dashboard links, proxy credentials, Azure DevOps' X-TFS-ServiceError header).

/// Encodes everything but RFC 3986's unreserved characters, so a project key, branch name or
/// project name is safe in a query value or a path segment.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes `%XX` (a malformed escape is kept as it is). `plus_is_space` reads `+` as a space, as
/// form encoding (Java's URLEncoder, which the scanners use) writes it.
pub fn decode(value: &str, plus_is_space: bool) -> String {
    let b = value.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(encode("my:proj feature/x&y"), "my%3Aproj%20feature%2Fx%26y");
        assert_eq!(decode("a%3Ab+c%zz%", true), "a:b c%zz%");
        assert_eq!(decode("a+b", false), "a+b");
    }

    proptest! {
        #[test]
        fn decode_undoes_encode(text in "\\PC*") {
            prop_assert_eq!(decode(&encode(&text), false), text.clone());
            prop_assert_eq!(decode(&encode(&text), true), text);
        }
    }
}
