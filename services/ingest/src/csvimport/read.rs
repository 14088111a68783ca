//! Reading an export: the separator sniffed, line ends of any kind, Windows-1252 cells.

use super::*;

/// Text of one cell: UTF-8, or else Windows-1252 as older Excel writes it.
fn cell(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| cp1252(b)).collect(),
    }
}

fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// Reads a CSV export: the header, then every row in order. `on_row` gets each row's line
/// number and outcome. Errors are only about the file as a whole (header, unreadable input).
pub fn read_csv<R: Read>(
    kind: ImportKind,
    mut input: R,
    pseudo: &Pseudonymizer,
    mut on_row: impl FnMut(u64, RowOutcome) -> bool,
) -> Result<u64, Vec<FieldError>> {
    // sniff the separator from the header line
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while head.len() < 64 * 1024 {
        match input.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => {
                head.push(byte[0]);
                if byte[0] == b'\n' {
                    break;
                }
            }
            Err(e) => return Err(whole(format!("the file cannot be read: {e}"))),
        }
    }
    let start = if head.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    let first = &head[start..];
    let count = |c: u8| first.iter().filter(|&&b| b == c).count();
    let sep = [b';', b',', b'\t']
        .into_iter()
        .max_by_key(|c| count(*c))
        .unwrap_or(b',');
    // CRLF (Excel) and lone CRs are read as LF; line numbers come from where each line ends,
    // as the CSV reader does not count the blank lines it skips
    let ends = std::rc::Rc::new(std::cell::RefCell::new(LineEnds::default()));
    let body = LfLines {
        inner: std::io::Cursor::new(head[start..].to_vec()).chain(input),
        after_cr: false,
        offset: 0,
        ends: ends.clone(),
    };
    let line_of = |byte: u64| ends.borrow_mut().line_of(byte);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(sep)
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut rec = csv::ByteRecord::new();
    let header = match rdr.read_byte_record(&mut rec) {
        Ok(true) => rec.iter().map(cell).collect::<Vec<_>>(),
        Ok(false) => return Err(whole("the file is empty: a header row is required".into())),
        Err(e) => return Err(whole(format!("the header row cannot be read: {e}"))),
    };
    let header = Header::new(kind, &header)?;
    let mut rows = 0u64;
    loop {
        // the line a record starts on (an unreadable one: where the reader stood)
        let mut line = line_of(rdr.position().byte());
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                line = rec.position().map_or(line, |p| line_of(p.byte()));
                let cells: Vec<String> = rec.iter().map(cell).collect();
                if cells.len() == 1 && cells[0].trim().is_empty() {
                    continue; // an empty line
                }
                rows += 1;
                if !on_row(line, row_events(&header, &cells, line, pseudo)) {
                    break;
                }
            }
            Err(e) => {
                rows += 1;
                let r = Rejected {
                    line,
                    errors: vec![CellError {
                        column: String::new(),
                        message: format!("unreadable row: {e}"),
                    }],
                };
                if !on_row(line, RowOutcome::Rejected(r)) {
                    break;
                }
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    Ok(rows)
}

/// Line ends as LF only: CRLF (Excel) and a lone CR (old Mac exports) each become one LF, also
/// across reads. The CSV reader then counts one line per line end, so every row starts on a
/// line of its own (resuming an import skips rows by line number).
struct LfLines<R> {
    inner: R,
    /// the last byte read was a CR, so an LF that follows belongs to it
    after_cr: bool,
    /// bytes handed out so far
    offset: u64,
    ends: std::rc::Rc<std::cell::RefCell<LineEnds>>,
}

/// Where the lines end that the CSV reader has not yet passed (its read-ahead, no more).
#[derive(Default)]
struct LineEnds {
    pending: std::collections::VecDeque<u64>,
    passed: u64,
}

impl LineEnds {
    /// The 1-based line of a record the CSV reader says starts at `offset`; offsets must not
    /// go back. The reader's offset may point at blank lines it skipped before the record.
    fn line_of(&mut self, mut offset: u64) -> u64 {
        while let Some(&e) = self.pending.front() {
            if e > offset {
                break;
            }
            // a line end before the record, or at its offset: a skipped blank line
            if e == offset {
                offset += 1;
            }
            self.pending.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

impl<R: Read> Read for LfLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            // in place: the output never outgrows the input
            let mut out = 0;
            for i in 0..n {
                let b = buf[i];
                if b == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = b == b'\r';
                let b = if b == b'\r' { b'\n' } else { b };
                if b == b'\n' {
                    self.ends
                        .borrow_mut()
                        .pending
                        .push_back(self.offset + out as u64);
                }
                buf[out] = b;
                out += 1;
            }
            self.offset += out as u64;
            if out > 0 {
                return Ok(out);
            }
        }
    }
}

fn whole(message: String) -> Vec<FieldError> {
    vec![FieldError::new(0, "file", ErrorKind::Invalid, message)]
}
