//! A small element tree of an iJw message, by namespace and local name, within bounds.

use super::*;

/// Deepest element nesting accepted (iJw messages are about 5 deep).
const MAX_DEPTH: usize = 24;
/// Most elements in one message.
const MAX_ELEMENTS: usize = 200_000;

/// One element: namespace, local name, text and children.
#[derive(Debug, Default, Clone)]
pub struct El {
    pub ns: String,
    pub name: String,
    pub text: String,
    pub children: Vec<El>,
}

impl El {
    pub fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// The trimmed text of a child, if present and not empty.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }
}

/// Parses XML into an element tree; errors say where the XML is broken.
pub fn parse_tree(xml: &str) -> Result<El, String> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<El> = Vec::new();
    let mut root: Option<El> = None;
    let mut count = 0usize;
    loop {
        let pos = reader.buffer_position();
        let (ns, ev) = reader
            .read_resolved_event()
            .map_err(|e| format!("XML near byte {pos}: {e}"))?;
        let ns_of = |r: &ResolveResult| match r {
            ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
            _ => String::new(),
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(format!("more than {MAX_ELEMENTS} elements"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                stack.push(El {
                    ns: ns_of(&ns),
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..El::default()
                });
                if matches!(ev, Event::Empty(_)) {
                    close(&mut stack, &mut root)?;
                }
            }
            Event::End(_) => close(&mut stack, &mut root)?,
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| format!("XML text: {e}"))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("the XML ends inside an element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

fn close(stack: &mut Vec<El>, root: &mut Option<El>) -> Result<(), String> {
    let el = stack.pop().ok_or("an end tag without a start tag")?;
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => {
            if root.is_some() {
                return Err("more than one root element".into());
            }
            *root = Some(el);
        }
    }
    Ok(())
}
