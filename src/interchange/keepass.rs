//! KeePass: the XML of KeePass 2's "KeePass XML (2.x)" export (and
//! KeePassXC's), groups read as tags; and the CSV KeePassXC and KeePass 2
//! write.

use roxmltree::{Document, Node};
use zeroize::Zeroizing;

use super::draft::{Common, Login, Raw};
use super::{FileError, Format, Parsed, Place, table};

/// KeePass 2's own TOTP fields (since 2.47).
const TIME_OTP: &str = "TimeOtp-";

fn xml_error(e: &roxmltree::Error) -> FileError {
    let format = Format::KeepassXml;
    match e {
        roxmltree::Error::UnexpectedEndOfStream => {
            FileError::malformed(format, "the XML ends early (the file is cut short)")
        }
        roxmltree::Error::DtdDetected => {
            FileError::malformed(format, "it declares a DTD, which no KeePass export has")
        }
        roxmltree::Error::NodesLimitReached | roxmltree::Error::AttributesLimitReached => {
            FileError::malformed(format, "it holds too many XML elements")
        }
        e => {
            let pos = e.pos();
            FileError::malformed(
                format,
                format!("not well-formed XML at line {} column {}", pos.row, pos.col),
            )
        }
    }
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name(name))
}

fn text<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(node, name).and_then(|n| n.text())
}

/// Most XML nodes a file may hold: some 50,000 entries' worth.
const MAX_NODES: u32 = 2_000_000;
/// Deepest nesting of groups read.
const MAX_DEPTH: usize = 64;

pub(super) fn xml(source: &str) -> Result<Parsed, FileError> {
    let format = Format::KeepassXml;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = Document::parse_with_options(source, options).map_err(|e| xml_error(&e))?;
    let file = doc.root_element();
    if !file.has_tag_name("KeePassFile") {
        return Err(FileError::malformed(
            format,
            "its root element is not <KeePassFile>",
        ));
    }
    let Some(root) = child(file, "Root") else {
        return Err(FileError::malformed(format, "it has no <Root>"));
    };
    let bin = child(file, "Meta")
        .and_then(|m| text(m, "RecycleBinUUID"))
        .filter(|uuid| !uuid.trim().is_empty() && uuid.trim() != "AAAAAAAAAAAAAAAAAAAAAA==");
    if doc
        .descendants()
        .any(|n| n.has_tag_name("Value") && n.attribute("Protected") == Some("True"))
    {
        return Err(FileError::malformed(
            format,
            "its protected values are still encrypted; export with KeePass's \
             File > Export > KeePass XML (2.x)",
        ));
    }
    let mut parsed = Parsed::default();
    let mut number = 0;
    let mut lines = Lines::new(source);
    // Groups and entries in document order, with an explicit stack: a file
    // nesting groups deeply costs no stack. The top group is the database
    // itself: its name is no tag.
    let mut stack: Vec<Visit<'_, '_>> = root
        .children()
        .filter(|c| c.has_tag_name("Group"))
        .map(|node| Visit {
            node,
            path: None,
            in_bin: false,
            depth: 0,
            top: true,
        })
        .collect();
    stack.reverse();
    while let Some(visit) = stack.pop() {
        let node = visit.node;
        if node.has_tag_name("Entry") {
            number += 1;
            let at = Place {
                record: number,
                line: Some(lines.at(node.range().start)),
            };
            let raw = if visit.in_bin {
                Raw::Skip("in the recycle bin".to_owned())
            } else {
                entry(node, visit.path.as_deref())
            };
            parsed.take(at, raw);
            continue;
        }
        if visit.depth > MAX_DEPTH {
            return Err(FileError::malformed(
                format,
                format!("its groups nest deeper than {MAX_DEPTH}"),
            ));
        }
        let in_bin = visit.in_bin || (bin.is_some() && text(node, "UUID") == bin);
        let name = text(node, "Name").unwrap_or("").trim();
        let path = match (&visit.path, name.is_empty() || visit.top) {
            (path, true) => path.clone(),
            (Some(p), false) => Some(format!("{p}/{name}")),
            (None, false) => Some(name.to_owned()),
        };
        let children: Vec<Visit<'_, '_>> = node
            .children()
            .filter(|c| c.has_tag_name("Entry") || c.has_tag_name("Group"))
            .map(|child| Visit {
                node: child,
                path: path.clone(),
                in_bin,
                depth: visit.depth + 1,
                top: false,
            })
            .collect();
        stack.extend(children.into_iter().rev());
    }
    Ok(parsed)
}

/// A group or entry still to read, and what its group says of it.
struct Visit<'a, 'i> {
    node: Node<'a, 'i>,
    /// The path of the groups above it, below the database's own.
    path: Option<String>,
    in_bin: bool,
    depth: usize,
    /// The database's own group.
    top: bool,
}

/// Line numbers of byte positions asked in increasing order, each found
/// by counting only the text since the last.
struct Lines<'s> {
    source: &'s str,
    at: usize,
    line: usize,
}

impl<'s> Lines<'s> {
    fn new(source: &'s str) -> Self {
        Self {
            source,
            at: 0,
            line: 1,
        }
    }

    fn at(&mut self, position: usize) -> usize {
        if position >= self.at {
            let between = self.source.get(self.at..position).unwrap_or("");
            self.line += between.bytes().filter(|b| *b == b'\n').count();
            self.at = position;
        }
        self.line
    }
}

fn entry(node: Node<'_, '_>, group: Option<&str>) -> Raw {
    let mut login = Login::default();
    let mut time_otp: Vec<(&str, Zeroizing<String>)> = Vec::new();
    if let Some(group) = group {
        login.common.tag(group);
    }
    for tag in text(node, "Tags").unwrap_or("").split([';', ',']) {
        login.common.tag(tag);
    }
    // Title, UserName, Password, URL, Notes and KeePassXC's `otp` are the
    // entry's own; any other string is a custom field.
    for string in node.children().filter(|c| c.has_tag_name("String")) {
        let Some(key) = text(string, "Key") else {
            continue;
        };
        let value_node = child(string, "Value");
        let value = value_node.and_then(|v| v.text()).unwrap_or("");
        let protected = value_node.and_then(|v| v.attribute("ProtectInMemory")) == Some("True");
        match key {
            "Title" => login.common.name = Some(value.to_owned()),
            "UserName" => login.username = Some(value.to_owned()),
            "Password" => login.password = Some(super::secret(value)),
            "URL" => login.urls = vec![value.to_owned()],
            "Notes" => login.common.note = Some(value.to_owned()),
            "otp" => login.totp = Some(super::secret(value)),
            key if key.starts_with(TIME_OTP) => time_otp.push((key, super::secret(value))),
            key => login.common.field(key, value, protected),
        }
    }
    if login.totp.is_none() {
        login.totp = time_otp_uri(&time_otp);
    }
    login.urls.retain(|u| !u.trim().is_empty());
    Raw::Login(login)
}

/// The seed of KeePass 2's `TimeOtp-*` fields, as a URI.
fn time_otp_uri(fields: &[(&str, Zeroizing<String>)]) -> Option<Zeroizing<String>> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.strip_prefix(TIME_OTP) == Some(name))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    // KeePass 2 keeps the secret in one of four encodings.
    let secret: Zeroizing<String> = if let Some(b32) = get("Secret-Base32") {
        Zeroizing::new(b32.to_owned())
    } else {
        use base64::Engine;
        let bytes: Zeroizing<Vec<u8>> = if let Some(hex) = get("Secret-Hex") {
            let hex: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
            Zeroizing::new(
                (0..hex.len() / 2)
                    .map(|i| {
                        hex.get(i * 2..i * 2 + 2)
                            .and_then(|h| u8::from_str_radix(h, 16).ok())
                    })
                    .collect::<Option<Vec<u8>>>()?,
            )
        } else if let Some(b64) = get("Secret-Base64") {
            Zeroizing::new(base64::engine::general_purpose::STANDARD.decode(b64).ok()?)
        } else {
            Zeroizing::new(get("Secret")?.as_bytes().to_vec())
        };
        crate::domain::totp::base32_encode(&bytes)
    };
    let mut uri = Zeroizing::new(format!("otpauth://totp/KeePass?secret={}", secret.as_str()));
    if let Some(digits) = get("Length") {
        uri.push_str(&format!("&digits={digits}"));
    }
    if let Some(period) = get("Period") {
        uri.push_str(&format!("&period={period}"));
    }
    if let Some(algorithm) = get("Algorithm") {
        let name = algorithm.trim_start_matches("HMAC-").replace('-', "");
        uri.push_str(&format!("&algorithm={name}"));
    }
    Some(uri)
}

struct CsvColumns {
    group: Option<usize>,
    title: usize,
    username: Option<usize>,
    password: usize,
    url: Option<usize>,
    notes: Option<usize>,
    totp: Option<usize>,
}

/// KeePassXC's CSV (`Group`, `Title`, `Username`, `Password`, `URL`,
/// `Notes`, `TOTP` …) and KeePass 2's (`Account`, `Login Name`,
/// `Password`, `Web Site`, `Comments`).
pub(super) fn csv(text: &str) -> Result<Parsed, FileError> {
    let format = Format::KeepassCsv;
    let mut parsed = Parsed::default();
    table::read(
        format,
        text,
        |c| {
            Ok(CsvColumns {
                group: c.find(&["Group"]),
                title: c.require(format, &["Title", "Account"])?,
                username: c.find(&["Username", "User Name", "Login Name"]),
                password: c.require(format, &["Password"])?,
                url: c.find(&["URL", "Web Site"]),
                notes: c.find(&["Notes", "Comments"]),
                totp: c.find(&["TOTP", "OTP"]),
            })
        },
        |c, row, at| {
            let mut common = Common {
                name: row.get(Some(c.title)).map(str::to_owned),
                note: row.get(c.notes).map(str::to_owned),
                ..Common::default()
            };
            // KeePassXC writes the path from the database's own group,
            // `Root/Email`: that first part is no tag.
            if let Some(group) = row.get(c.group) {
                let path = group.split_once('/').map_or("", |(_, rest)| rest);
                common.tag(path);
            }
            let raw = Raw::Login(Login {
                common,
                urls: row.get(c.url).map(str::to_owned).into_iter().collect(),
                username: row.get(c.username).map(str::to_owned),
                password: row.get(Some(c.password)).map(super::secret),
                totp: row.get(c.totp).map(super::secret),
            });
            parsed.take(at, raw);
        },
    )?;
    Ok(parsed)
}
