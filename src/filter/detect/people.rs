//! Personal data that is not a secret: the user name in a home-directory path and email
//! addresses. Each is a category the filter can switch on or off ([`super::Detector`]).

use super::Span;
use crate::filter::Rule;

/// The directories that hold users' homes, each after a `/` or `\` that starts a path:
/// Linux and BSD `/home/`, macOS `/Users/`, Windows `\Users\` (or `/Users/` after a drive).
const HOME_PARENTS: [&[u8]; 2] = [b"home", b"Users"];

/// Directories under `/Users` that belong to no one.
const SHARED_HOMES: [&[u8]; 4] = [b"Shared", b"Public", b"Default", b"All Users"];

/// The shortest text that can hold a home directory with a user name: `/home/a`.
pub(super) const MIN_HOME_PATH: usize = 7;

/// User names in home-directory paths: `alice` in `/home/alice/app/config.toml`,
/// `/Users/alice/…` and `C:\Users\alice\…`. Only the name is hidden; the rest of the path
/// stays readable.
///
/// The parent directory must start a path (the text starts there, or a byte that cannot be
/// part of a path name comes before it, or a drive letter's `:`), so `/srv/home/…` and
/// `/api/users/…` are left alone. `Shared`, `Public`, `Default` and `All Users` are not
/// people.
pub(super) fn scan_home_users(bytes: &[u8], spans: &mut Vec<Span>) {
    for at in memchr::memchr2_iter(b'/', b'\\', bytes) {
        let separator = bytes[at];
        if !starts_path(bytes, at) {
            continue;
        }
        let Some(parent) = HOME_PARENTS
            .iter()
            .find(|parent| bytes[at + 1..].starts_with(parent))
        else {
            continue;
        };
        let name_start = at + 1 + parent.len() + 1;
        if bytes.get(name_start - 1) != Some(&separator) {
            continue;
        }
        let name_end = name_start
            + bytes[name_start..]
                .iter()
                .take_while(|&&byte| is_user_name_byte(byte))
                .count();
        let name = &bytes[name_start..name_end];
        if name.is_empty() || SHARED_HOMES.contains(&name) {
            continue;
        }
        spans.push(Span {
            start: name_start,
            end: name_end,
            rule: Rule::HomeDirectoryUser,
        });
    }
}

/// Whether the `/` or `\` at `at` starts a path: nothing that could be part of a file name
/// before it, or a drive letter (`C:`).
fn starts_path(bytes: &[u8], at: usize) -> bool {
    if at == 0 {
        return true;
    }
    match bytes[at - 1] {
        b':' => true,
        byte => {
            !(byte.is_ascii_alphanumeric()
                || matches!(byte, b'.' | b'_' | b'-' | b'~' | b'/' | b'\\' | b'%')
                || byte >= 0x80)
        }
    }
}

/// Bytes of a user name: letters, digits, `.`, `_`, `-`, `$` (Windows machine accounts)
/// and any non-ASCII byte, so names in other scripts are taken whole.
fn is_user_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-' | b'$') || byte >= 0x80
}

/// Email addresses: a local part of letters, digits and `.!#$%&*+^_~-` (the rarer `/=?'{|}`
/// are left out: they end a key or a path before an address more often than they are in
/// one), an `@`, and
/// a domain of at least two labels whose last is two or more letters. An `@` right after
/// `//` is a URL's user name, which the URL detector handles.
pub(super) fn scan_emails(bytes: &[u8], spans: &mut Vec<Span>) {
    let mut after = 0;
    for at in memchr::memchr_iter(b'@', bytes) {
        if at < after {
            continue;
        }
        let start = at
            - bytes[after..at]
                .iter()
                .rev()
                .take_while(|&&byte| is_local_byte(byte))
                .count();
        // Dots may not start a local part.
        let start = start
            + bytes[start..at]
                .iter()
                .take_while(|&&byte| byte == b'.')
                .count();
        if start == at || in_url_authority(&bytes[..start]) {
            continue;
        }
        let Some(end) = domain_end(bytes, at + 1) else {
            continue;
        };
        spans.push(Span {
            start,
            end,
            rule: Rule::EmailAddress,
        });
        after = end;
    }
}

/// Whether the text before a local part ends in a URL's `scheme://` and user name, so the
/// `@` ends the URL's userinfo (`postgres://user:pass@db.example.com`).
fn in_url_authority(before: &[u8]) -> bool {
    let word = before
        .iter()
        .rev()
        .take_while(|&&byte| !byte.is_ascii_whitespace() && !b"\"'<>(),;".contains(&byte))
        .count();
    memchr::memmem::find(&before[before.len() - word..], b"://").is_some()
}

fn is_local_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b".!#$%&*+^_~-".contains(&byte)
}

/// The end of a domain name starting at `from`: labels of letters, digits and `-` joined by
/// single dots, at least two, the last of two or more letters. A dot after the last label
/// is punctuation and not part of it.
fn domain_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    let mut labels = 0;
    let mut end = None;
    loop {
        let label_start = at;
        while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'-') {
            at += 1;
        }
        let label = &bytes[label_start..at];
        if label.is_empty() || label.len() > 63 {
            break;
        }
        labels += 1;
        if labels >= 2 && label.len() >= 2 && label.iter().all(u8::is_ascii_alphabetic) {
            end = Some(at);
        }
        if bytes.get(at) == Some(&b'.') {
            at += 1;
        } else {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str, scan: fn(&[u8], &mut Vec<Span>)) -> String {
        let mut spans = Vec::new();
        scan(text.as_bytes(), &mut spans);
        let mut out = text.to_owned();
        for span in spans.iter().rev() {
            out.replace_range(span.start..span.end, "[x]");
        }
        out
    }

    #[test]
    fn the_user_name_of_a_home_directory_is_hidden_and_the_path_kept() {
        for (text, expected) in [
            ("/home/alice/app/config.toml", "/home/[x]/app/config.toml"),
            (
                "open /Users/bob.smith/.ssh/id_rsa",
                "open /Users/[x]/.ssh/id_rsa",
            ),
            (r"C:\Users\Ana-María\AppData", r"C:\Users\[x]\AppData"),
            ("C:/Users/carol", "C:/Users/[x]"),
            ("HOME=/home/deploy", "HOME=/home/[x]"),
            ("\"/home/dave\"", "\"/home/[x]\""),
            ("paths: /home/e1:/home/e2", "paths: /home/[x]:/home/[x]"),
        ] {
            assert_eq!(shown(text, scan_home_users), expected, "{text}");
        }
    }

    #[test]
    fn paths_that_are_not_home_directories_stay() {
        for text in [
            "/srv/home/alice",
            "/api/users/42",
            "/api/Users/42",
            "https://example.com/home/index",
            "/Users/Shared/cache",
            "/home/",
            "/homework/alice",
            "/var/log/nginx/access.log",
            "src/home/mod.rs",
            "~/home/x",
        ] {
            assert_eq!(shown(text, scan_home_users), text, "{text}");
        }
    }

    #[test]
    fn email_addresses_are_hidden_whole() {
        for (text, expected) in [
            ("from alice@example.com.", "from [x]."),
            ("<bob.oneil+tag@mail.example.co.uk>", "<[x]>"),
            ("contact=carol@example.com", "contact=[x]"),
            ("mailto:c@d.io", "mailto:[x]"),
            ("a@b.cd,e@f.gh", "[x],[x]"),
        ] {
            assert_eq!(shown(text, scan_emails), expected, "{text}");
        }
    }

    #[test]
    fn what_only_looks_like_an_email_address_stays() {
        for text in [
            "postgres://user@db.example.com/shop",
            "redis://:pass@cache.example.com:6379",
            "postgres://user:pa.ss@db.example.com/shop",
            "git@github",
            "@example.com",
            "user@localhost",
            "v1.2@3.4",
            "tokio@1.40.0",
            "a@b.c",
            "name@",
        ] {
            assert_eq!(shown(text, scan_emails), text, "{text}");
        }
    }
}
