//! The CSV files: a header row naming the columns, then one record a row
//! (quoted fields may hold line breaks). Columns are found by name, so an
//! exporter's reordering or an added column changes nothing.

use super::{FileError, Format, Place};

/// A CSV file's header.
pub(super) struct Columns {
    names: Vec<String>,
}

impl Columns {
    /// The first column named any of `names` (case ignored).
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        self.names
            .iter()
            .position(|c| names.iter().any(|n| c.eq_ignore_ascii_case(n)))
    }

    /// Like `find`, for a column the format cannot do without.
    pub fn require(&self, format: Format, names: &[&str]) -> Result<usize, FileError> {
        self.find(names).ok_or_else(|| {
            FileError::malformed(
                format,
                format!(
                    "the header has no `{}` column",
                    names.first().unwrap_or(&"")
                ),
            )
        })
    }
}

/// One row: its fields by column.
pub(super) struct Row<'a> {
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    /// The field in column `at`, if it holds anything.
    pub fn get(&self, at: Option<usize>) -> Option<&str> {
        super::draft::given(at.and_then(|i| self.record.get(i)))
    }
}

/// Reads `text` as CSV: `header` looks at the columns once, `row` is
/// called for every record after it. A row with more or fewer fields than
/// the header, or a quote left open, is an error for the whole file.
pub(super) fn read<H>(
    format: Format,
    text: &str,
    header: impl FnOnce(&Columns) -> Result<H, FileError>,
    mut row: impl FnMut(&H, Row<'_>, Place),
) -> Result<(), FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let names = reader
        .headers()
        .map_err(|e| FileError::malformed(format, describe(&e)))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let columns = Columns { names };
    let picked = header(&columns)?;
    let mut record = csv::StringRecord::new();
    let mut number = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(FileError::malformed(format, describe(&e))),
        }
        // A blank line between records is no record.
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        number += 1;
        let line = record.position().map(|p| p.line() as usize);
        row(
            &picked,
            Row { record: &record },
            Place {
                record: number,
                line,
            },
        );
    }
    Ok(())
}

/// A CSV error, in words that never quote the file.
fn describe(e: &csv::Error) -> String {
    let line = e.position().map(|p| p.line());
    match (e.kind(), line) {
        (
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            },
            Some(line),
        ) => format!("line {line} has {len} fields where the header has {expected_len}"),
        (
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            },
            None,
        ) => {
            format!("a row has {len} fields where the header has {expected_len}")
        }
        (csv::ErrorKind::Utf8 { .. }, _) => "the file is not valid UTF-8 text".to_owned(),
        (_, Some(line)) => format!("unreadable CSV at line {line}"),
        (_, None) => "unreadable CSV".to_owned(),
    }
}
