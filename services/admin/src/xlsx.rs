//! A streaming XLSX writer: one worksheet of text cells, written row by row
//! into a ZIP archive whose entries are stored (not compressed) and sized by
//! data descriptors, so that no part of the file is held in memory while it
//! is sent. Only what a ledger needs: inline strings, no styles.

/// The ZIP archive being written: where each entry started and what it held.
#[derive(Default)]
pub(crate) struct Xlsx {
    offset: u32,
    entries: Vec<Entry>,
    sheet: Option<Open>,
}

struct Entry {
    name: &'static str,
    crc: u32,
    size: u32,
    offset: u32,
}

/// The worksheet entry while its rows are written.
struct Open {
    crc: crc32fast::Hasher,
    size: u32,
    offset: u32,
}

const SHEET: &str = "xl/worksheets/sheet1.xml";
/// Bit 3: sizes follow in a data descriptor; bit 11: names are UTF-8.
const FLAGS: u16 = 0x0808;
/// 1980-01-01, the earliest date a ZIP entry can carry.
const DOS_DATE: u16 = 0x0021;

const CONTENT_TYPES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
    r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#,
    r#"<Default Extension="xml" ContentType="application/xml"/>"#,
    r#"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
    r#"<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#,
    r#"</Types>"#
);
const ROOT_RELS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>"#,
    r#"</Relationships>"#
);
const WORKBOOK_RELS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#,
    r#"</Relationships>"#
);
const SHEET_START: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#
);
const SHEET_END: &str = "</sheetData></worksheet>";

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A local file header: with `FLAGS` the CRC and size follow the data in a
/// descriptor and are 0 here.
fn local_header(name: &str, flags: u16, crc: u32, size: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(30 + name.len());
    u32le(&mut h, 0x0403_4b50);
    u16le(&mut h, 20);
    u16le(&mut h, flags);
    u16le(&mut h, 0); // stored
    u16le(&mut h, 0);
    u16le(&mut h, DOS_DATE);
    u32le(&mut h, crc);
    u32le(&mut h, size);
    u32le(&mut h, size);
    u16le(&mut h, name.len() as u16);
    u16le(&mut h, 0);
    h.extend_from_slice(name.as_bytes());
    h
}

/// `text` escaped for XML character data, without the control characters
/// XML 1.0 cannot carry.
fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
}

impl Xlsx {
    /// The archive's first bytes: the package parts and the worksheet's start.
    pub(crate) fn start(&mut self) -> Vec<u8> {
        let workbook = concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" "#,
            r#"xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#,
            r#"<sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        );
        let mut out = Vec::new();
        for (name, body) in [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", ROOT_RELS),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        ] {
            out.extend(self.small(name, body.as_bytes()));
        }
        let header = local_header(SHEET, FLAGS, 0, 0);
        let offset = self.offset;
        self.offset += header.len() as u32;
        out.extend(header);
        self.sheet = Some(Open {
            crc: crc32fast::Hasher::new(),
            size: 0,
            offset,
        });
        out.extend(self.sheet_bytes(SHEET_START.as_bytes()));
        out
    }

    /// One whole small entry, its CRC and size known up front.
    fn small(&mut self, name: &'static str, body: &[u8]) -> Vec<u8> {
        let crc = crc32fast::hash(body);
        let mut out = local_header(name, 0x0800, crc, body.len() as u32);
        out.extend_from_slice(body);
        self.entries.push(Entry {
            name,
            crc,
            size: body.len() as u32,
            offset: self.offset,
        });
        self.offset += out.len() as u32;
        out
    }

    fn sheet_bytes(&mut self, bytes: &[u8]) -> Vec<u8> {
        let sheet = self.sheet.as_mut().expect("the worksheet is open");
        sheet.crc.update(bytes);
        sheet.size += bytes.len() as u32;
        self.offset += bytes.len() as u32;
        bytes.to_vec()
    }

    /// One row of text cells.
    pub(crate) fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
        let mut xml = String::from("<row>");
        for cell in cells {
            xml.push_str(r#"<c t="inlineStr"><is><t xml:space="preserve">"#);
            escape(cell, &mut xml);
            xml.push_str("</t></is></c>");
        }
        xml.push_str("</row>");
        self.sheet_bytes(xml.as_bytes())
    }

    /// The archive's last bytes: the worksheet's end, its data descriptor,
    /// the central directory.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let mut out = self.sheet_bytes(SHEET_END.as_bytes());
        let sheet = self.sheet.take().expect("the worksheet is open");
        let crc = sheet.crc.finalize();
        u32le(&mut out, 0x0807_4b50);
        u32le(&mut out, crc);
        u32le(&mut out, sheet.size);
        u32le(&mut out, sheet.size);
        self.offset += 16;
        self.entries.push(Entry {
            name: SHEET,
            crc,
            size: sheet.size,
            offset: sheet.offset,
        });
        let directory_at = self.offset;
        let mut directory = Vec::new();
        for e in &self.entries {
            let flags = if e.name == SHEET { FLAGS } else { 0x0800 };
            u32le(&mut directory, 0x0201_4b50);
            u16le(&mut directory, 20);
            u16le(&mut directory, 20);
            u16le(&mut directory, flags);
            u16le(&mut directory, 0);
            u16le(&mut directory, 0);
            u16le(&mut directory, DOS_DATE);
            u32le(&mut directory, e.crc);
            u32le(&mut directory, e.size);
            u32le(&mut directory, e.size);
            u16le(&mut directory, e.name.len() as u16);
            u16le(&mut directory, 0);
            u16le(&mut directory, 0);
            u16le(&mut directory, 0);
            u16le(&mut directory, 0);
            u32le(&mut directory, 0);
            u32le(&mut directory, e.offset);
            directory.extend_from_slice(e.name.as_bytes());
        }
        let directory_size = directory.len() as u32;
        u32le(&mut directory, 0x0605_4b50);
        u16le(&mut directory, 0);
        u16le(&mut directory, 0);
        u16le(&mut directory, self.entries.len() as u16);
        u16le(&mut directory, self.entries.len() as u16);
        u32le(&mut directory, directory_size);
        u32le(&mut directory, directory_at);
        u16le(&mut directory, 0);
        out.extend(directory);
        out
    }
}
