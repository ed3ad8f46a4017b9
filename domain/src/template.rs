//! Merge tags: a campaign's subject and HTML body as MiniJinja templates, compiled once per
//! campaign and rendered once per recipient, and the plain-text part that goes with the HTML.
//!
//! - `{{ email }}`, `{{ name }}`, `{{ unsubscribe_url }}` and each of the recipient's fields by
//!   its name (`{{ company }}`); filters such as `{{ company | default("there") }}`. A value a
//!   recipient lacks is an error (strict undefined), unless a filter or test handles it.
//! - The body is HTML-escaped by default; the subject is a header, so every control character
//!   a value brings (a line break above all) becomes a space.
//! - Sandboxed: no file or network access, and a fuel limit ends a runaway loop.
//! - The text part is derived from the HTML *template* once per campaign (tags kept as they
//!   are, the HTML turned into text around them) and rendered per recipient without escaping,
//!   when every tag just prints a value; with blocks (`{% if %}`, `{% for %}`) or `safe`
//!   values, each rendered HTML is converted instead (slower, same result).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::fields::RecipientFields;

const SUBJECT: &str = "subject";
const HTML: &str = "body.html";
const TEXT: &str = "body.txt";

/// Width of the text part's lines.
const TEXT_WIDTH: usize = 78;

/// Fuel for one rendering: far above what a newsletter needs, low enough that
/// `{% for i in range(10**9) %}` stops at once.
const FUEL: u64 = 2_000_000;

/// Whether `source` holds anything MiniJinja reads as a tag (`{{`, `{%` or `{#`).
pub fn has_tags(source: &str) -> bool {
    source.contains("{{") || source.contains("{%") || source.contains("{#")
}

/// Which part of the message a problem is in: the API's field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatePart {
    Subject,
    Body,
}

impl TemplatePart {
    pub fn field(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::Body => "body",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Subject => SUBJECT,
            Self::Body => HTML,
        }
    }
}

/// Why a template could not be compiled or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub part: TemplatePart,
    /// What MiniJinja said, with the line (`undefined value (line 2)`).
    pub message: String,
}

/// What one message is rendered with.
#[derive(Debug, Clone, Default)]
pub struct MessageVars {
    pub email: String,
    pub name: Option<String>,
    pub fields: RecipientFields,
    /// Empty when unsubscribe links are not configured.
    pub unsubscribe_url: String,
}

impl Object for MessageVars {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "email" => Some(Value::from(self.email.as_str())),
            "name" => self.name.as_deref().map(Value::from),
            // Made by Paloma (the public URL and a URL-safe token): not escaped, so that the
            // link reads as it is (`/`, not `&#x2f;`).
            "unsubscribe_url" => Some(Value::from_safe_string(self.unsubscribe_url.clone())),
            field => self.fields.get(field).map(Value::from),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}

/// One recipient's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMessage {
    pub subject: Arc<str>,
    pub html: Arc<str>,
    pub text: Arc<str>,
}

/// A campaign's message, ready to render for each recipient.
pub struct MessageTemplate(Kind);

enum Kind {
    /// No merge tags: every recipient gets this.
    Fixed(RenderedMessage),
    Tags {
        env: Box<Environment<'static>>,
        /// Whether `body.txt` (derived from the HTML template) exists.
        text_template: bool,
    },
}

impl std::fmt::Debug for MessageTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Kind::Fixed(_) => f.write_str("MessageTemplate::Fixed"),
            Kind::Tags { text_template, .. } => f
                .debug_struct("MessageTemplate::Tags")
                .field("text_template", text_template)
                .finish(),
        }
    }
}

impl MessageTemplate {
    /// A message without merge tags: sent as it is (the text part derived once).
    pub fn fixed(subject: &str, html: &str) -> Self {
        Self(Kind::Fixed(RenderedMessage {
            subject: clean_subject(subject).into(),
            html: html.into(),
            text: html_to_text(html).into(),
        }))
    }

    /// Compiles a subject and an HTML body with merge tags.
    pub fn compile(subject: &str, html: &str) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        // A body ends as it was written (MiniJinja drops a last newline by default).
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        env.set_auto_escape_callback(|name| {
            if name == HTML {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        for (part, source) in [(TemplatePart::Subject, subject), (TemplatePart::Body, html)] {
            env.add_template_owned(part.name(), source.to_owned())
                .map_err(|e| error(part, &e))?;
        }
        let text_template = derive_text_template(html)
            .is_some_and(|text| env.add_template_owned(TEXT, text).is_ok());
        Ok(Self(Kind::Tags {
            env: Box::new(env),
            text_template,
        }))
    }

    /// Compiles `subject` and `html` when either has tags, else takes them as they are.
    pub fn new(subject: &str, html: &str) -> Result<Self, TemplateError> {
        if has_tags(subject) || has_tags(html) {
            Self::compile(subject, html)
        } else {
            Ok(Self::fixed(subject, html))
        }
    }

    /// The names the templates read that no message provides by itself (the recipient's
    /// fields, and `name`), so those a recipient lacks can be found without rendering.
    pub fn variables(&self) -> BTreeSet<String> {
        let Kind::Tags { env, .. } = &self.0 else {
            return BTreeSet::new();
        };
        let globals: BTreeSet<&str> = env.globals().map(|(name, _)| name).collect();
        [SUBJECT, HTML]
            .iter()
            .filter_map(|name| env.get_template(name).ok())
            .flat_map(|t| t.undeclared_variables(false))
            .filter(|v| v != "email" && v != "unsubscribe_url" && !globals.contains(v.as_str()))
            .collect()
    }

    /// One recipient's message.
    pub fn render(&self, vars: MessageVars) -> Result<RenderedMessage, TemplateError> {
        let (env, text_template) = match &self.0 {
            Kind::Fixed(fixed) => return Ok(fixed.clone()),
            Kind::Tags { env, text_template } => (env, text_template),
        };
        let ctx = Value::from_object(vars);
        let render = |name: &str, part: TemplatePart| {
            env.get_template(name)
                .and_then(|t| t.render(&ctx))
                .map_err(|e| error(part, &e))
        };
        let subject = clean_subject(&render(SUBJECT, TemplatePart::Subject)?);
        let html = render(HTML, TemplatePart::Body)?;
        let text = if *text_template {
            render(TEXT, TemplatePart::Body).unwrap_or_else(|_| html_to_text(&html))
        } else {
            html_to_text(&html)
        };
        Ok(RenderedMessage {
            subject: subject.into(),
            html: html.into(),
            text: text.into(),
        })
    }
}

/// A MiniJinja error as one line: its description and, when known, the line.
fn error(part: TemplatePart, e: &minijinja::Error) -> TemplateError {
    let mut message = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_owned);
    if let Some(line) = e.line() {
        let _ = write!(message, " (line {line})");
    }
    TemplateError { part, message }
}

/// A subject as a header takes it: every control character a space, no space at the ends.
fn clean_subject(rendered: &str) -> String {
    let cleaned: String = rendered
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned.trim().to_owned()
}

/// The text part of an HTML body: paragraphs, lists and tables as text, links as numbered
/// references listed at the end (`[1]: https://...`), lines of at most 78 characters.
pub fn html_to_text(html: &str) -> String {
    html2text::config::plain()
        .no_link_wrapping()
        .string_from_read(html.as_bytes(), TEXT_WIDTH)
        .unwrap_or_default()
}

/// Private-use characters around a tag's number while the HTML is turned into text.
const MARK_OPEN: char = '\u{E000}';
const MARK_CLOSE: char = '\u{E001}';

/// The text part as a template: each tag of the HTML template replaced by a marker, the HTML
/// turned into text, each marker replaced by its tag again. Only for templates whose tags all
/// print text where they stand (`{{ ... }}`): a block (`{% if %}`, `{% for %}`) placed between
/// elements lands elsewhere in the text than its content, and a value marked `safe` is HTML,
/// so for those `None` (each rendered HTML is converted instead). `None` too when a tag is not
/// closed, or a marker did not come through whole.
fn derive_text_template(html: &str) -> Option<String> {
    if html.contains("{%") || html.contains("safe") {
        return None;
    }
    let mut marked = String::with_capacity(html.len());
    let mut tags: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('{').filter(|_| has_tags(rest)) {
        let closer = match rest.get(start..start + 2) {
            Some("{{") => "}}",
            Some("{%") => "%}",
            Some("{#") => "#}",
            _ => {
                marked.push_str(&rest[..=start]);
                rest = &rest[start + 1..];
                continue;
            }
        };
        let end = start + 2 + rest[start + 2..].find(closer)? + 2;
        marked.push_str(&rest[..start]);
        if closer != "#}" {
            let _ = write!(marked, "{MARK_OPEN}{}{MARK_CLOSE}", tags.len());
            tags.push(&rest[start..end]);
        }
        rest = &rest[end..];
    }
    marked.push_str(rest);
    let text = html_to_text(&marked);
    let mut out = String::with_capacity(text.len() + html.len() / 4);
    let mut restored = 0;
    let mut pieces = text.split(MARK_OPEN);
    out.push_str(pieces.next().unwrap_or_default());
    for piece in pieces {
        let (number, after) = piece.split_once(MARK_CLOSE)?;
        out.push_str(tags.get(number.parse::<usize>().ok()?)?);
        out.push_str(after);
        restored += 1;
    }
    // A block tag lost on the way (in an attribute html2text drops) would leave the template
    // unbalanced; an expression lost just is not in the text. Either way the caller compiles
    // the result and falls back when it does not.
    (restored <= tags.len()).then_some(out)
}

/// Recipients grouped by the fields they lack among `variables`, in order: rendering one of
/// each group is enough to know whether the template needs what they lack.
pub fn group_by_missing<'v, 'r, I>(
    variables: &'v BTreeSet<String>,
    recipients: I,
) -> BTreeMap<Vec<&'v str>, Vec<usize>>
where
    I: IntoIterator<Item = (usize, Option<&'r str>, &'r RecipientFields)>,
{
    let mut groups: BTreeMap<Vec<&str>, Vec<usize>> = BTreeMap::new();
    for (index, name, fields) in recipients {
        let missing: Vec<&str> = variables
            .iter()
            .map(String::as_str)
            .filter(|v| {
                if *v == "name" {
                    name.is_none()
                } else {
                    fields.get(v).is_none()
                }
            })
            .collect();
        if !missing.is_empty() {
            groups.entry(missing).or_default().push(index);
        }
    }
    groups
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
